// Static and dynamic symbol tables with GNU versions, checked entry by entry
// against `readelf -sW` on every fixture and the host's libc.so.6; and the
// dynamic table found without section headers through DT_HASH and DT_GNU_HASH.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  DT_HASH,
  SHN_ABS,
  SHN_COMMON,
  SHN_UNDEF,
  STT_FUNC,
  parseElf64,
  versionedName,
  type ElfSymbol,
} from "../../src/elf/index.js";
import {
  HOST_LIBC,
  allElfFixtures,
  fixturePath,
  readFixture,
  withoutSectionHeaders,
} from "./fixtures.js";
import { readelfSymbols, type ReadelfSymbol } from "./readelf.js";

const hasLibc = existsSync(HOST_LIBC);
const readLibc = (): Uint8Array => new Uint8Array(readFileSync(HOST_LIBC));

/** A symbol in readelf's terms: its Ndx column and its name with "(n)" for a required version. */
function asReadelf(symbol: ElfSymbol): ReadelfSymbol {
  const ndx =
    symbol.sectionIndex === SHN_UNDEF
      ? "UND"
      : symbol.sectionIndex === SHN_ABS
        ? "ABS"
        : symbol.sectionIndex === SHN_COMMON
          ? "COM"
          : String(symbol.sectionIndex);
  const required = symbol.version !== undefined && !symbol.version.defined;
  return {
    num: symbol.index,
    value: symbol.value,
    size: symbol.size,
    type: symbol.typeName,
    bind: symbol.bindName,
    vis: symbol.visibilityName,
    ndx,
    name: versionedName(symbol) + (required ? ` (${symbol.version?.index})` : ""),
  };
}

describe("symbol tables agree with readelf -sW", () => {
  const files = [...allElfFixtures().map(fixturePath), ...(hasLibc ? [HOST_LIBC] : [])];
  for (const path of files) {
    it(path.replace(/.*fixtures\/bin\//, ""), () => {
      const elf = parseElf64(new Uint8Array(readFileSync(path)));
      const expected = readelfSymbols(path);
      expect(elf.staticSymbols().map(asReadelf)).toEqual(expected.get(".symtab") ?? []);
      expect(elf.dynamicSymbols().map(asReadelf)).toEqual(expected.get(".dynsym") ?? []);
    });
  }
});

describe("symbols", () => {
  it("names types, bindings and the defining section", () => {
    const elf = parseElf64(readFixture("dynamic/libgreet.so.1"));
    const byName = new Map(elf.dynamicSymbols().map((s) => [s.name, s]));
    expect(byName.get("greet_format")).toMatchObject({
      type: STT_FUNC,
      typeName: "FUNC",
      bindName: "GLOBAL",
      visibilityName: "DEFAULT",
    });
    expect(byName.get("greet_version")?.typeName).toBe("OBJECT");
    expect(elf.dynamicSymbols()[0]?.name).toBe("");
    const glibc = parseElf64(readFixture("glibc/hello")).staticSymbols();
    expect(glibc.some((s) => s.typeName === "IFUNC")).toBe(true);
    expect(glibc.some((s) => s.typeName === "TLS")).toBe(true);
  });

  it("attaches GNU versions: required by the PIE, defined by libc", () => {
    const greet = parseElf64(readFixture("dynamic/greet")).dynamicSymbols();
    const puts = greet.find((s) => s.name === "puts");
    expect(puts?.version).toEqual({
      index: puts?.version?.index,
      name: "GLIBC_2.2.5",
      hidden: false,
      defined: false,
      file: "libc.so.6",
    });
    expect(versionedName(puts!)).toBe("puts@GLIBC_2.2.5");
    expect(greet.find((s) => s.name === "greet_format")?.version).toBeUndefined();
  });

  it.skipIf(!hasLibc)(
    "tells libc's default memcpy@@GLIBC_2.14 from the old memcpy@GLIBC_2.2.5",
    () => {
      const names = parseElf64(readLibc()).dynamicSymbols().map(versionedName);
      expect(names).toContain("memcpy@@GLIBC_2.14");
      expect(names).toContain("memcpy@GLIBC_2.2.5");
    },
  );

  it("reads the dynamic table without section headers (DT_GNU_HASH)", () => {
    for (const relative of ["dynamic/greet", "dynamic/libgreet.so.1", "relr/sort-search"]) {
      const bytes = readFixture(relative);
      const stripped = parseElf64(withoutSectionHeaders(bytes));
      expect(stripped.sections).toEqual([]);
      expect(stripped.dynsym).toBeUndefined();
      expect(stripped.dynamicSymbols()).toEqual(parseElf64(bytes).dynamicSymbols());
      expect(stripped.staticSymbols()).toEqual([]);
    }
  });

  it.skipIf(!hasLibc)("sizes libc's table from DT_HASH and from DT_GNU_HASH alike", () => {
    const bytes = readLibc();
    const elf = parseElf64(bytes);
    const expected = elf.dynamicSymbols();
    const noSections = withoutSectionHeaders(bytes);
    expect(parseElf64(noSections).dynamicSymbols()).toEqual(expected); // DT_HASH first
    // Hide DT_HASH (retag it DT_DEBUG) so the count must come from the GNU hash chains.
    const hashIndex = elf.dynamic!.entries.findIndex((e) => e.tag === DT_HASH);
    new DataView(noSections.buffer).setBigInt64(elf.dynamic!.offset + hashIndex * 16, 21n, true);
    const gnuOnly = parseElf64(noSections);
    expect(gnuOnly.dynamic?.entries.some((e) => e.tag === DT_HASH)).toBe(false);
    expect(gnuOnly.dynamicSymbols()).toEqual(expected);
  });

  it("caches each table: the same frozen array on every call", () => {
    const elf = parseElf64(readFixture("dynamic/greet"));
    expect(elf.dynamicSymbols()).toBe(elf.dynamicSymbols());
    expect(Object.isFrozen(elf.staticSymbols())).toBe(true);
    expect(Object.isFrozen(elf.staticSymbols()[1])).toBe(true);
  });
});
