// parseElf over the fixture binaries: known facts about each kind of file,
// then a cross-check of headers, segments, sections and the dynamic section
// against binutils' readelf for every fixture.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  DF_1_PIE,
  DT_NEEDED,
  EM_X86_64,
  ET_DYN,
  ET_EXEC,
  PT_DYNAMIC,
  PT_INTERP,
  PT_LOAD,
  PT_TLS,
  findSection,
  parseElf,
  parseElf64,
  readSymbols,
  vaddrToOffset,
  type Elf64File,
} from "../../src/elf/index.js";
import { allElfFixtures, fixturePath, readFixture } from "./fixtures.js";

const parse64 = (relative: string): Elf64File => parseElf64(readFixture(relative));

describe("parseElf on the fixtures", () => {
  it("reads a static glibc executable (ET_EXEC, no PT_INTERP, no PT_DYNAMIC, TLS)", () => {
    const elf = parse64("glibc/hello");
    expect(elf.elfClass).toBe(64);
    expect(elf.header.ident.littleEndian).toBe(true);
    expect(elf.header.type).toBe(ET_EXEC);
    expect(elf.header.machine).toBe(EM_X86_64);
    expect(elf.header.phoff).toBe(64);
    expect(elf.header.phentsize).toBe(56);
    expect(elf.header.shentsize).toBe(64);
    expect(elf.interpreter).toBeUndefined();
    expect(elf.dynamic).toBeUndefined();
    expect(elf.segments.some((s) => s.type === PT_TLS)).toBe(true);
    // Non-PIE x86-64 executables are linked at 0x400000 (psABI default base).
    const firstLoad = elf.segments.find((s) => s.type === PT_LOAD);
    expect(firstLoad?.vaddr).toBe(0x400000n);
    expect(elf.header.entry > 0x400000n).toBe(true);
    expect(findSection(elf.sections, ".text")).toBeDefined();
    expect(elf.sections[0]?.type).toBe(0);
    expect(elf.symtab?.count).toBeGreaterThan(100);
  });

  it("reads a static musl executable", () => {
    const elf = parse64("musl/hello");
    expect(elf.header.type).toBe(ET_EXEC);
    expect(elf.interpreter).toBeUndefined();
    expect(elf.dynamic).toBeUndefined();
    expect(elf.symtab).toBeDefined();
    const names = readSymbols(elf.reader, elf.sections, elf.symtab!).map((s) => s.name);
    expect(names).toContain("main");
    expect(names).toContain("puts");
  });

  it("reads the dynamic PIE: PT_INTERP, DT_NEEDED in order, DT_RUNPATH, DF_1_PIE", () => {
    const elf = parse64("dynamic/greet");
    expect(elf.header.type).toBe(ET_DYN);
    expect(elf.interpreter).toBe("/lib64/ld-linux-x86-64.so.2");
    expect(elf.dynamic?.needed).toEqual(["libgreet.so.1", "libc.so.6"]);
    expect(elf.dynamic?.runpath).toBe("$ORIGIN");
    expect(elf.dynamic?.soname).toBeUndefined();
    expect((elf.dynamic?.flags1 ?? 0n) & DF_1_PIE).toBe(DF_1_PIE);
    expect(elf.dynamic?.entries.filter((e) => e.tag === DT_NEEDED)).toHaveLength(2);
    expect(elf.segments.find((s) => s.type === PT_LOAD)?.vaddr).toBe(0n);
    expect(elf.dynsym?.count).toBeGreaterThan(0);
    const dynsym = readSymbols(elf.reader, elf.sections, elf.dynsym!).map((s) => s.name);
    expect(dynsym).toContain("greet_format");
  });

  it("reads the shared library's SONAME", () => {
    const elf = parse64("dynamic/libgreet.so.1");
    expect(elf.header.type).toBe(ET_DYN);
    expect(elf.interpreter).toBeUndefined();
    expect(elf.dynamic?.soname).toBe("libgreet.so.1");
    expect(elf.dynamic?.needed).toEqual(["libc.so.6"]);
    expect((elf.dynamic?.flags1 ?? 0n) & DF_1_PIE).toBe(0n);
  });

  it("reads a static PIE: PT_DYNAMIC without PT_INTERP or DT_NEEDED", () => {
    const elf = parse64("static-pie/hello-nolibc");
    expect(elf.header.type).toBe(ET_DYN);
    expect(elf.interpreter).toBeUndefined();
    expect(elf.segments.some((s) => s.type === PT_DYNAMIC)).toBe(true);
    expect(elf.dynamic?.needed).toEqual([]);
    expect((elf.dynamic?.flags1 ?? 0n) & DF_1_PIE).toBe(DF_1_PIE);
  });

  it("tells the stripped copy from the original by .symtab", () => {
    const original = parse64("glibc/hello");
    const stripped = parse64("stripped/hello");
    expect(original.symtab).toBeDefined();
    expect(findSection(original.sections, ".symtab")).toBeDefined();
    expect(stripped.symtab).toBeUndefined();
    expect(findSection(stripped.sections, ".symtab")).toBeUndefined();
    expect(stripped.header.entry).toBe(original.header.entry);
  });

  it("translates DT_STRTAB's address to the .dynstr section's offset", () => {
    const elf = parse64("dynamic/greet");
    const dynstr = findSection(elf.sections, ".dynstr")!;
    const strtab = elf.dynamic!.entries.find((e) => e.tag === 5)!.value;
    expect(strtab).toBe(dynstr.addr);
    expect(vaddrToOffset(elf.segments, strtab, dynstr.size)).toBe(dynstr.offset);
    expect(vaddrToOffset(elf.segments, 0xffff_ffffn)).toBeUndefined();
  });

  it("returns frozen values", () => {
    const elf = parse64("dynamic/greet");
    expect(Object.isFrozen(elf)).toBe(true);
    expect(Object.isFrozen(elf.segments)).toBe(true);
    expect(Object.isFrozen(elf.sections[1])).toBe(true);
    expect(Object.isFrozen(elf.dynamic?.needed)).toBe(true);
  });

  it("parses every fixture", () => {
    for (const relative of allElfFixtures()) {
      const elf = parseElf(readFixture(relative));
      expect(elf.elfClass, relative).toBe(64);
    }
  });
});

