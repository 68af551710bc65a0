// .eh_frame (LSB Core 5.0 "Exception Frames"; DWARF 4 §6.4.1 for the CFA
// program): Common Information Entries and Frame Description Entries. For
// megalift the FDEs matter most — each names one function's start address
// and length, which is how function discovery covers a stripped binary. The
// CFA instructions are kept as raw bytes, not interpreted.
//
// The section is found by its header when there is one; otherwise through
// PT_GNU_EH_FRAME's eh_frame_ptr (eh-frame-hdr.ts), and then it runs to the
// zero terminator, as libgcc's unwinder reads it.
import { elfMalformed } from "./byte-reader.js";
import { PT_LOAD } from "./constants.js";
import {
  DW_EH_PE_absptr,
  DW_EH_PE_omit,
  EhCursor,
  checkEncoding,
  readEncodedPointer,
  readEncodedValue,
  type EncodedPointer,
  type PointerBases,
} from "./eh-pointer.js";
import type { Elf64Core } from "./elf-file.js";
import { readEhFrameHdr } from "./eh-frame-hdr.js";
import { requireVaddr } from "./program-headers.js";
import { findSection, hasFileBytes } from "./sections.js";

export interface EhFrameCie {
  /** Offset of the record (its length field) from the start of .eh_frame, as readelf prints it. */
  readonly offset: number;
  /** Virtual address of the record. */
  readonly address: bigint;
  /** 1, 3 or 4. */
  readonly version: number;
  /** "zR", "zPLR", "zRS" ... */
  readonly augmentation: string;
  readonly codeAlignment: bigint;
  readonly dataAlignment: bigint;
  readonly returnAddressRegister: number;
  /** 'R': how FDE addresses are encoded (DW_EH_PE_absptr when absent). */
  readonly fdeEncoding: number;
  /** 'L': how FDE LSDA pointers are encoded (DW_EH_PE_omit when absent). */
  readonly lsdaEncoding: number;
  /** 'P': the personality routine (usually indirect through a data slot). */
  readonly personality?: EncodedPointer;
  /** 'S': the frames are signal trampolines (e.g. __restore_rt). */
  readonly signalFrame: boolean;
  /** Initial CFA instructions, uninterpreted. */
  readonly instructions: Uint8Array;
}

export interface EhFrameFde {
  readonly offset: number;
  readonly address: bigint;
  /** Offset (from the start of .eh_frame) of the CIE this FDE uses. */
  readonly cieOffset: number;
  /** The first address the FDE covers: a function start. */
  readonly initialLocation: bigint;
  /** The number of bytes covered: [initialLocation, initialLocation + addressRange). */
  readonly addressRange: bigint;
  /** 'L': the language-specific data area (C++ exception tables). */
  readonly lsda?: EncodedPointer;
  /** CFA instructions, uninterpreted. */
  readonly instructions: Uint8Array;
}

export interface EhFrame {
  readonly address: bigint;
  readonly offset: number;
  /** Bytes parsed, up to the section end or the first zero terminator. */
  readonly size: number;
  readonly cies: readonly EhFrameCie[];
  readonly fdes: readonly EhFrameFde[];
}

/** Where .eh_frame is and how far it may run. */
interface Extent {
  offset: number;
  address: bigint;
  size: number;
  /** Located by section header (parse to its end) or by pointer (stop at the terminator). */
  bySection: boolean;
}

