// The inputs stripped-binary function discovery consumes: DT_INIT/DT_FINI
// and the init/fini arrays with relocations applied (RELA, RELR and plain
// words), and code pointers found in data and relocations.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PF_X, PT_LOAD, parseElf64, type Elf64File } from "../../src/elf/index.js";
import { HOST_LIBC, readFixture, withoutSectionHeaders } from "./fixtures.js";

const hasLibc = existsSync(HOST_LIBC);

function symbolValues(elf: Elf64File): Map<string, bigint> {
  return new Map(elf.staticSymbols().map((s) => [s.name, s.value]));
}

function inCode(elf: Elf64File, address: bigint): boolean {
  return elf.segments.some(
    (s) =>
      s.type === PT_LOAD &&
      (s.flags & PF_X) !== 0 &&
      address >= s.vaddr &&
      address < s.vaddr + s.memsz,
  );
}

describe("init/fini", () => {
  it("resolves a PIE's arrays through RELA RELATIVE relocations", () => {
    const elf = parseElf64(readFixture("dynamic/greet"));
    const symbols = symbolValues(elf);
    expect(elf.initFini()).toEqual({
      init: symbols.get("_init"),
      fini: symbols.get("_fini"),
      preinitArray: [],
      initArray: [symbols.get("frame_dummy")],
      finiArray: [symbols.get("__do_global_dtors_aux")],
    });
  });

  it("resolves them through RELR, and without section headers", () => {
    const bytes = readFixture("relr/sort-search");
    const elf = parseElf64(bytes);
    const symbols = symbolValues(elf);
    expect(elf.initFini().initArray).toEqual([symbols.get("frame_dummy")]);
    expect(elf.initFini().finiArray).toEqual([symbols.get("__do_global_dtors_aux")]);
    expect(parseElf64(withoutSectionHeaders(bytes)).initFini()).toEqual(elf.initFini());
  });

  it("reads a static executable's arrays by section type, _init/_fini as .init/.fini", () => {
    for (const relative of ["glibc/hello", "musl/hello"]) {
      const elf = parseElf64(readFixture(relative));
      const symbols = symbolValues(elf);
      const initFini = elf.initFini();
      expect(initFini.init).toBe(symbols.get("_init"));
      expect(initFini.fini).toBe(symbols.get("_fini"));
      expect(initFini.initArray).toContain(symbols.get("frame_dummy"));
      expect([...initFini.initArray, ...initFini.finiArray].every((p) => inCode(elf, p))).toBe(
        true,
      );
    }
  });

  it.skipIf(!hasLibc)("resolves libc's init array (RELR) into its code", () => {
    const elf = parseElf64(new Uint8Array(readFileSync(HOST_LIBC)));
    const { initArray } = elf.initFini();
    expect(initArray.length).toBeGreaterThan(0);
    expect(initArray.every((p) => inCode(elf, p))).toBe(true);
  });
});

describe("code pointers", () => {
  it("finds the RELR-relocated comparator table and the init/fini arrays", () => {
    const elf = parseElf64(readFixture("relr/sort-search"));
    const symbols = symbolValues(elf);
    const pointers = elf.codePointers();
    const targets = new Set(pointers.map((p) => p.target));
    for (const name of ["cmp_int_asc", "cmp_int_desc", "frame_dummy", "__do_global_dtors_aux"]) {
      expect(targets.has(symbols.get(name)!), name).toBe(true);
    }
    const table = symbols.get("int_orders")!;
    expect(pointers.find((p) => p.at === table)).toEqual({
      at: table,
      target: symbols.get("cmp_int_asc"),
      source: "relocation",
    });
  });

  it("finds RELA-relocated pointers whose words are zero in the file", () => {
    const elf = parseElf64(readFixture("dynamic/greet"));
    const symbols = symbolValues(elf);
    const fromRelocations = elf.codePointers().filter((p) => p.source === "relocation");
    expect(fromRelocations.map((p) => p.target)).toContain(symbols.get("frame_dummy"));
  });

  it("finds pointers in a stripped static binary's data and IRELATIVE resolvers", () => {
    const elf = parseElf64(readFixture("stripped/hello"));
    const pointers = elf.codePointers();
    expect(pointers.length).toBeGreaterThan(100);
    expect(pointers.every((p) => inCode(elf, p.target))).toBe(true);
    const targets = new Set(pointers.map((p) => p.target));
    for (const r of elf.relocations()) expect(targets.has(r.addend)).toBe(true);
    for (const p of elf.initFini().initArray) expect(targets.has(p)).toBe(true);
    // Sorted by where they were found, each slot once.
    const ats = pointers.map((p) => p.at);
    expect(new Set(ats).size).toBe(ats.length);
    expect([...ats].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(ats);
  });

  it("returns nothing for a file without executable segments", () => {
    const bytes = readFixture("musl/hello");
    const view = new DataView(bytes.buffer);
    const elf = parseElf64(bytes);
    for (const s of elf.segments) view.setUint32(64 + s.index * 56 + 4, s.flags & ~PF_X, true);
    expect(parseElf64(bytes).codePointers()).toEqual([]);
  });
});
