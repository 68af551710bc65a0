// The polyfill mechanism (src/merge/polyfill.ts): a prebuilt module with the
// lifted-module ABI stands in for an executable that cannot be lifted — here
// the demo image's dynamically linked /bin/greet. transform links it like a
// lifted module, mapping.json lists it as kind "polyfill", and `megalift run`
// finds it by the file's hash and starts it (no ELF segments: it lays out its
// own memory). A module that breaks the ABI is refused with its reason.
import binaryen from "binaryen";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUDGET_EXPORT, METADATA_SECTION, RESULT_HALT } from "../../src/lift/abi.js";
import { LIFTED_FEATURES } from "../../src/lift/emit/wasm.js";
import {
  INITIAL_MEMORY_PAGES,
  MAXIMUM_MEMORY_PAGES,
  stateGpr,
} from "../../src/lift/guest-layout.js";
import { parseMapping } from "../../src/merge/mapping.js";
import { checkPolyfillModule, loadPolyfills } from "../../src/merge/polyfill.js";
import { packageRoot } from "../../src/package-root.js";
import { transformImage, type TransformSummary } from "../../src/pipeline/transform.js";
import { openLayoutSource } from "../../src/oci/layout.js";
import { decodeMappingAnnotation } from "../../src/merge/mapping-annotation.js";
import { runCli } from "../helpers/cli.js";

const MESSAGE = "hello from a polyfill\n";
const DATA_AT = 0x2000;

/** A polyfill that writes MESSAGE with write(2) and exits 7 through exit_group(2). */
function helloPolyfill(exports: { run: boolean } = { run: true }): Uint8Array {
  const m = new binaryen.Module();
  try {
    m.setFeatures(LIFTED_FEATURES);
    const bytes = [...new TextEncoder().encode(MESSAGE)];
    // One passive segment (binaryen names segments by index): applied by the
    // polyfill itself, never at instantiation, which every program shares.
    m.setMemory(
      INITIAL_MEMORY_PAGES,
      MAXIMUM_MEMORY_PAGES,
      null,
      [{ data: Uint8Array.from(bytes), passive: true, offset: 0 }],
      false,
      false,
      "memory",
    );
    m.addMemoryImport("memory", "env", "memory");
    m.addFunctionImport("syscall", "kernel", "syscall", binaryen.none, binaryen.i32);
    m.addGlobal("budget", binaryen.i32, true, m.i32.const(0));
    m.addGlobalExport("budget", BUDGET_EXPORT);
    const gpr = (index: number, value: number): binaryen.ExpressionRef =>
      m.i64.store(0, 8, m.i32.const(stateGpr(index)), m.i64.const(BigInt(value)));
    const body = m.block(null, [
      m.memory.init("0", m.i32.const(DATA_AT), m.i32.const(0), m.i32.const(bytes.length)),
      gpr(0, 1), // write
      gpr(7, 1), // fd 1
      gpr(6, DATA_AT),
      gpr(2, bytes.length),
      m.drop(m.call("syscall", [], binaryen.i32)),
      gpr(0, 231), // exit_group
      gpr(7, 7),
      m.drop(m.call("syscall", [], binaryen.i32)),
      m.return(m.i32.const(RESULT_HALT)),
    ]);
    m.addFunction("run", binaryen.none, binaryen.i32, [], body);
    if (exports.run) m.addFunctionExport("run", "run");
    const metadata = {
      binary: "hello-polyfill",
      lifterVersion: "",
      base: 0x3000,
      entry: 0x2000,
      traps: [],
    };
    m.addCustomSection(METADATA_SECTION, new TextEncoder().encode(JSON.stringify(metadata)));
    if (!m.validate()) throw new Error("the test polyfill does not validate");
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}

let work: string;
let summary: TransformSummary;
let image: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "megalift-polyfill-"));
  const dir = join(work, "polyfills");
  mkdirSync(dir);
  writeFileSync(join(dir, "hello.wasm"), helloPolyfill());
  writeFileSync(
    join(dir, "polyfills.json"),
    JSON.stringify([{ name: "hello", module: "hello.wasm", paths: ["/bin/greet"] }]),
  );
  image = `oci:${join(work, "out")}:demo`;
  summary = await transformImage({
    source: `oci:${join(packageRoot(), "fixtures", "images", "demo")}:latest`,
    destination: image,
    cacheDir: join(work, "cache"),
    workers: 2,
    liftOptimize: 0,
    polyfills: loadPolyfills(dir),
  });
}, 600_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("polyfills", () => {
  it("replace the executable they name and are listed as kind polyfill", async () => {
    expect(summary.polyfilled.map((p) => [p.paths, p.polyfill])).toEqual([
      [["/bin/greet"], "hello"],
    ]);
    expect(summary.omitted.map((o) => o.paths[0])).toEqual(["/lib/libgreet.so.1"]);
    const source = await openLayoutSource({
      transport: "oci",
      dir: join(work, "out"),
      tag: "demo",
    });
    try {
      const manifest = await (await source.image()).manifest();
      const mapping = parseMapping(
        decodeMappingAnnotation(manifest.annotations?.["dev.megalift.mapping"] ?? ""),
      );
      const hash = summary.polyfilled[0]?.hash as string;
      expect(mapping.executables[hash]).toMatchObject({ kind: "polyfill", paths: ["/bin/greet"] });
    } finally {
      await source.close();
    }
  });

  it("run from the megabinary, found by the hash of the file they replace", () => {
    const cache = ["--cache-dir", join(work, "run-cache")];
    expect(runCli(["run", image, ...cache, "--", "greet"])).toEqual({
      status: 7,
      stdout: MESSAGE,
      stderr: "",
    });
  });

  it("are refused when they break the ABI, with the reason", () => {
    expect(() => checkPolyfillModule("broken", helloPolyfill({ run: false }))).toThrow(
      "polyfill broken: has no `run` function export",
    );
    expect(() => checkPolyfillModule("junk", new Uint8Array([1, 2, 3]))).toThrow(
      /^polyfill junk: not a valid WebAssembly module/,
    );
  });
});
