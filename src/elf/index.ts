// The public surface of the ELF parser.
export * from "./constants.js";
export { ByteReader, elfMalformed } from "./byte-reader.js";
export type { Elf32File, Elf64File, ElfFile } from "./elf-file.js";
export { hasElfMagic, readIdent, type ElfClass, type ElfHeader, type ElfIdent } from "./header.js";
export { vaddrToOffset, type ProgramHeader } from "./program-headers.js";
export { findSection, hasFileBytes, type SectionHeader } from "./sections.js";
export { type DynamicEntry, type DynamicSection } from "./dynamic.js";
export { readSymbols, type ElfSymbol, type SymbolTable } from "./symbols.js";
export { parseElf, parseElf64 } from "./parse.js";
