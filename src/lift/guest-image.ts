// The guest image a lift works on: an x86-64 ELF placed at the address it
// will run at (non-PIE at its link address, a static PIE at PIE_BASE), with
// its loadable segments, executable ranges and a reader for data at guest
// addresses (jump tables, init arrays). The vkernel loads the same segments.
import { MegaliftError } from "../errors.js";
import {
  EM_X86_64,
  ET_DYN,
  ET_EXEC,
  PF_X,
  PT_LOAD,
  readSymbols,
  type Elf64File,
} from "../elf/index.js";
import type { CodeRange } from "./decode.js";
import { PIE_BASE } from "./guest-layout.js";

export interface GuestSegment {
  /** Guest address of the first byte (already rebased). */
  readonly address: number;
  readonly fileBytes: Uint8Array;
  readonly memorySize: number;
  readonly flags: number;
}

export interface GuestImage {
  readonly name: string;
  readonly elf: Elf64File;
  /** Added to every link-time address (0 for ET_EXEC). */
  readonly base: number;
  readonly entry: number;
  readonly segments: readonly GuestSegment[];
  readonly codeRanges: readonly CodeRange[];
  /** Defined STT_FUNC symbols (rebased), from .symtab or else .dynsym. */
  readonly functionSymbols: ReadonlyMap<number, string>;
}

const STT_FUNC = 2;

export function createGuestImage(name: string, elf: Elf64File): GuestImage {
  if (elf.header.machine !== EM_X86_64) {
    throw new MegaliftError(
      "ELF_MALFORMED",
      `${name}: not an x86-64 ELF (e_machine ${elf.header.machine})`,
    );
  }
  if (elf.header.type !== ET_EXEC && elf.header.type !== ET_DYN) {
    throw new MegaliftError(
      "ELF_MALFORMED",
      `${name}: not an executable (e_type ${elf.header.type})`,
    );
  }
  if (elf.interpreter !== undefined) {
    throw new MegaliftError(
      "UNSUPPORTED",
      `${name}: dynamically linked (PT_INTERP ${elf.interpreter}); only static programs lift for now`,
    );
  }
  const base = elf.header.type === ET_DYN ? PIE_BASE : 0;
  const bytes = elf.reader.bytes;
  const segments: GuestSegment[] = elf.segments
    .filter((s) => s.type === PT_LOAD)
    .map((s) => ({
      address: base + Number(s.vaddr),
      fileBytes: bytes.subarray(s.offset, s.offset + s.filesz),
      memorySize: Number(s.memsz),
      flags: s.flags,
    }));
  const codeRanges = segments
    .filter((s) => (s.flags & PF_X) !== 0)
    .map((s) => ({ address: s.address, bytes: s.fileBytes }));
  const functionSymbols = new Map<number, string>();
  const table = elf.symtab ?? elf.dynsym;
  if (table !== undefined) {
    for (const sym of readSymbols(elf.reader, elf.sections, table)) {
      if (sym.type !== STT_FUNC || sym.sectionIndex === 0 || sym.value === 0n) continue;
      const address = base + Number(sym.value);
      if (!functionSymbols.has(address)) functionSymbols.set(address, sym.name);
    }
  }
  return {
    name,
    elf,
    base,
    entry: base + Number(elf.header.entry),
    segments,
    codeRanges,
    functionSymbols,
  };
}

/** Reads little-endian integers at guest addresses from file-backed bytes. */
export function readGuest(image: GuestImage, address: number, size: 4 | 8): bigint | undefined {
  for (const s of image.segments) {
    if (address >= s.address && address + size <= s.address + s.fileBytes.length) {
      const view = new DataView(s.fileBytes.buffer, s.fileBytes.byteOffset, s.fileBytes.byteLength);
      const at = address - s.address;
      return size === 8 ? view.getBigUint64(at, true) : BigInt(view.getInt32(at, true));
    }
  }
  return undefined;
}
