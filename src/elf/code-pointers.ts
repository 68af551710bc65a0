// "Code pointers found in data": candidate function addresses for
// discovery in stripped binaries (ARCHITECTURE.md, Lifting §5). Two sources:
// relocations whose link-time target (relocationTarget) lies in an
// executable PT_LOAD segment — in a PIE these are the only trace of
// function-pointer tables, whose words are 0 in the file — and every
// 8-byte-aligned word of the file-backed part of non-executable PT_LOAD
// segments whose value points into an executable one (vtables, callback
// tables, .init_array in non-PIE files, .dynsym values ...).
//
// This is a heuristic: a data word may look like a code address by chance,
// and a pointer may aim inside a function rather than at its start. The
// lifter must treat these as candidates and validate them by decoding.
import type { Elf64File } from "./elf-file.js";
import { PF_X, PT_LOAD } from "./constants.js";
import { relocationTarget } from "./relocations.js";

export interface CodePointer {
  /** Where the pointer was found: the address of the data word or relocated slot. */
  readonly at: bigint;
  /** The code address it points to (link time; add the load base for PIE/shared objects). */
  readonly target: bigint;
  readonly source: "data" | "relocation";
}

/** Candidate code addresses, sorted by where they were found; a relocated slot is reported once. */
export function findCodePointers(elf: Elf64File): CodePointer[] {
  const loads = elf.segments.filter((s) => s.type === PT_LOAD);
  const code = loads
    .filter((s) => (s.flags & PF_X) !== 0)
    .map((s) => ({ start: s.vaddr, end: s.vaddr + s.memsz }));
  if (code.length === 0) return [];
  const inCode = (address: bigint): boolean =>
    code.some((range) => address >= range.start && address < range.end);

  const found = new Map<bigint, CodePointer>();
  for (const relocation of elf.relocations()) {
    const target = relocationTarget(relocation);
    if (target !== undefined && inCode(target)) {
      found.set(
        relocation.offset,
        Object.freeze({ at: relocation.offset, target, source: "relocation" }),
      );
    }
  }

  // Numbers are exact below 2^53; code ranges beyond that are not plausible for wasm32 guests.
  const numeric = code
    .filter((r) => r.end <= BigInt(Number.MAX_SAFE_INTEGER))
    .map((r) => ({ start: Number(r.start), end: Number(r.end) }));
  const { bytes } = elf.reader;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = elf.header.ident.littleEndian;
  for (const segment of loads) {
    if ((segment.flags & PF_X) !== 0 || segment.filesz < 8) continue;
    const misalign = Number(segment.vaddr % 8n);
    const first = misalign === 0 ? 0 : 8 - misalign;
    // elf.segments' file ranges were bounds-checked by readProgramHeaders.
    for (let rel = first; rel + 8 <= segment.filesz; rel += 8) {
      const at = segment.offset + rel;
      const low = view.getUint32(at + (little ? 0 : 4), little);
      const high = view.getUint32(at + (little ? 4 : 0), little);
      if (high >= 0x20_0000) continue; // above 2^53
      const value = high * 0x1_0000_0000 + low;
      if (!numeric.some((r) => value >= r.start && value < r.end)) continue;
      const address = segment.vaddr + BigInt(rel);
      if (found.has(address)) continue;
      found.set(address, Object.freeze({ at: address, target: BigInt(value), source: "data" }));
    }
  }
  return [...found.values()].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}
