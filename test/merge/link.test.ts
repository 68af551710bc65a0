// Linking lifted modules into one megabinary: section relabelling, one shared
// memory, an `elf_<hash>` export per program, the programs section, the same
// bytes for the same inputs. The modules here have the shape the lifter
// emits (env.memory, kernel.* imports, a `run` export, a megalift.lift
// section) but tiny bodies, so the test is about linking, not lifting.
import binaryen from "binaryen";
import { describe, expect, it } from "vitest";
import { METADATA_SECTION, type LiftMetadata } from "../../src/lift/abi.js";
import { INITIAL_MEMORY_PAGES, MAXIMUM_MEMORY_PAGES } from "../../src/lift/guest-layout.js";
import {
  linkMegabinary,
  programExport,
  programSymbol,
  readProgramsSection,
} from "../../src/merge/link.js";
import {
  appendCustomSection,
  readExports,
  readImports,
  readSections,
  relabelModule,
} from "../../src/merge/wasm-sections.js";

const HASH_A = `blake3:${"a".repeat(64)}`;
const HASH_B = `blake3:${"b".repeat(64)}`;

/** A lifted-shaped module whose `run` stores `marker` at address 64 and returns it. */
function liftedLike(name: string, marker: number): Uint8Array {
  const m = new binaryen.Module();
  try {
    m.setFeatures(
      binaryen.Features.MVP | binaryen.Features.SIMD128 | binaryen.Features.MutableGlobals,
    );
    m.setMemory(INITIAL_MEMORY_PAGES, MAXIMUM_MEMORY_PAGES, null, [], false, false, "memory");
    m.addMemoryImport("memory", "env", "memory");
    m.addFunctionImport("syscall", "kernel", "syscall", binaryen.none, binaryen.i32);
    m.addGlobal("call_depth", binaryen.i32, true, m.i32.const(0));
    m.addFunction(
      "run",
      binaryen.none,
      binaryen.i32,
      [],
      m.block(null, [
        m.global.set(
          "call_depth",
          m.i32.add(m.global.get("call_depth", binaryen.i32), m.i32.const(1)),
        ),
        m.i32.store(0, 4, m.i32.const(64), m.i32.const(marker)),
        m.drop(m.call("syscall", [], binaryen.i32)),
        m.return(m.i32.const(marker)),
      ]),
    );
    m.addFunctionExport("run", "run");
    m.addGlobal("budget", binaryen.i32, true, m.i32.const(0));
    m.addGlobalExport("budget", "budget");
    const metadata: LiftMetadata = {
      binary: name,
      lifterVersion: "test",
      base: 0,
      entry: 0x401000 + marker,
      traps: [`${name}: 0x401000: unsupported instruction ud2`],
    };
    m.addCustomSection(METADATA_SECTION, new TextEncoder().encode(JSON.stringify(metadata)));
    if (!m.validate()) throw new Error("test module does not validate");
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}

function input(hash: string, name: string, marker: number) {
  const wasm = liftedLike(name, marker);
  const metadata: LiftMetadata = {
    binary: name,
    lifterVersion: "test",
    base: 0,
    entry: 0x401000 + marker,
    traps: [`${name}: 0x401000: unsupported instruction ud2`],
  };
  return { hash, wasm, metadata };
}

describe("wasm sections", () => {
  it("renames exports, redirects imports and drops custom sections, keeping the rest", () => {
    const original = liftedLike("/bin/a", 1);
    const relabelled = relabelModule(original, {
      exportName: (e) => (e.name === "run" ? "elf_x" : undefined),
      importModule: (i) => (i.name === "memory" ? "link" : i.module),
    });
    const sections = readSections(relabelled);
    expect(sections.some((s) => s.id === 0)).toBe(false);
    const exports = readExports(sections.find((s) => s.id === 7) as (typeof sections)[number]);
    expect(exports.map((e) => e.name)).toEqual(["elf_x"]);
    const imports = readImports(sections.find((s) => s.id === 2) as (typeof sections)[number]);
    expect(imports.map((i) => `${i.module}.${i.name}`)).toEqual(["link.memory", "kernel.syscall"]);
    const module = new WebAssembly.Module(relabelled);
    expect(WebAssembly.Module.exports(module)).toEqual([{ name: "elf_x", kind: "function" }]);
    // The code section is copied byte for byte.
    const code = (bytes: Uint8Array) => readSections(bytes).find((s) => s.id === 10)?.body;
    expect(Buffer.from(code(relabelled) as Uint8Array)).toEqual(
      Buffer.from(code(original) as Uint8Array),
    );
  });

  it("appends a custom section the engine reads back", () => {
    const bytes = appendCustomSection(liftedLike("/bin/a", 1), "x.y", new Uint8Array([1, 2, 3]));
    const [section] = WebAssembly.Module.customSections(new WebAssembly.Module(bytes), "x.y");
    expect([...new Uint8Array(section as ArrayBuffer)]).toEqual([1, 2, 3]);
  });

  it("rejects bytes that are not a wasm module, and truncated sections", () => {
    expect(() => readSections(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(/bad magic/);
    const good = liftedLike("/bin/a", 1);
    expect(() => readSections(good.subarray(0, good.length - 3))).toThrow(/past the end/);
  });
});

describe("linkMegabinary", () => {
  it("links programs into one module with one memory and an export per hash", async () => {
    const { megabinary, programs } = await linkMegabinary([
      input(HASH_B, "/bin/b", 2),
      input(HASH_A, "/bin/a", 1),
    ]);
    expect(programs.map((p) => p.hash)).toEqual([HASH_A, HASH_B]);
    expect(programs[0]?.traps).toEqual(["0x401000: unsupported instruction ud2"]);
    const module = new WebAssembly.Module(megabinary);
    const imports = WebAssembly.Module.imports(module);
    expect(imports.filter((i) => i.kind === "memory")).toEqual([
      { module: "env", name: "memory", kind: "memory" },
    ]);
    const names = WebAssembly.Module.exports(module).map((e) => e.name);
    expect(names).toContain(programExport(HASH_A));
    expect(names).toContain(programExport(HASH_B));
    expect(names).not.toContain("run");
    expect(names).toContain(programSymbol(HASH_A, "budget"));
    expect(readProgramsSection(module).programs.map((p) => p.entry)).toEqual([0x401001, 0x401002]);

    const memory = new WebAssembly.Memory({
      initial: INITIAL_MEMORY_PAGES,
      maximum: MAXIMUM_MEMORY_PAGES,
    });
    let syscalls = 0;
    const instance = new WebAssembly.Instance(module, {
      env: { memory },
      kernel: { syscall: () => ++syscalls },
    });
    const view = new DataView(memory.buffer);
    const enter = (hash: string) => (instance.exports[programExport(hash)] as () => number)();
    expect(enter(HASH_B)).toBe(2);
    expect(view.getInt32(64, true)).toBe(2);
    expect(enter(HASH_A)).toBe(1);
    expect(view.getInt32(64, true)).toBe(1);
    expect(syscalls).toBe(2);
  }, 120_000);

  it("gives the same bytes for the same programs in any order", async () => {
    const a = input(HASH_A, "/bin/a", 1);
    const b = input(HASH_B, "/usr/bin/b", 2);
    const first = await linkMegabinary([a, b]);
    // The same content lifted under another path (another image, an exec):
    // trap texts lose the file name, so which path lifted a hash first does not matter.
    const second = await linkMegabinary([b, input(HASH_A, "/sbin/other-path", 1)]);
    expect(Buffer.from(second.megabinary).equals(Buffer.from(first.megabinary))).toBe(true);
  }, 120_000);

  it("refuses a program listed twice", async () => {
    await expect(
      linkMegabinary([input(HASH_A, "/bin/a", 1), input(HASH_A, "/bin/a2", 1)]),
    ).rejects.toMatchObject({ code: "LINK_FAILED" });
  });

  it("links an image with no programs into a module holding just the memory", async () => {
    const { megabinary } = await linkMegabinary([]);
    const module = new WebAssembly.Module(megabinary);
    expect(readProgramsSection(module).programs).toEqual([]);
  });
});
