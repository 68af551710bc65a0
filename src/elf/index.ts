// The public surface of the ELF parser.
export * from "./constants.js";
export { ByteReader, elfMalformed } from "./byte-reader.js";
export type { Elf32File, Elf64Core, Elf64File, ElfFile } from "./elf-file.js";
export { hasElfMagic, readIdent, type ElfClass, type ElfHeader, type ElfIdent } from "./header.js";
export {
  loadSegmentAt,
  requireVaddr,
  vaddrToOffset,
  type ProgramHeader,
} from "./program-headers.js";
export { findSection, hasFileBytes, type SectionHeader } from "./sections.js";
export { dynamicTag, type DynamicEntry, type DynamicSection } from "./dynamic.js";
export {
  readSymbols,
  versionedName,
  type ElfSymbol,
  type SymbolBinding,
  type SymbolTable,
  type SymbolType,
  type SymbolVisibility,
} from "./symbols.js";
export {
  dynamicStringTable,
  locateDynamicSymbolTable,
  readDynamicSymbols,
} from "./dynamic-symbols.js";
export { readSymbolVersions, type SymbolVersion } from "./symbol-versions.js";
export * from "./relocation-types.js";
export {
  readRelocations,
  relocationTarget,
  type Relocation,
  type RelocationSource,
} from "./relocations.js";
export { decodeRelr, encodeRelr } from "./relr.js";
export {
  DW_EH_PE_absptr,
  DW_EH_PE_aligned,
  DW_EH_PE_datarel,
  DW_EH_PE_funcrel,
  DW_EH_PE_indirect,
  DW_EH_PE_omit,
  DW_EH_PE_pcrel,
  DW_EH_PE_sdata4,
  DW_EH_PE_sdata8,
  DW_EH_PE_sleb128,
  DW_EH_PE_textrel,
  DW_EH_PE_udata4,
  DW_EH_PE_udata8,
  DW_EH_PE_uleb128,
  type EncodedPointer,
} from "./eh-pointer.js";
export { readEhFrame, type EhFrame, type EhFrameCie, type EhFrameFde } from "./eh-frame.js";
export { readEhFrameHdr, type EhFrameHdr, type EhFrameHdrEntry } from "./eh-frame-hdr.js";
export { readInitFini, type InitFini } from "./init-fini.js";
export { findCodePointers, type CodePointer } from "./code-pointers.js";
export { parseElf, parseElf64 } from "./parse.js";
