// Malformed and truncated ELF files: every failure is a MegaliftError with
// code ELF_MALFORMED and a message naming the offset — never a RangeError or
// any other exception. Also: ELFCLASS32 identification, big-endian headers,
// and the gABI's extended section numbering.
import { describe, expect, it } from "vitest";
import { isMegaliftError } from "../../src/errors.js";
import { EM_386, EM_S390, ET_EXEC, parseElf, parseElf64 } from "../../src/elf/index.js";
import { allElfFixtures, readFixture } from "./fixtures.js";

/** Runs parseElf and returns the ELF_MALFORMED message, failing on success or any other error. */
function malformedMessage(bytes: Uint8Array): string {
  try {
    parseElf(bytes);
  } catch (err) {
    if (isMegaliftError(err, "ELF_MALFORMED")) return err.message;
    throw new Error(`expected ELF_MALFORMED, got ${String(err)}`);
  }
  throw new Error("expected ELF_MALFORMED, but the file parsed");
}

/** Either parses or fails with ELF_MALFORMED; anything else fails the test. */
function parsesOrMalformed(bytes: Uint8Array): void {
  try {
    parseElf(bytes);
  } catch (err) {
    if (!isMegaliftError(err, "ELF_MALFORMED")) throw err;
    expect(err.message).toMatch(/ at offset \d+$/);
    // parseElf's safety net wraps stray exceptions; reaching it means a bounds check is missing.
    expect(err.message).not.toMatch(/^unreadable ELF file/);
  }
}

const view = (bytes: Uint8Array): DataView => new DataView(bytes.buffer, bytes.byteOffset);

describe("malformed ELF files", () => {
  it("rejects a truncated ELF header", () => {
    const bytes = readFixture("glibc/hello").subarray(0, 40);
    expect(malformedMessage(bytes)).toMatch(/ELF64 header .* at offset 0$/);
  });

  it("rejects a file shorter than e_ident", () => {
    expect(malformedMessage(Uint8Array.of(0x7f, 0x45, 0x4c))).toMatch(/shorter than e_ident/);
    expect(malformedMessage(new Uint8Array(0))).toMatch(/at offset 0$/);
  });

  it("rejects bad e_ident bytes", () => {
    const badMagic = readFixture("musl/hello");
    badMagic[1] = 0x46;
    expect(malformedMessage(badMagic)).toBe("bad ELF magic (expected 7f 45 4c 46) at offset 0");
    const badClass = readFixture("musl/hello");
    badClass[4] = 3;
    expect(malformedMessage(badClass)).toBe("bad EI_CLASS 3 at offset 4");
    const badData = readFixture("musl/hello");
    badData[5] = 0;
    expect(malformedMessage(badData)).toBe("bad EI_DATA 0 at offset 5");
    const badVersion = readFixture("musl/hello");
    badVersion[6] = 2;
    expect(malformedMessage(badVersion)).toBe("bad EI_VERSION 2 at offset 6");
  });

  it("rejects a program header table past the end of the file", () => {
    const bytes = readFixture("musl/hello");
    view(bytes).setBigUint64(32, BigInt(bytes.length + 8), true);
    expect(malformedMessage(bytes)).toMatch(
      new RegExp(`program header table .* past the end .* at offset ${bytes.length + 8}$`),
    );
  });

  it("rejects an e_phoff too large for a number", () => {
    const bytes = readFixture("musl/hello");
    view(bytes).setBigUint64(32, 0xffff_ffff_ffff_fff0n, true);
    expect(malformedMessage(bytes)).toMatch(/e_phoff .* too large at offset 32$/);
  });

  it("rejects a segment whose contents are past the end of the file", () => {
    const bytes = readFixture("musl/hello");
    // Program header 1's p_filesz (at e_phoff + 56 + 32).
    view(bytes).setBigUint64(64 + 56 + 32, BigInt(bytes.length), true);
    expect(malformedMessage(bytes)).toMatch(/program header 1 segment contents/);
  });

  it("rejects a section name table index out of range", () => {
    const bytes = readFixture("musl/hello");
    const shnum = view(bytes).getUint16(60, true);
    view(bytes).setUint16(62, shnum + 5, true);
    expect(malformedMessage(bytes)).toBe(
      `section name table index ${shnum + 5} is out of range (${shnum} sections) at offset 62`,
    );
  });

  it("rejects a section name offset past the section name table", () => {
    const bytes = readFixture("musl/hello");
    const shoff = Number(view(bytes).getBigUint64(40, true));
    view(bytes).setUint32(shoff + 64 * 3, 0x7fff_0000, true); // section 3's sh_name
    expect(malformedMessage(bytes)).toMatch(/section 3 name offset 2147418112 is past the end/);
  });

  it("rejects a section table past the end of the file", () => {
    const bytes = readFixture("glibc/hello");
    view(bytes).setBigUint64(40, BigInt(bytes.length - 64), true);
    expect(malformedMessage(bytes)).toMatch(/section header table .* past the end/);
  });

  it("rejects a DT_STRTAB outside every PT_LOAD segment", () => {
    const bytes = readFixture("dynamic/greet");
    const elf = parseElf64(bytes);
    const dyn = elf.segments.find((s) => s.type === 2)!;
    const index = elf.dynamic!.entries.findIndex((e) => e.tag === 5);
    view(bytes).setBigUint64(dyn.offset + index * 16 + 8, 0xdead_0000n, true);
    expect(malformedMessage(bytes)).toMatch(/DT_STRTAB 0xdead0000 .* not inside a PT_LOAD/);
  });

  it("rejects a DT_NEEDED offset past DT_STRSZ", () => {
    const bytes = readFixture("dynamic/greet");
    const elf = parseElf64(bytes);
    const dyn = elf.segments.find((s) => s.type === 2)!;
    const index = elf.dynamic!.entries.findIndex((e) => e.tag === 1);
    view(bytes).setBigUint64(dyn.offset + index * 16 + 8, 0x10_0000n, true);
    expect(malformedMessage(bytes)).toMatch(/DT_NEEDED string offset 1048576 is past DT_STRSZ/);
  });

  it("rejects an unterminated PT_INTERP path", () => {
    const bytes = readFixture("dynamic/greet");
    const interp = parseElf64(bytes).segments.find((s) => s.type === 3)!;
    bytes[interp.offset + interp.filesz - 1] = 0x41;
    expect(malformedMessage(bytes)).toMatch(/PT_INTERP path is not NUL-terminated/);
  });

  it("reads an empty PT_INTERP (a separate debug file) as an empty path", () => {
    const bytes = readFixture("dynamic/greet");
    const interp = parseElf64(bytes).segments.find((s) => s.type === 3)!;
    view(bytes).setBigUint64(64 + interp.index * 56 + 32, 0n, true); // p_filesz = 0
    expect(parseElf64(bytes).interpreter).toBe("");
  });

  it("never throws anything but ELF_MALFORMED for any truncation", () => {
    for (const relative of ["musl/hello", "dynamic/greet", "dynamic/libgreet.so.1"]) {
      const bytes = readFixture(relative);
      for (let length = 0; length < bytes.length; length += length < 512 ? 1 : 97) {
        parsesOrMalformed(bytes.subarray(0, length));
      }
    }
  });

  it("never throws anything but ELF_MALFORMED for corrupted headers", () => {
    let state = 0x2545f491;
    const random = (): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state >>> 0;
    };
    for (const relative of ["musl/hello", "dynamic/greet", "dynamic/libgreet.so.1"]) {
      const original = readFixture(relative);
      const elf = parseElf64(original);
      // Corrupt the bytes the parser reads: the headers and the tables they point at.
      const hot = [
        [0, 64],
        [elf.header.phoff, elf.header.phnum * 56],
        [elf.header.shoff, elf.header.shnum * 64],
        ...elf.segments.filter((s) => s.type === 2).map((s) => [s.offset, s.filesz]),
      ] as const;
      for (let round = 0; round < 2000; round++) {
        const bytes = original.slice();
        for (let flips = 1 + (random() % 4); flips > 0; flips--) {
          const [start, size] = hot[random() % hot.length]!;
          bytes[start + (random() % size)] = random() & 0xff;
        }
        parsesOrMalformed(bytes);
      }
    }
  });

  it("accepts every fixture untouched", () => {
    for (const relative of allElfFixtures()) parsesOrMalformed(readFixture(relative));
  });
});

