// The parsed, immutable view of one ELF file that the rest of megalift
// consumes. Headers, segments, sections and the dynamic section are read by
// parseElf; the bigger tables (symbols, relocations, .eh_frame, init/fini
// arrays, code pointers in data) are read on first use by the methods below
// and then cached, so reading libc's header never parses its relocations.
import type { ByteReader } from "./byte-reader.js";
import type { CodePointer } from "./code-pointers.js";
import type { DynamicSection } from "./dynamic.js";
import type { EhFrame } from "./eh-frame.js";
import type { EhFrameHdr } from "./eh-frame-hdr.js";
import type { ElfHeader, ElfIdent } from "./header.js";
import type { InitFini } from "./init-fini.js";
import type { ProgramHeader } from "./program-headers.js";
import type { Relocation } from "./relocations.js";
import type { SectionHeader } from "./sections.js";
import type { ElfSymbol, SymbolTable } from "./symbols.js";

/** What parseElf reads eagerly: the headers and where the tables are. */
export interface Elf64Core {
  readonly elfClass: 64;
  readonly header: ElfHeader;
  /** Program headers in file order (empty for most ET_REL files). */
  readonly segments: readonly ProgramHeader[];
  /** Section headers in index order, including the null section 0 (empty when stripped of them). */
  readonly sections: readonly SectionHeader[];
  /** The PT_INTERP path, e.g. "/lib64/ld-linux-x86-64.so.2". */
  readonly interpreter?: string;
  /** The PT_DYNAMIC contents with their strings resolved. */
  readonly dynamic?: DynamicSection;
  /** The SHT_SYMTAB section (undefined when stripped). */
  readonly symtab?: SymbolTable;
  /** The SHT_DYNSYM section; see dynamicSymbols() for files without section headers. */
  readonly dynsym?: SymbolTable;
  /** Bounds-checked access to the file's bytes for readers that parse more. */
  readonly reader: ByteReader;
}

/**
 * A parsed ELF64 file. Every method parses on its first call and returns the
 * same frozen value afterwards; a malformed table throws ELF_MALFORMED from
 * the method that reads it (and again on every later call).
 */
export interface Elf64File extends Elf64Core {
  /** .symtab entries including the null symbol 0; [] when stripped. */
  staticSymbols(): readonly ElfSymbol[];
  /**
   * The dynamic symbol table including symbol 0, with GNU symbol versions:
   * from .dynsym, or through DT_SYMTAB/DT_STRTAB and DT_HASH/DT_GNU_HASH when
   * the section headers are gone; [] when the file has neither.
   */
  dynamicSymbols(): readonly ElfSymbol[];
  /** DT_RELA, DT_JMPREL and DT_RELR (expanded) relocations, or a static binary's IRELATIVE ones. */
  relocations(): readonly Relocation[];
  /** .eh_frame CIEs and FDEs (by section, or through PT_GNU_EH_FRAME); undefined when absent. */
  ehFrame(): EhFrame | undefined;
  /** .eh_frame_hdr and its binary search table (PT_GNU_EH_FRAME); undefined when absent. */
  ehFrameHdr(): EhFrameHdr | undefined;
  /** DT_INIT/DT_FINI and the init/fini arrays with relocations applied. */
  initFini(): InitFini;
  /** Addresses of code found in data words and relocations: input to function discovery. */
  codePointers(): readonly CodePointer[];
}

/** ELFCLASS32 files are recognised, not parsed: megalift lifts x86-64 only. */
export interface Elf32File {
  readonly elfClass: 32;
  readonly ident: ElfIdent;
  readonly type: number;
  readonly machine: number;
}

export type ElfFile = Elf64File | Elf32File;
