// `megalift transform` end to end on the demo image (fixtures/images/demo):
// the static programs are lifted once each (hello-copy shares hello-musl's
// content), the #! script is kept with its interpreter's hash, the dynamic
// program and its library are omitted with reasons; the output is a signed
// index that `verify` accepts, its megabinary holds an export per program,
// and a second transform (all lifts from the cache) gives the same digests.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blake3Hex } from "../../src/hash/blake3.js";
import { packageRoot } from "../../src/package-root.js";
import { programExport, readProgramsSection } from "../../src/merge/link.js";
import { parseMapping, type Mapping } from "../../src/merge/mapping.js";
import { decodeMappingAnnotation } from "../../src/merge/mapping-annotation.js";
import { layoutBlobPath, openLayoutSource } from "../../src/oci/layout.js";
import { Digest } from "../../src/oci/digest.js";
import { generateSigningKeyPair, loadPublicKey } from "../../src/sign/keys.js";
import { localKeySigning } from "../../src/sign/signer.js";
import { verifyTransformedImage } from "../../src/sign/verify-transform.js";
import { transformImage, type TransformSummary } from "../../src/pipeline/transform.js";
import { runCli } from "../helpers/cli.js";

const root = packageRoot();
const hashOf = (fixture: string): string =>
  `blake3:${blake3Hex(readFileSync(join(root, "fixtures", "bin", fixture)))}`;
const MUSL_HELLO = hashOf("musl/hello");
const GLIBC_HELLO = hashOf("glibc/hello");
const keys = generateSigningKeyPair();

let work: string;
let first: TransformSummary;
let mapping: Mapping;

async function transformDemo(dest: string): Promise<TransformSummary> {
  return transformImage({
    source: `oci:${join(root, "fixtures", "images", "demo")}:latest`,
    destination: `oci:${dest}:demo`,
    signing: localKeySigning(keys.privateKeyPem),
    cacheDir: join(work, "cache"),
    workers: 2,
    liftOptimize: 0,
  });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "megalift-transform-"));
  first = await transformDemo(join(work, "out1"));
  const source = await openLayoutSource({ transport: "oci", dir: join(work, "out1"), tag: "demo" });
  try {
    const manifest = await (await source.image()).manifest();
    mapping = parseMapping(
      decodeMappingAnnotation(manifest.annotations?.["dev.megalift.mapping"] ?? ""),
    );
  } finally {
    await source.close();
  }
}, 600_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("megalift transform of the demo image", () => {
  it("lifts each distinct static program once and keeps the script", () => {
    expect(first.lifted.map((l) => l.hash).sort()).toEqual([GLIBC_HELLO, MUSL_HELLO].sort());
    expect(mapping.executables[MUSL_HELLO]).toEqual({
      kind: "elf",
      export: programExport(MUSL_HELLO),
      paths: ["/bin/hello-copy", "/bin/hello-musl"],
    });
    const script = Object.values(mapping.executables).find((e) => e.kind === "script");
    // /bin/hello.sh runs #!/bin/sh, a symlink to hello-musl: found by the target's hash.
    expect(script).toEqual({ kind: "script", interpreter: MUSL_HELLO, paths: ["/bin/hello.sh"] });
  });

  it("omits the dynamic program and the shared library with their reasons", () => {
    const reasons = Object.fromEntries(mapping.omitted.map((o) => [o.paths[0], o.reason]));
    expect(reasons["/bin/greet"]).toMatch(
      /^dynamically linked \(interpreter .*\): dynamic linking/,
    );
    expect(reasons["/lib/libgreet.so.1"]).toMatch(/^shared library/);
    expect(mapping.omitted).toHaveLength(2);
  });

  it("writes a signed image that verify accepts, whose megabinary enters each program", async () => {
    const source = await openLayoutSource({
      transport: "oci",
      dir: join(work, "out1"),
      tag: "demo",
    });
    try {
      const report = await verifyTransformedImage(source, loadPublicKey(keys.publicKeyPem));
      expect(report.manifest).toBe(first.manifestDigest);
      const resolved = await source.resolve();
      expect(resolved.kind).toBe("index");
      if (resolved.kind !== "index") return;
      const platforms = (await resolved.index.indexManifest()).manifests.map(
        (m) => `${m.platform?.os}/${m.platform?.architecture}`,
      );
      expect(platforms).toEqual(["linux/amd64", "wasip1/wasm"]);
      const wasmImage = await source.image({ os: "wasip1", architecture: "wasm" });
      const [layer] = (await wasmImage.manifest()).layers;
      const bytes = readFileSync(
        layoutBlobPath(join(work, "out1"), Digest.parse(layer?.digest ?? "")),
      );
      const module = await WebAssembly.compile(bytes);
      const exports = WebAssembly.Module.exports(module).map((e) => e.name);
      expect(exports).toContain(programExport(MUSL_HELLO));
      expect(exports).toContain(programExport(GLIBC_HELLO));
      expect(readProgramsSection(module).programs.map((p) => p.hash)).toEqual(
        [GLIBC_HELLO, MUSL_HELLO].sort(),
      );
    } finally {
      await source.close();
    }
  });

  it("runs programs from the megabinary with `megalift run`, and never an unmapped one", () => {
    const image = `oci:${join(work, "out1")}:demo`;
    const cache = ["--cache-dir", join(work, "cache")];
    const hello = runCli(["run", image, ...cache, "--", "/bin/hello-musl"]);
    const native = spawnSync(join(root, "fixtures", "bin", "musl", "hello"), { encoding: "utf8" });
    expect(hello).toMatchObject({ status: native.status, stdout: native.stdout });
    // Found through PATH (the image config sets PATH=/bin) and by the copy's hash.
    expect(runCli(["run", image, ...cache, "--", "hello-copy"]).stdout).toBe(native.stdout);
    const greet = runCli(["run", image, ...cache, "--", "greet"]);
    expect(greet.status).toBe(126);
    expect(greet.stderr).toMatch(
      /^megalift: \/bin\/greet: blake3:[0-9a-f]{64} is not in the megabinary \(omitted: dynamically linked/,
    );
    expect(greet.stdout).toBe("");
  }, 120_000);

  it("gives the same digests again, from the lift cache", async () => {
    const second = await transformDemo(join(work, "out2"));
    expect(second.lifted.every((l) => l.fromCache)).toBe(true);
    expect(second.indexDigest).toBe(first.indexDigest);
    expect(second.manifestDigest).toBe(first.manifestDigest);
    expect(second.megabinaryBytes).toBe(first.megabinaryBytes);
  }, 600_000);
});