describe("parseElf agrees with readelf", () => {
  for (const relative of allElfFixtures()) {
    it(relative, () => {
      const elf = parse64(relative);
      const expected = readelf(fixturePath(relative));
      expect(`0x${elf.header.entry.toString(16)}`).toBe(expected.entry);
      expect(elf.header.type === ET_EXEC ? "EXEC" : "DYN").toBe(expected.type);
      expect(
        elf.sections.slice(1).map((s) => ({
          name: s.name,
          offset: s.offset,
          size: s.size,
          addr: s.addr,
        })),
      ).toEqual(expected.sections);
      expect(
        elf.segments.map((s) => ({
          offset: s.offset,
          vaddr: s.vaddr,
          filesz: s.filesz,
          memsz: s.memsz,
        })),
      ).toEqual(expected.segments);
      expect(elf.interpreter).toBe(expected.interpreter);
      expect(elf.dynamic?.needed ?? []).toEqual(expected.needed);
      expect(elf.dynamic?.soname).toBe(expected.soname);
      expect(elf.segments.some((s) => s.type === PT_INTERP)).toBe(
        expected.interpreter !== undefined,
      );
    });
  }
});

interface ReadelfFacts {
  entry: string;
  type: string;
  sections: { name: string; offset: number; size: number; addr: bigint }[];
  segments: { offset: number; vaddr: bigint; filesz: number; memsz: bigint }[];
  interpreter?: string;
  needed: string[];
  soname?: string;
}

/** What `readelf -hlSdW` says about a file, in the parser's terms. */
function readelf(path: string): ReadelfFacts {
  const out = execFileSync("readelf", ["-hlSdW", path], {
    encoding: "utf8",
    env: { ...process.env, LC_ALL: "C" },
  });
  const lines = out.split("\n");
  const field = (label: string): string =>
    (lines.find((l) => l.trim().startsWith(label)) ?? "").split(":").slice(1).join(":").trim();
  const sections = lines
    .map((l) =>
      /^\s*\[\s*(\d+)\]\s+(\S+)\s+\S+\s+([0-9a-f]{16})\s+([0-9a-f]+)\s+([0-9a-f]+)\s/.exec(l),
    )
    .filter((m): m is RegExpExecArray => m !== null && m[1] !== "0")
    .map((m) => ({
      name: m[2] ?? "",
      offset: parseInt(m[4] ?? "", 16),
      size: parseInt(m[5] ?? "", 16),
      addr: BigInt(`0x${m[3]}`),
    }));
  const segments = lines
    .map((l) =>
      /^\s+[A-Z_]+\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x[0-9a-f]+ 0x([0-9a-f]+) 0x([0-9a-f]+)/.exec(l),
    )
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({
      offset: parseInt(m[1] ?? "", 16),
      vaddr: BigInt(`0x${m[2]}`),
      filesz: parseInt(m[3] ?? "", 16),
      memsz: BigInt(`0x${m[4]}`),
    }));
  const interpreter = /Requesting program interpreter: (.*)\]/.exec(out)?.[1];
  const needed = [...out.matchAll(/\(NEEDED\)\s+Shared library: \[(.*)\]/g)].map((m) => m[1] ?? "");
  const soname = /\(SONAME\)\s+Library soname: \[(.*)\]/.exec(out)?.[1];
  return {
    entry: field("Entry point address:"),
    type: field("Type:").split(" ")[0] ?? "",
    sections,
    segments,
    needed,
    ...(interpreter !== undefined ? { interpreter } : {}),
    ...(soname !== undefined ? { soname } : {}),
  };
}
