// Dynamic relocations (gABI "Relocation" and "Dynamic Section"; System V
// x86-64 psABI §4.4, which uses RELA only): the tables ld.so applies, found
// as it finds them — DT_RELA/DT_RELASZ/DT_RELAENT, DT_JMPREL/DT_PLTRELSZ
// (the PLT's JUMP_SLOTs) and DT_RELR/DT_RELRSZ/DT_RELRENT (packed RELATIVE,
// see relr.ts). A static executable has no dynamic section; its IRELATIVE
// relocations (ifuncs), which glibc's static start-up applies between
// __rela_iplt_start and __rela_iplt_end, are found through the allocated
// SHT_RELA section (.rela.plt / .rela.iplt) or those two symbols.
import { ByteReader, elfMalformed } from "./byte-reader.js";
import {
  DT_JMPREL,
  DT_PLTREL,
  DT_PLTRELSZ,
  DT_RELA,
  DT_RELAENT,
  DT_RELASZ,
  DT_RELR,
  DT_RELRENT,
  DT_RELRSZ,
  DT_RELSZ,
  ELF64_RELA_SIZE,
  ELF64_RELR_SIZE,
  SHF_ALLOC,
  SHN_UNDEF,
  SHT_RELA,
} from "./constants.js";
import { dynamicTag } from "./dynamic.js";
import type { Elf64File } from "./elf-file.js";
import { loadSegmentAt, requireVaddr, vaddrToOffset } from "./program-headers.js";
import {
  R_X86_64_64,
  R_X86_64_GLOB_DAT,
  R_X86_64_IRELATIVE,
  R_X86_64_JUMP_SLOT,
  R_X86_64_RELATIVE,
  x86RelocationName,
} from "./relocation-types.js";
import { decodeRelr } from "./relr.js";
import type { ElfSymbol } from "./symbols.js";

/** Which table a relocation came from. */
export type RelocationSource =
  /** DT_RELA (.rela.dyn). */
  | "rela"
  /** DT_JMPREL (.rela.plt). */
  | "jmprel"
  /** DT_RELR (.relr.dyn), expanded. */
  | "relr"
  /** A static executable's allocated SHT_RELA section or __rela_iplt_start..end. */
  | "iplt";

export interface Relocation {
  /** r_offset: the (link-time) address of the word the relocation writes. */
  readonly offset: bigint;
  /** ELF64_R_TYPE(r_info): R_X86_64_RELATIVE 8 ... */
  readonly type: number;
  /** "R_X86_64_RELATIVE" ... */
  readonly typeName: string;
  /** ELF64_R_SYM(r_info): an index into the dynamic symbol table (0: none). */
  readonly symbolIndex: number;
  /** The symbol at symbolIndex (undefined for index 0). */
  readonly symbol?: ElfSymbol;
  /** r_addend; for RELR, the implicit addend: the word stored at `offset` in the file. */
  readonly addend: bigint;
  readonly source: RelocationSource;
}

