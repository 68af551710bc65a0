// Relocations: RELA (DT_RELA, DT_JMPREL), RELR (DT_RELR, expanded to
// RELATIVE) and a static binary's IRELATIVE table, compared entry by entry
// with `readelf -rW`; RELR decoding on hand-made words; the same tables
// found with the section headers gone.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  R_X86_64_IRELATIVE,
  R_X86_64_RELATIVE,
  decodeRelr,
  encodeRelr,
  parseElf64,
  relocationTarget,
  versionedName,
  type Elf64File,
  type Relocation,
} from "../../src/elf/index.js";
import { isMegaliftError } from "../../src/errors.js";
import {
  HOST_LIBC,
  allElfFixtures,
  fixturePath,
  readFixture,
  withoutSectionHeaders,
} from "./fixtures.js";
import { readelfRelocations, type ReadelfRelocation } from "./readelf.js";

const hasLibc = existsSync(HOST_LIBC);

/** readelf lists RELR offsets only; compare those with addend 0. */
function asReadelf(r: Relocation): ReadelfRelocation {
  return {
    offset: r.offset,
    type: r.typeName,
    symbol: r.symbol === undefined ? "" : versionedName(r.symbol),
    addend: r.source === "relr" ? 0n : r.addend,
  };
}

/** Our relocations grouped the way readelf names the sections holding them. */
function bySection(elf: Elf64File): Map<string, ReadelfRelocation[]> {
  const names: Record<Relocation["source"], string> = {
    rela: ".rela.dyn",
    jmprel: ".rela.plt",
    relr: ".relr.dyn",
    iplt: ".rela.plt",
  };
  const out = new Map<string, ReadelfRelocation[]>();
  for (const r of elf.relocations()) {
    const name = names[r.source];
    out.set(name, [...(out.get(name) ?? []), asReadelf(r)]);
  }
  return out;
}

describe("relocations agree with readelf -rW", () => {
  const files = [...allElfFixtures().map(fixturePath), ...(hasLibc ? [HOST_LIBC] : [])];
  for (const path of files) {
    it(path.replace(/.*fixtures\/bin\//, ""), () => {
      const elf = parseElf64(new Uint8Array(readFileSync(path)));
      expect(bySection(elf)).toEqual(readelfRelocations(path));
    });
  }
});

describe("relocations", () => {
  it("decodes the PIE's RELATIVE, GLOB_DAT and JUMP_SLOT entries with their symbols", () => {
    const elf = parseElf64(readFixture("dynamic/greet"));
    const relocations = elf.relocations();
    const relative = relocations.filter((r) => r.type === R_X86_64_RELATIVE);
    expect(relative.length).toBeGreaterThan(0);
    expect(relative.every((r) => r.source === "rela" && r.symbol === undefined)).toBe(true);
    const slot = relocations.find((r) => r.typeName === "R_X86_64_JUMP_SLOT");
    expect(slot?.source).toBe("jmprel");
    expect(slot?.symbol?.name).toBeTruthy();
    expect(relocations.some((r) => r.typeName === "R_X86_64_GLOB_DAT")).toBe(true);
    // RELATIVE targets are their addends; imports have no target the file can decide.
    expect(relocationTarget(relative[0]!)).toBe(relative[0]!.addend);
    expect(relocationTarget(slot!)).toBeUndefined();
  });

  it("expands RELR into RELATIVE relocations whose addend is the stored word", () => {
    const elf = parseElf64(readFixture("relr/sort-search"));
    const relr = elf.relocations().filter((r) => r.source === "relr");
    // The comparator table int_orders = { cmp_int_asc, cmp_int_desc } is relocated through RELR.
    const symbols = new Map(elf.staticSymbols().map((s) => [s.name, s.value]));
    const table = symbols.get("int_orders")!;
    const slots = relr.filter((r) => r.offset === table || r.offset === table + 8n);
    expect(slots.map((r) => r.addend)).toEqual([
      symbols.get("cmp_int_asc"),
      symbols.get("cmp_int_desc"),
    ]);
    expect(relr.every((r) => r.type === R_X86_64_RELATIVE && r.symbolIndex === 0)).toBe(true);
  });

  it("finds a static binary's IRELATIVE relocations (ifunc resolvers)", () => {
    for (const relative of ["glibc/hello", "stripped/hello"]) {
      const relocations = parseElf64(readFixture(relative)).relocations();
      expect(relocations.length).toBeGreaterThan(0);
      expect(relocations.every((r) => r.type === R_X86_64_IRELATIVE && r.source === "iplt")).toBe(
        true,
      );
    }
    expect(parseElf64(readFixture("musl/hello")).relocations()).toEqual([]);
  });

  it("finds the same relocations without section headers", () => {
    const files = ["dynamic/greet", "dynamic/libgreet.so.1", "relr/sort-search"].map(readFixture);
    if (hasLibc) files.push(new Uint8Array(readFileSync(HOST_LIBC)));
    for (const bytes of files) {
      const expected = parseElf64(bytes).relocations();
      expect(parseElf64(withoutSectionHeaders(bytes)).relocations()).toEqual(expected);
    }
  });
});

describe("RELR decoding (hand-made words)", () => {
  it("expands address and bitmap entries", () => {
    const words = [
      0x1000n, // relocate 0x1000; next base 0x1008
      (1n << 1n) | (1n << 3n) | 1n, // bits 1 and 3: 0x1008 and 0x1018; base += 63 * 8
      (1n << 63n) | 1n, // bit 63: base 0x1200 + 62 * 8 = 0x13f0
      0x5000n,
      0x1n, // an empty bitmap only moves the base
      (1n << 1n) | 1n, // 0x5008 + 63 * 8 = 0x5200
    ];
    expect(decodeRelr(words)).toEqual([0x1000n, 0x1008n, 0x1018n, 0x13f0n, 0x5000n, 0x5200n]);
  });

  it("round-trips through encodeRelr", () => {
    const addresses: bigint[] = [];
    for (let a = 0x4000n; a < 0x6000n; a += 8n) if ((a * 7n) % 5n !== 0n) addresses.push(a);
    addresses.push(0x9000n, 0x9008n, 0x12345678n);
    const words = encodeRelr(addresses);
    expect(words.length).toBeLessThan(addresses.length / 8);
    expect(decodeRelr(words)).toEqual(addresses);
  });

  it("rejects a bitmap before any address", () => {
    try {
      decodeRelr([0x3n], 0x600);
      expect.unreachable();
    } catch (err) {
      expect(isMegaliftError(err, "ELF_MALFORMED")).toBe(true);
      expect(String(err)).toMatch(/bitmap entry before any address entry at offset 1536$/);
    }
  });
});
