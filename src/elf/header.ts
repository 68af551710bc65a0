// The ELF identification bytes and the ELF64 file header (gABI "ELF Header"),
// with the gABI's extended numbering resolved: when a file has more than
// 0xfeff sections or 0xfffe program headers, the real counts and the
// section-name-table index live in section header 0.
import { ByteReader, elfMalformed } from "./byte-reader.js";
import {
  EI_ABIVERSION,
  EI_CLASS,
  EI_DATA,
  EI_NIDENT,
  EI_OSABI,
  EI_VERSION,
  ELF64_EHDR_SIZE,
  ELF64_PHDR_SIZE,
  ELF64_SHDR_SIZE,
  ELF_MAGIC,
  ELFCLASS32,
  ELFCLASS64,
  ELFDATA2LSB,
  ELFDATA2MSB,
  EV_CURRENT,
  PN_XNUM,
  SHN_XINDEX,
} from "./constants.js";

export type ElfClass = 32 | 64;

/** e_ident: what every ELF file says about itself in its first 16 bytes. */
export interface ElfIdent {
  readonly elfClass: ElfClass;
  readonly littleEndian: boolean;
  readonly osAbi: number;
  readonly abiVersion: number;
}

export interface ElfHeader {
  readonly ident: ElfIdent;
  /** e_type: ET_REL, ET_EXEC, ET_DYN, ET_CORE ... */
  readonly type: number;
  /** e_machine: EM_X86_64 ... */
  readonly machine: number;
  readonly version: number;
  readonly entry: bigint;
  /** File offset of the program header table (0 when there is none). */
  readonly phoff: number;
  /** File offset of the section header table (0 when there is none). */
  readonly shoff: number;
  readonly flags: number;
  readonly ehsize: number;
  readonly phentsize: number;
  readonly shentsize: number;
  /** Program header count, extended numbering resolved. */
  readonly phnum: number;
  /** Section header count, extended numbering resolved. */
  readonly shnum: number;
  /** Index of the section name string table, extended numbering resolved (0 = none). */
  readonly shstrndx: number;
}

/** True when the bytes start with "\x7fELF". */
export function hasElfMagic(bytes: Uint8Array): boolean {
  return bytes.length >= ELF_MAGIC.length && ELF_MAGIC.every((b, i) => bytes[i] === b);
}

/** Reads and checks e_ident; the reader's byte order follows from it. */
export function readIdent(bytes: Uint8Array): ElfIdent {
  if (bytes.length < EI_NIDENT) {
    elfMalformed(`file of ${bytes.length} bytes is shorter than e_ident (${EI_NIDENT} bytes)`, 0);
  }
  if (!hasElfMagic(bytes)) elfMalformed("bad ELF magic (expected 7f 45 4c 46)", 0);
  const elfClass = bytes[EI_CLASS];
  if (elfClass !== ELFCLASS32 && elfClass !== ELFCLASS64) {
    elfMalformed(`bad EI_CLASS ${elfClass}`, EI_CLASS);
  }
  const data = bytes[EI_DATA];
  if (data !== ELFDATA2LSB && data !== ELFDATA2MSB) elfMalformed(`bad EI_DATA ${data}`, EI_DATA);
  if (bytes[EI_VERSION] !== EV_CURRENT) {
    elfMalformed(`bad EI_VERSION ${bytes[EI_VERSION]}`, EI_VERSION);
  }
  return {
    elfClass: elfClass === ELFCLASS64 ? 64 : 32,
    littleEndian: data === ELFDATA2LSB,
    osAbi: bytes[EI_OSABI] ?? 0,
    abiVersion: bytes[EI_ABIVERSION] ?? 0,
  };
}

/** Reads the Elf64_Ehdr at offset 0 and checks that its tables fit in the file. */
export function readElf64Header(reader: ByteReader, ident: ElfIdent): ElfHeader {
  reader.requireRange(0, ELF64_EHDR_SIZE, "ELF64 header");
  const phoff = reader.size64(32, "e_phoff");
  const shoff = reader.size64(40, "e_shoff");
  const phentsize = reader.u16(54, "e_phentsize");
  const shentsize = reader.u16(58, "e_shentsize");
  let phnum = reader.u16(56, "e_phnum");
  let shnum = reader.u16(60, "e_shnum");
  let shstrndx = reader.u16(62, "e_shstrndx");

  if (shoff !== 0) {
    if (shentsize < ELF64_SHDR_SIZE) elfMalformed(`e_shentsize ${shentsize} is below 64`, 58);
    // Extended numbering (gABI "Sections", Figure 4-11): section 0 holds the overflow.
    const needsSection0 = shnum === 0 || shstrndx === SHN_XINDEX || phnum === PN_XNUM;
    if (needsSection0) {
      reader.requireRange(shoff, ELF64_SHDR_SIZE, "section header 0");
      if (shnum === 0) shnum = reader.size64(shoff + 32, "section 0 sh_size (e_shnum)");
      if (shstrndx === SHN_XINDEX) shstrndx = reader.u32(shoff + 40, "section 0 sh_link");
      if (phnum === PN_XNUM) phnum = reader.u32(shoff + 44, "section 0 sh_info");
    }
  } else {
    shnum = 0;
    shstrndx = 0;
  }
  if (phnum > 0 && phentsize < ELF64_PHDR_SIZE) {
    elfMalformed(`e_phentsize ${phentsize} is below 56`, 54);
  }
  if (phnum > 0) reader.requireRange(phoff, phnum * phentsize, "program header table");
  if (shnum > 0) reader.requireRange(shoff, shnum * shentsize, "section header table");
  if (shnum > 0 && shstrndx >= shnum) {
    elfMalformed(`section name table index ${shstrndx} is out of range (${shnum} sections)`, 62);
  }

  return {
    ident,
    type: reader.u16(16, "e_type"),
    machine: reader.u16(18, "e_machine"),
    version: reader.u32(20, "e_version"),
    entry: reader.u64(24, "e_entry"),
    phoff,
    shoff,
    flags: reader.u32(48, "e_flags"),
    ehsize: reader.u16(52, "e_ehsize"),
    phentsize,
    shentsize,
    phnum,
    shnum,
    shstrndx,
  };
}