/** Every relocation of the file, in the order ld.so applies them: RELR, RELA, then JMPREL. */
export function readRelocations(elf: Elf64File): Relocation[] {
  if (elf.dynamic === undefined) return readStaticIplt(elf);
  const { reader } = elf;
  const relsz = dynamicTag(elf.dynamic, DT_RELSZ);
  if (relsz !== undefined && relsz.value !== 0n) {
    elfMalformed("DT_REL relocations, which the x86-64 psABI does not use", relsz.offset);
  }
  const pltrel = dynamicTag(elf.dynamic, DT_PLTREL);
  if (pltrel !== undefined && pltrel.value !== BigInt(DT_RELA)) {
    elfMalformed(`DT_PLTREL ${pltrel.value} is not DT_RELA`, pltrel.offset);
  }
  const rela = tableRange(elf, DT_RELA, DT_RELASZ, DT_RELAENT, ELF64_RELA_SIZE);
  const jmprel = tableRange(elf, DT_JMPREL, DT_PLTRELSZ, undefined, ELF64_RELA_SIZE);
  // Some linkers make DT_RELASZ cover the PLT relocations too; glibc then
  // drops them from the first range (elf/dynamic-link.h) so none applies twice.
  if (rela !== undefined && jmprel !== undefined) {
    const relaEnd = rela.vaddr + BigInt(rela.size);
    if (jmprel.vaddr >= rela.vaddr && jmprel.vaddr + BigInt(jmprel.size) === relaEnd) {
      rela.size = Number(jmprel.vaddr - rela.vaddr);
    }
  }
  const symbols = elf.dynamicSymbols();
  const out: Relocation[] = [];
  const relr = tableRange(elf, DT_RELR, DT_RELRSZ, DT_RELRENT, ELF64_RELR_SIZE);
  if (relr !== undefined) {
    const words: bigint[] = [];
    for (let i = 0; i < relr.size / relr.entrySize; i++) {
      words.push(reader.u64(relr.offset + i * relr.entrySize, `DT_RELR entry ${i}`));
    }
    for (const address of decodeRelr(words, relr.offset)) {
      out.push(relrRelocation(elf, address, relr.offset));
    }
  }
  if (rela !== undefined) readRela(reader, rela, "rela", symbols, out);
  if (jmprel !== undefined) readRela(reader, jmprel, "jmprel", symbols, out);
  return out;
}

/**
 * The link-time address a relocation stores, when the file alone decides it:
 * RELATIVE and IRELATIVE (the addend; IRELATIVE's is the ifunc resolver),
 * and 64/GLOB_DAT/JUMP_SLOT against a symbol this file defines (value +
 * addend; a symbol from another object may be preempted). Add the load base
 * for PIE and shared objects. Undefined otherwise (imports, TLS, COPY).
 */
export function relocationTarget(relocation: Relocation): bigint | undefined {
  switch (relocation.type) {
    case R_X86_64_RELATIVE:
    case R_X86_64_IRELATIVE:
      return BigInt.asUintN(64, relocation.addend);
    case R_X86_64_64:
    case R_X86_64_GLOB_DAT:
    case R_X86_64_JUMP_SLOT: {
      const symbol = relocation.symbol;
      if (symbol === undefined || symbol.sectionIndex === SHN_UNDEF || symbol.typeName === "TLS") {
        return undefined;
      }
      return BigInt.asUintN(64, symbol.value + relocation.addend);
    }
    default:
      return undefined;
  }
}

interface TableRange {
  vaddr: bigint;
  offset: number;
  size: number;
  entrySize: number;
  what: string;
}

/** A table named by address/size/entry-size tags, checked to lie in the file; undefined if absent. */
function tableRange(
  elf: Elf64File,
  addrTag: number,
  sizeTag: number,
  entTag: number | undefined,
  defaultEntrySize: number,
): TableRange | undefined {
  const names: Record<number, string> = {
    [DT_RELA]: "DT_RELA",
    [DT_JMPREL]: "DT_JMPREL",
    [DT_RELR]: "DT_RELR",
  };
  const what = names[addrTag] ?? `tag ${addrTag}`;
  const addr = dynamicTag(elf.dynamic, addrTag);
  const size = dynamicTag(elf.dynamic, sizeTag);
  if (addr === undefined && size === undefined) return undefined;
  if (addr === undefined || size === undefined) {
    const offset = addr?.offset ?? size?.offset ?? elf.dynamic?.offset ?? 0;
    elfMalformed(`${what} and its size must come together`, offset);
  }
  const ent = entTag === undefined ? undefined : dynamicTag(elf.dynamic, entTag);
  const entrySize = ent === undefined ? defaultEntrySize : Number(ent.value);
  if (entrySize !== defaultEntrySize) {
    elfMalformed(`${what} entry size ${ent?.value} is not ${defaultEntrySize}`, ent?.offset ?? 0);
  }
  if (size.value > BigInt(elf.reader.length) || size.value % BigInt(entrySize) !== 0n) {
    elfMalformed(`${what} size ${size.value} is not a whole table inside the file`, size.offset);
  }
  const bytes = Number(size.value);
  const offset = requireVaddr(elf.segments, addr.value, bytes, what, addr.offset);
  return { vaddr: addr.value, offset, size: bytes, entrySize, what };
}

