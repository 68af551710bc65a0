// .eh_frame_hdr (LSB Core 5.0 "The .eh_frame_hdr section"), the segment
// PT_GNU_EH_FRAME points at: a version byte, three pointer encodings, the
// address of .eh_frame, and a table of (initial location, FDE address)
// pairs sorted by location that the unwinder binary-searches. It survives
// section stripping, so it is how a stripped file's .eh_frame is found.
import { elfMalformed } from "./byte-reader.js";
import { DW_EH_PE_omit, EhCursor, checkEncoding, readEncodedPointer } from "./eh-pointer.js";
import type { Elf64Core } from "./elf-file.js";
import { PT_GNU_EH_FRAME } from "./constants.js";
import { findSection, hasFileBytes } from "./sections.js";

export interface EhFrameHdrEntry {
  /** The function start an FDE covers. */
  readonly initialLocation: bigint;
  /** The virtual address of that FDE in .eh_frame. */
  readonly fdeAddress: bigint;
}

export interface EhFrameHdr {
  /** File offset and virtual address of the header. */
  readonly offset: number;
  readonly address: bigint;
  readonly version: number;
  /** Virtual address of .eh_frame (undefined when its encoding is DW_EH_PE_omit). */
  readonly ehFramePointer?: bigint;
  /** The binary search table, sorted by initialLocation; [] when the header omits it. */
  readonly table: readonly EhFrameHdrEntry[];
}

/** The .eh_frame_hdr (PT_GNU_EH_FRAME, else the section), or undefined when the file has none. */
export function readEhFrameHdr(elf: Elf64Core): EhFrameHdr | undefined {
  const segment = elf.segments.find((s) => s.type === PT_GNU_EH_FRAME);
  const section = findSection(elf.sections, ".eh_frame_hdr");
  let where: { offset: number; address: bigint; size: number };
  if (segment !== undefined && segment.filesz > 0) {
    where = { offset: segment.offset, address: segment.vaddr, size: segment.filesz };
  } else if (section !== undefined && hasFileBytes(section)) {
    where = { offset: section.offset, address: section.addr, size: section.size };
  } else {
    return undefined;
  }
  const anchor = { offset: where.offset, address: where.address };
  const cursor = new EhCursor(elf.reader, where.offset, where.offset + where.size, anchor);
  const version = cursor.u8(".eh_frame_hdr version");
  if (version !== 1) elfMalformed(`.eh_frame_hdr version ${version} is not 1`, where.offset);
  const framePtrEncoding = cursor.u8(".eh_frame_hdr eh_frame_ptr_enc");
  const countEncoding = cursor.u8(".eh_frame_hdr fde_count_enc");
  const tableEncoding = cursor.u8(".eh_frame_hdr table_enc");
  checkEncoding(framePtrEncoding, "eh_frame_ptr_enc", where.offset + 1);
  checkEncoding(countEncoding, "fde_count_enc", where.offset + 2);
  checkEncoding(tableEncoding, "table_enc", where.offset + 3);
  // datarel in .eh_frame_hdr is relative to the header's own start (LSB).
  const bases = { data: where.address };
  const ehFramePointer =
    framePtrEncoding === DW_EH_PE_omit
      ? undefined
      : readEncodedPointer(cursor, framePtrEncoding, bases, "eh_frame_ptr").value;

  const table: EhFrameHdrEntry[] = [];
  if (countEncoding !== DW_EH_PE_omit && tableEncoding !== DW_EH_PE_omit) {
    const countAt = cursor.pos;
    const count = readEncodedPointer(cursor, countEncoding, bases, "fde_count").value;
    // Each entry takes at least 2 bytes, so a count beyond that cannot fit.
    if (count > BigInt(cursor.limit - cursor.pos)) {
      elfMalformed(`.eh_frame_hdr fde_count ${count} does not fit the header`, countAt);
    }
    for (let i = 0; i < Number(count); i++) {
      const initialLocation = readEncodedPointer(cursor, tableEncoding, bases, "table entry");
      const fdeAddress = readEncodedPointer(cursor, tableEncoding, bases, "table entry");
      table.push(
        Object.freeze({ initialLocation: initialLocation.value, fdeAddress: fdeAddress.value }),
      );
    }
  }
  return Object.freeze({
    offset: where.offset,
    address: where.address,
    version,
    ...(ehFramePointer !== undefined ? { ehFramePointer } : {}),
    table: Object.freeze(table),
  });
}
