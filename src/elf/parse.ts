// parseElf: bytes → an immutable ElfFile. Every failure is a MegaliftError
// with code ELF_MALFORMED naming what is wrong and the file offset; no other
// exception escapes (a RangeError here would be a bug).
import { MegaliftError } from "../errors.js";
import { ByteReader, elfMalformed } from "./byte-reader.js";
import { E_MACHINE_OFFSET, E_TYPE_OFFSET } from "./constants.js";
import { readDynamic } from "./dynamic.js";
import type { Elf32File, Elf64Core, Elf64File, ElfFile } from "./elf-file.js";
import { readElf64Header, readIdent } from "./header.js";
import { readInterpreter, readProgramHeaders } from "./program-headers.js";
import { readSectionHeaders } from "./sections.js";
import { findCodePointers } from "./code-pointers.js";
import { readDynamicSymbols } from "./dynamic-symbols.js";
import { readEhFrame } from "./eh-frame.js";
import { readEhFrameHdr } from "./eh-frame-hdr.js";
import { readInitFini } from "./init-fini.js";
import { readRelocations } from "./relocations.js";
import { locateSymbolTables, readSymbols } from "./symbols.js";

export function parseElf(bytes: Uint8Array): ElfFile {
  return guarded(() => parseUnchecked(bytes));
}

/** Runs a reader; any exception that is not a MegaliftError becomes ELF_MALFORMED. */
function guarded<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof MegaliftError) throw err;
    // Defence in depth: a bug in a bounds check must still surface as ELF_MALFORMED.
    throw new MegaliftError("ELF_MALFORMED", `unreadable ELF file (${String(err)}) at offset 0`, {
      cause: err,
    });
  }
}

/** A method that reads on its first call and returns the same value afterwards. */
function lazy<T>(read: () => T): () => T {
  let done = false;
  let value: T | undefined;
  return () => {
    if (!done) {
      value = guarded(read);
      done = true;
    }
    return value as T;
  };
}

/** parseElf for callers that only handle 64-bit files (the lifter). */
export function parseElf64(bytes: Uint8Array): Elf64File {
  const elf = parseElf(bytes);
  if (elf.elfClass !== 64) elfMalformed("ELFCLASS32 file where ELFCLASS64 is required", 4);
  return elf;
}

function parseUnchecked(bytes: Uint8Array): ElfFile {
  const ident = readIdent(bytes);
  const reader = new ByteReader(bytes, ident.littleEndian);
  if (ident.elfClass === 32) {
    const elf32: Elf32File = {
      elfClass: 32,
      ident,
      type: reader.u16(E_TYPE_OFFSET, "e_type"),
      machine: reader.u16(E_MACHINE_OFFSET, "e_machine"),
    };
    return Object.freeze(elf32);
  }
  const header = Object.freeze(readElf64Header(reader, Object.freeze(ident)));
  const segments = Object.freeze(readProgramHeaders(reader, header));
  const sections = Object.freeze(readSectionHeaders(reader, header));
  const { symtab, dynsym } = locateSymbolTables(sections);
  const core: Elf64Core = {
    elfClass: 64,
    header,
    segments,
    sections,
    interpreter: readInterpreter(reader, segments),
    dynamic: readDynamic(reader, segments),
    symtab,
    dynsym,
    reader,
  };
  return withLazyTables(core);
}

/** Adds the lazily read, cached tables to the eagerly parsed core. */
function withLazyTables(core: Elf64Core): Elf64File {
  const frozen = <T>(items: T[]): readonly T[] => Object.freeze(items);
  const elf: Elf64File = {
    ...core,
    staticSymbols: lazy(() =>
      frozen(core.symtab === undefined ? [] : readSymbols(core.reader, core.sections, core.symtab)),
    ),
    dynamicSymbols: lazy(() => frozen(readDynamicSymbols(core))),
    relocations: lazy(() => frozen(readRelocations(elf))),
    ehFrame: lazy(() => readEhFrame(core)),
    ehFrameHdr: lazy(() => readEhFrameHdr(core)),
    initFini: lazy(() => readInitFini(elf)),
    codePointers: lazy(() => frozen(findCodePointers(elf))),
  };
  return Object.freeze(elf);
}