/** Decodes Elf64_Rela entries (r_offset, r_info = sym << 32 | type, r_addend). */
function readRela(
  reader: ByteReader,
  table: TableRange,
  source: RelocationSource,
  symbols: readonly ElfSymbol[],
  out: Relocation[],
): void {
  reader.requireRange(table.offset, table.size, `${table.what} table`);
  for (let i = 0; i < table.size / table.entrySize; i++) {
    const at = table.offset + i * table.entrySize;
    const what = `${table.what} entry ${i}`;
    const info = reader.u64(at + 8, `${what} r_info`);
    const type = Number(info & 0xffff_ffffn);
    const symbolIndex = Number(info >> 32n);
    const symbol = symbolIndex === 0 ? undefined : symbols[symbolIndex];
    if (symbolIndex !== 0 && symbol === undefined) {
      elfMalformed(`${what} names symbol ${symbolIndex} of ${symbols.length}`, at + 8);
    }
    out.push(
      Object.freeze({
        offset: reader.u64(at, `${what} r_offset`),
        type,
        typeName: x86RelocationName(type),
        symbolIndex,
        ...(symbol !== undefined ? { symbol } : {}),
        addend: reader.i64(at + 16, `${what} r_addend`),
        source,
      }),
    );
  }
}

/** A RELR address as the R_X86_64_RELATIVE it stands for, its addend read from the file. */
function relrRelocation(elf: Elf64File, address: bigint, tableOffset: number): Relocation {
  const at = vaddrToOffset(elf.segments, address, 8);
  let addend = 0n; // a word past p_filesz but inside p_memsz holds zero
  if (at !== undefined) {
    addend = elf.reader.i64(at, "RELR relocated word");
  } else if (loadSegmentAt(elf.segments, address) === undefined) {
    elfMalformed(`RELR address 0x${address.toString(16)} is outside every PT_LOAD`, tableOffset);
  }
  return Object.freeze({
    offset: address,
    type: R_X86_64_RELATIVE,
    typeName: x86RelocationName(R_X86_64_RELATIVE),
    symbolIndex: 0,
    addend,
    source: "relr",
  });
}

/** A static executable's IRELATIVE table (glibc csu/libc-start.c, apply_irel). */
function readStaticIplt(elf: Elf64File): Relocation[] {
  const out: Relocation[] = [];
  const sections = elf.sections.filter((s) => s.type === SHT_RELA && (s.flags & SHF_ALLOC) !== 0n);
  for (const section of sections) {
    const symbols =
      section.link !== 0 && section.link === elf.symtab?.sectionIndex
        ? elf.staticSymbols()
        : elf.dynamicSymbols();
    const range: TableRange = {
      vaddr: section.addr,
      offset: section.offset,
      size: section.size - (section.size % ELF64_RELA_SIZE),
      entrySize: ELF64_RELA_SIZE,
      what: `section ${section.name || section.index}`,
    };
    readRela(elf.reader, range, "iplt", symbols, out);
  }
  if (sections.length > 0 || elf.symtab === undefined) return out;
  const symbols = elf.staticSymbols();
  const start = symbols.find((s) => s.name === "__rela_iplt_start");
  const end = symbols.find((s) => s.name === "__rela_iplt_end");
  if (start === undefined || end === undefined || end.value <= start.value) return out;
  const size = Number(end.value - start.value);
  const what = "__rela_iplt_start";
  const offset = requireVaddr(elf.segments, start.value, size, what, elf.symtab.offset);
  const range: TableRange = {
    vaddr: start.value,
    offset,
    size: size - (size % ELF64_RELA_SIZE),
    entrySize: ELF64_RELA_SIZE,
    what,
  };
  readRela(elf.reader, range, "iplt", symbols, out);
  return out;
}