/** The .eh_frame of the file, or undefined when it has none. */
export function readEhFrame(elf: Elf64Core): EhFrame | undefined {
  const extent = locateEhFrame(elf);
  if (extent === undefined) return undefined;
  const text = findSection(elf.sections, ".text");
  const got = findSection(elf.sections, ".got");
  const bases: PointerBases = {
    ...(text !== undefined ? { text: text.addr } : {}),
    ...(got !== undefined ? { data: got.addr } : {}),
  };
  const { reader } = elf;
  const end = extent.offset + extent.size;
  const anchor = { offset: extent.offset, address: extent.address };
  const cies = new Map<number, EhFrameCie>();
  const fdes: EhFrameFde[] = [];

  const cieAt = (at: number, fdeAt: number): EhFrameCie => {
    const known = cies.get(at);
    if (known !== undefined) return known;
    if (at < extent.offset || at >= end) {
      elfMalformed(`FDE's CIE pointer leads outside .eh_frame`, fdeAt);
    }
    const record = recordAt(at);
    if (record.fde) elfMalformed(`FDE's CIE pointer leads to another FDE at ${at}`, fdeAt);
    return parseCie(record.cursor, at);
  };

  const recordAt = (
    at: number,
  ): { cursor: EhCursor; fde: boolean; idAt: number; id: bigint; next: number } => {
    let length = BigInt(reader.u32(at, ".eh_frame record length"));
    let contents = at + 4;
    const wide = length === 0xffff_ffffn; // DWARF64: an 8-byte length and CIE id follow
    if (wide) {
      length = reader.u64(at + 4, ".eh_frame extended length");
      contents = at + 12;
    }
    if (length > BigInt(end - contents)) {
      elfMalformed(`.eh_frame record of ${length} bytes runs past the end of .eh_frame`, at);
    }
    const next = contents + Number(length);
    const cursor = new EhCursor(reader, contents, next, anchor);
    const id = wide ? cursor.u64(".eh_frame CIE id") : BigInt(cursor.u32(".eh_frame CIE id"));
    return { cursor, fde: id !== 0n, idAt: contents, id, next };
  };

  const parseCie = (cursor: EhCursor, at: number): EhFrameCie => {
    const version = cursor.u8("CIE version");
    if (version !== 1 && version !== 3 && version !== 4) {
      elfMalformed(`CIE version ${version} is not 1, 3 or 4`, cursor.pos - 1);
    }
    const augmentation = cursor.cString("CIE augmentation");
    if (augmentation.startsWith("eh")) cursor.u64("CIE eh pointer"); // pre-gcc-3 "eh" data
    if (version === 4) {
      cursor.u8("CIE address_size");
      cursor.u8("CIE segment_size");
    }
    const codeAlignment = cursor.uleb("CIE code alignment");
    const dataAlignment = cursor.sleb("CIE data alignment");
    const returnAddressRegister =
      version === 1 ? cursor.u8("CIE return register") : cursor.ulebNumber("CIE return register");
    let fdeEncoding = DW_EH_PE_absptr;
    let lsdaEncoding = DW_EH_PE_omit;
    let personality: EncodedPointer | undefined;
    let signalFrame = false;
    if (augmentation.startsWith("z")) {
      const dataLength = cursor.ulebNumber("CIE augmentation length");
      const dataEnd = cursor.pos + dataLength;
      if (dataLength > cursor.limit - cursor.pos) {
        elfMalformed("CIE augmentation data runs past the end of its record", cursor.pos);
      }
      // libgcc (extract_cie_info) stops at the first letter it does not know; 'z' lets it skip the rest.
      for (const letter of augmentation.slice(1)) {
        if (letter === "R") {
          fdeEncoding = cursor.u8("CIE FDE pointer encoding");
          checkEncoding(fdeEncoding, "CIE FDE pointer encoding", cursor.pos - 1);
          if (fdeEncoding === DW_EH_PE_omit) {
            elfMalformed("CIE FDE pointer encoding is DW_EH_PE_omit", cursor.pos - 1);
          }
        } else if (letter === "L") {
          lsdaEncoding = cursor.u8("CIE LSDA encoding");
          checkEncoding(lsdaEncoding, "CIE LSDA encoding", cursor.pos - 1);
        } else if (letter === "P") {
          const encoding = cursor.u8("CIE personality encoding");
          checkEncoding(encoding, "CIE personality encoding", cursor.pos - 1);
          if (encoding !== DW_EH_PE_omit) {
            personality = readEncodedPointer(cursor, encoding, bases, "CIE personality");
          }
        } else if (letter === "S") {
          signalFrame = true;
        } else if (letter !== "B" && letter !== "G") {
          break; // 'B' (AArch64 BTI) and 'G' (MTE) carry no data
        }
      }
      cursor.pos = dataEnd;
    }
    const cie: EhFrameCie = Object.freeze({
      offset: at - extent.offset,
      address: cursor.anchor.address + BigInt(at - extent.offset),
      version,
      augmentation,
      codeAlignment,
      dataAlignment,
      returnAddressRegister,
      fdeEncoding,
      lsdaEncoding,
      ...(personality !== undefined ? { personality: Object.freeze(personality) } : {}),
      signalFrame,
      instructions: cursor.rest("CIE instructions"),
    });
    cies.set(at, cie);
    return cie;
  };

  const parseFde = (cursor: EhCursor, at: number, cie: EhFrameCie): EhFrameFde => {
    const begin = readEncodedPointer(cursor, cie.fdeEncoding, bases, "FDE initial location");
    const initialLocation = begin.indirect
      ? reader.u64(requireVaddr(elf.segments, begin.value, 8, "FDE location slot", at), "slot")
      : begin.value;
    const addressRange = BigInt.asUintN(
      64,
      readEncodedValue(cursor, cie.fdeEncoding, "FDE address range"),
    );
    let lsda: EncodedPointer | undefined;
    if (cie.augmentation.startsWith("z")) {
      const dataLength = cursor.ulebNumber("FDE augmentation length");
      if (dataLength > cursor.limit - cursor.pos) {
        elfMalformed("FDE augmentation data runs past the end of its record", cursor.pos);
      }
      const dataEnd = cursor.pos + dataLength;
      if (cie.lsdaEncoding !== DW_EH_PE_omit && dataLength > 0) {
        const funcBases = { ...bases, func: initialLocation };
        lsda = readEncodedPointer(cursor, cie.lsdaEncoding, funcBases, "FDE LSDA pointer");
      }
      cursor.pos = dataEnd;
    }
    return Object.freeze({
      offset: at - extent.offset,
      address: extent.address + BigInt(at - extent.offset),
      cieOffset: cie.offset,
      initialLocation,
      addressRange,
      ...(lsda !== undefined ? { lsda: Object.freeze(lsda) } : {}),
      instructions: cursor.rest("FDE instructions"),
    });
  };

  let at = extent.offset;
  while (end - at >= 4) {
    if (reader.u32(at, ".eh_frame record length") === 0) {
      if (!extent.bySection) break; // the zero terminator (crtend.o) ends the table for libgcc
      at += 4;
      continue;
    }
    const record = recordAt(at);
    if (record.fde) {
      const ciePos = BigInt(record.idAt) - record.id;
      const cie = cieAt(ciePos < 0n ? -1 : Number(ciePos), at);
      fdes.push(parseFde(record.cursor, at, cie));
    } else if (!cies.has(at)) {
      parseCie(record.cursor, at);
    }
    at = record.next;
  }
  return Object.freeze({
    address: extent.address,
    offset: extent.offset,
    size: at - extent.offset,
    cies: Object.freeze([...cies.values()].sort((a, b) => a.offset - b.offset)),
    fdes: Object.freeze(fdes),
  });
}

function locateEhFrame(elf: Elf64Core): Extent | undefined {
  const section = findSection(elf.sections, ".eh_frame");
  if (section !== undefined && hasFileBytes(section)) {
    return { offset: section.offset, address: section.addr, size: section.size, bySection: true };
  }
  const hdr = readEhFrameHdr(elf);
  if (hdr === undefined || hdr.ehFramePointer === undefined) return undefined;
  const offset = requireVaddr(elf.segments, hdr.ehFramePointer, 4, "eh_frame_ptr", hdr.offset);
  const segment = elf.segments.find(
    (s) => s.type === PT_LOAD && offset >= s.offset && offset < s.offset + s.filesz,
  );
  const size = segment === undefined ? 0 : segment.offset + segment.filesz - offset;
  return { offset, address: hdr.ehFramePointer, size, bySection: false };
}