describe("other ELF shapes", () => {
  it("identifies ELFCLASS32 files without parsing further", () => {
    const bytes = new Uint8Array(52);
    bytes.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
    view(bytes).setUint16(16, ET_EXEC, true);
    view(bytes).setUint16(18, EM_386, true);
    const elf = parseElf(bytes);
    expect(elf).toEqual({
      elfClass: 32,
      ident: { elfClass: 32, littleEndian: true, osAbi: 0, abiVersion: 0 },
      type: ET_EXEC,
      machine: EM_386,
    });
    expect(() => parseElf64(bytes)).toThrow(/ELFCLASS32/);
    // Too short for e_machine: still ELF_MALFORMED.
    expect(malformedMessage(bytes.subarray(0, 18))).toMatch(/e_machine/);
  });

  it("reads big-endian ELF64 headers", () => {
    const bytes = new Uint8Array(64);
    bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 2, 1]);
    const v = view(bytes);
    v.setUint16(16, ET_EXEC, false);
    v.setUint16(18, EM_S390, false);
    v.setUint32(20, 1, false);
    v.setBigUint64(24, 0x1000_0000n, false);
    v.setUint16(52, 64, false);
    const elf = parseElf64(bytes);
    expect(elf.header.ident.littleEndian).toBe(false);
    expect(elf.header.machine).toBe(EM_S390);
    expect(elf.header.entry).toBe(0x1000_0000n);
    expect(elf.segments).toEqual([]);
    expect(elf.sections).toEqual([]);
  });

  it("resolves extended section numbering through section header 0", () => {
    const original = readFixture("musl/hello");
    const expected = parseElf64(original);
    const bytes = original.slice();
    const v = view(bytes);
    const shoff = Number(expected.header.shoff);
    v.setUint16(60, 0, true); // e_shnum = 0: the count is section 0's sh_size
    v.setBigUint64(shoff + 32, BigInt(expected.header.shnum), true);
    v.setUint16(62, 0xffff, true); // e_shstrndx = SHN_XINDEX: the index is section 0's sh_link
    v.setUint32(shoff + 40, expected.header.shstrndx, true);
    const elf = parseElf64(bytes);
    expect(elf.header.shnum).toBe(expected.header.shnum);
    expect(elf.header.shstrndx).toBe(expected.header.shstrndx);
    expect(elf.sections.slice(1).map((s) => s.name)).toEqual(
      expected.sections.slice(1).map((s) => s.name),
    );
  });
});
