// The parsed, immutable view of one ELF file that the rest of megalift
// consumes. Later readers (relocations, .eh_frame, notes) take an Elf64File
// and use its `reader` to read more of the same bytes, bounds-checked.
import type { ByteReader } from "./byte-reader.js";
import type { DynamicSection } from "./dynamic.js";
import type { ElfHeader, ElfIdent } from "./header.js";
import type { ProgramHeader } from "./program-headers.js";
import type { SectionHeader } from "./sections.js";
import type { SymbolTable } from "./symbols.js";

export interface Elf64File {
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
  readonly symtab?: SymbolTable;
  readonly dynsym?: SymbolTable;
  /** Bounds-checked access to the file's bytes for readers that parse more. */
  readonly reader: ByteReader;
}

/** ELFCLASS32 files are recognised, not parsed: megalift lifts x86-64 only. */
export interface Elf32File {
  readonly elfClass: 32;
  readonly ident: ElfIdent;
  readonly type: number;
  readonly machine: number;
}

export type ElfFile = Elf64File | Elf32File;
