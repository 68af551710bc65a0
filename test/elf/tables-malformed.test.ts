// Malformed symbol, relocation and .eh_frame tables: every failure of the
// lazily read tables is ELF_MALFORMED naming a file offset, raised by the
// method that reads the table — never a RangeError, never at parse time.
import { describe, expect, it } from "vitest";
import { isMegaliftError } from "../../src/errors.js";
import {
  DT_RELASZ,
  DT_VERSYM,
  findSection,
  parseElf64,
  type Elf64File,
} from "../../src/elf/index.js";
import { readFixture, withoutSectionHeaders } from "./fixtures.js";

const view = (bytes: Uint8Array): DataView => new DataView(bytes.buffer, bytes.byteOffset);

/** Runs every lazy reader of the file. */
function readAll(elf: Elf64File): void {
  elf.staticSymbols();
  elf.dynamicSymbols();
  elf.relocations();
  elf.ehFrame();
  elf.ehFrameHdr();
  elf.initFini();
  elf.codePointers();
}

/** The ELF_MALFORMED message `read` throws; fails on success or any other error. */
function malformed(read: () => unknown): string {
  try {
    read();
  } catch (err) {
    if (isMegaliftError(err, "ELF_MALFORMED")) return err.message;
    throw new Error(`expected ELF_MALFORMED, got ${String(err)}`);
  }
  throw new Error("expected ELF_MALFORMED, but the table was read");
}

/** Parses and reads every table, accepting only success or a located ELF_MALFORMED. */
function readsOrMalformed(bytes: Uint8Array): void {
  try {
    readAll(parseElf64(bytes));
  } catch (err) {
    if (!isMegaliftError(err, "ELF_MALFORMED")) throw err;
    expect(err.message).toMatch(/ at offset \d+$/);
    expect(err.message).not.toMatch(/^unreadable ELF file/);
  }
}

/** Points a dynamic entry's value elsewhere. */
function setDynamic(bytes: Uint8Array, tag: number, value: bigint): void {
  const dynamic = parseElf64(bytes).dynamic!;
  const index = dynamic.entries.findIndex((e) => e.tag === tag);
  expect(index).toBeGreaterThanOrEqual(0);
  view(bytes).setBigUint64(dynamic.offset + index * 16 + 8, value, true);
}

describe("malformed tables", () => {
  it("reports a truncated .eh_frame record where it starts", () => {
    const bytes = readFixture("dynamic/greet");
    const elf = parseElf64(bytes);
    const frame = elf.ehFrame()!;
    const fde = frame.offset + frame.fdes[1]!.offset;
    view(bytes).setUint32(fde, 0x7fff_0000, true);
    const broken = parseElf64(bytes); // the headers still parse: .eh_frame is read lazily
    expect(malformed(() => broken.ehFrame())).toMatch(
      new RegExp(
        `\\.eh_frame record of 2147418112 bytes runs past the end of \\.eh_frame at offset ${fde}$`,
      ),
    );
    // Every call reports it again rather than caching a half-read table.
    expect(() => broken.ehFrame()).toThrow(/runs past the end/);
  });

  it("rejects a bad pointer encoding in a CIE", () => {
    const bytes = readFixture("dynamic/greet");
    const section = findSection(parseElf64(bytes).sections, ".eh_frame")!;
    // CIE 0: length, id, version, "zR\0", code align, data align, RA, aug length, then 'R'.
    const encodingAt = section.offset + 16;
    expect(bytes[encodingAt]).toBe(0x1b);
    bytes[encodingAt] = 0x07;
    expect(malformed(() => parseElf64(bytes).ehFrame())).toBe(
      `CIE FDE pointer encoding: bad pointer encoding 0x7 at offset ${encodingAt}`,
    );
  });

  it("rejects a relocation table past the end of the file or its segment", () => {
    const huge = readFixture("dynamic/greet");
    setDynamic(huge, DT_RELASZ, 0x10_0000_0000n);
    expect(malformed(() => parseElf64(huge).relocations())).toMatch(
      /DT_RELA size 68719476736 is not a whole table inside the file at offset \d+$/,
    );
    const outside = readFixture("dynamic/greet");
    setDynamic(outside, DT_RELASZ, BigInt(24 * 500));
    expect(malformed(() => parseElf64(outside).relocations())).toMatch(
      /DT_RELA 0x[0-9a-f]+ \(\+12000\) is not inside a PT_LOAD segment's file bytes at offset \d+$/,
    );
  });

  it("rejects a relocation naming a symbol past the dynamic symbol table", () => {
    const bytes = readFixture("dynamic/greet");
    const elf = parseElf64(bytes);
    const rela = findSection(elf.sections, ".rela.plt")!;
    view(bytes).setUint32(rela.offset + 12, 0x7777, true); // ELF64_R_SYM of entry 0
    expect(malformed(() => parseElf64(bytes).relocations())).toBe(
      `DT_JMPREL entry 0 names symbol 30583 of 11 at offset ${rela.offset + 8}`,
    );
  });

  it("rejects a DT_VERSYM outside the file's segments", () => {
    const bytes = readFixture("dynamic/greet");
    setDynamic(bytes, DT_VERSYM, 0xdead_0000n);
    expect(malformed(() => parseElf64(bytes).dynamicSymbols())).toMatch(
      /DT_VERSYM 0xdead0000 .* not inside a PT_LOAD/,
    );
  });

  it("never throws anything but ELF_MALFORMED for truncated section-less files", () => {
    for (const relative of ["dynamic/greet", "relr/sort-search"]) {
      const bytes = withoutSectionHeaders(readFixture(relative));
      for (let length = 0; length < bytes.length; length += 61) {
        readsOrMalformed(bytes.subarray(0, length));
      }
    }
  });

  it("never throws anything but ELF_MALFORMED for corrupted tables", () => {
    let state = 0x1234567;
    const random = (): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state >>> 0;
    };
    const tables = [
      ".dynsym",
      ".dynstr",
      ".gnu.hash",
      ".gnu.version",
      ".gnu.version_r",
      ".rela.dyn",
      ".rela.plt",
      ".relr.dyn",
      ".eh_frame_hdr",
      ".eh_frame",
      ".init_array",
      ".dynamic",
    ];
    // [file, rounds]: the static glibc file is big, so it gets fewer rounds.
    for (const [relative, rounds] of [
      ["dynamic/greet", 300],
      ["relr/sort-search", 300],
      ["glibc/hello", 40],
    ] as const) {
      const original = readFixture(relative);
      const elf = parseElf64(original);
      const hot = elf.sections.filter((s) => tables.includes(s.name) && s.size > 0);
      for (const sectionless of [false, true]) {
        for (let round = 0; round < rounds; round++) {
          const bytes = original.slice();
          for (let flips = 1 + (random() % 3); flips > 0; flips--) {
            const section = hot[random() % hot.length]!;
            bytes[section.offset + (random() % section.size)] = random() & 0xff;
          }
          readsOrMalformed(sectionless ? withoutSectionHeaders(bytes) : bytes);
        }
      }
    }
  });
});
