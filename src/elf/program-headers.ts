// ELF64 program headers (gABI "Program Header"): the segments the loader maps,
// PT_INTERP, and the virtual-address → file-offset translation through
// PT_LOAD that the dynamic section (and later relocations and .eh_frame)
// need, because their pointers are addresses, not offsets.
import { ByteReader, elfMalformed } from "./byte-reader.js";
import { PT_INTERP, PT_LOAD, PT_NULL } from "./constants.js";
import type { ElfHeader } from "./header.js";

export interface ProgramHeader {
  readonly index: number;
  /** p_type: PT_LOAD, PT_DYNAMIC, PT_INTERP ... */
  readonly type: number;
  /** p_flags: PF_R | PF_W | PF_X. */
  readonly flags: number;
  /** File offset of the segment's bytes. */
  readonly offset: number;
  readonly vaddr: bigint;
  readonly paddr: bigint;
  /** Bytes in the file; checked to lie inside it. */
  readonly filesz: number;
  /** Bytes in memory (≥ filesz for PT_LOAD; the rest is zero-filled, e.g. .bss). */
  readonly memsz: bigint;
  readonly align: bigint;
}

export function readProgramHeaders(reader: ByteReader, header: ElfHeader): ProgramHeader[] {
  const headers: ProgramHeader[] = [];
  for (let index = 0; index < header.phnum; index++) {
    const at = header.phoff + index * header.phentsize;
    const what = `program header ${index}`;
    const type = reader.u32(at, `${what} p_type`);
    const ph: ProgramHeader = {
      index,
      type,
      flags: reader.u32(at + 4, `${what} p_flags`),
      offset: reader.size64(at + 8, `${what} p_offset`),
      vaddr: reader.u64(at + 16, `${what} p_vaddr`),
      paddr: reader.u64(at + 24, `${what} p_paddr`),
      filesz: reader.size64(at + 32, `${what} p_filesz`),
      memsz: reader.u64(at + 40, `${what} p_memsz`),
      align: reader.u64(at + 48, `${what} p_align`),
    };
    if (type !== PT_NULL && ph.filesz > 0) {
      reader.requireRange(ph.offset, ph.filesz, `${what} segment contents`);
    }
    if (type === PT_LOAD && BigInt(ph.filesz) > ph.memsz) {
      elfMalformed(`${what}: p_filesz ${ph.filesz} exceeds p_memsz ${ph.memsz}`, at + 32);
    }
    headers.push(Object.freeze(ph));
  }
  return headers;
}

/** The program interpreter path named by PT_INTERP, or undefined when there is none. */
export function readInterpreter(
  reader: ByteReader,
  segments: readonly ProgramHeader[],
): string | undefined {
  const interp = segments.find((s) => s.type === PT_INTERP);
  if (interp === undefined) return undefined;
  // Separate debug files (objcopy --only-keep-debug) keep the program headers
  // but no segment bytes. Linux's binfmt_elf refuses such a file (p_filesz < 2
  // is ENOEXEC); `file` says "interpreter *empty*". Report it as "".
  if (interp.filesz === 0) return "";
  return reader.cString(interp.offset, interp.offset + interp.filesz, "PT_INTERP path");
}

/**
 * The file offset holding the `size` bytes at virtual address `vaddr`, or
 * undefined when they are not all file-backed bytes of one PT_LOAD segment
 * (gABI: only PT_LOAD segments give addresses a file image).
 */
export function vaddrToOffset(
  segments: readonly ProgramHeader[],
  vaddr: bigint,
  size = 1,
): number | undefined {
  const length = BigInt(Math.max(size, 1));
  for (const s of segments) {
    if (s.type !== PT_LOAD) continue;
    if (vaddr >= s.vaddr && vaddr + length <= s.vaddr + BigInt(s.filesz)) {
      return s.offset + Number(vaddr - s.vaddr);
    }
  }
  return undefined;
}

/**
 * vaddrToOffset for tables a file must hold (DT_SYMTAB, DT_RELA, .eh_frame
 * ...): ELF_MALFORMED naming `what` at `errorOffset` (the file offset of the
 * field that gave the address) when the bytes are not file-backed.
 */
export function requireVaddr(
  segments: readonly ProgramHeader[],
  vaddr: bigint,
  size: number,
  what: string,
  errorOffset: number,
): number {
  const offset = vaddrToOffset(segments, vaddr, size);
  if (offset === undefined) {
    elfMalformed(
      `${what} 0x${vaddr.toString(16)} (+${size}) is not inside a PT_LOAD segment's file bytes`,
      errorOffset,
    );
  }
  return offset;
}

/** The PT_LOAD segment whose memory image [vaddr, vaddr + memsz) holds `vaddr`, if any. */
export function loadSegmentAt(
  segments: readonly ProgramHeader[],
  vaddr: bigint,
): ProgramHeader | undefined {
  return segments.find((s) => s.type === PT_LOAD && vaddr >= s.vaddr && vaddr < s.vaddr + s.memsz);
}
