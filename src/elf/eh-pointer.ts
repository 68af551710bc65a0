// Reading .eh_frame and .eh_frame_hdr fields: a cursor bounded by its
// record, LEB128 numbers (DWARF 4 §7.6), and DW_EH_PE-encoded pointers (LSB
// Core 5.0 "DWARF Exception Header Encoding"; libgcc unwind-pe.h is the
// reference implementation). An encoding byte is a value format (low
// nibble) plus how to apply it (bits 4-6) plus DW_EH_PE_indirect (bit 7).
import { ByteReader, elfMalformed } from "./byte-reader.js";

export const DW_EH_PE_absptr = 0x00;
export const DW_EH_PE_uleb128 = 0x01;
export const DW_EH_PE_udata2 = 0x02;
export const DW_EH_PE_udata4 = 0x03;
export const DW_EH_PE_udata8 = 0x04;
export const DW_EH_PE_sleb128 = 0x09;
export const DW_EH_PE_sdata2 = 0x0a;
export const DW_EH_PE_sdata4 = 0x0b;
export const DW_EH_PE_sdata8 = 0x0c;
export const DW_EH_PE_pcrel = 0x10;
export const DW_EH_PE_textrel = 0x20;
export const DW_EH_PE_datarel = 0x30;
export const DW_EH_PE_funcrel = 0x40;
export const DW_EH_PE_aligned = 0x50;
export const DW_EH_PE_indirect = 0x80;
export const DW_EH_PE_omit = 0xff;

/** The bases an encoded pointer may be relative to (LSB: .text, .got or .eh_frame_hdr, the function). */
export interface PointerBases {
  /** DW_EH_PE_textrel: the start of .text. */
  readonly text?: bigint;
  /** DW_EH_PE_datarel: .got in .eh_frame, the table's own start in .eh_frame_hdr. */
  readonly data?: bigint;
  /** DW_EH_PE_funcrel: the FDE's initial location (LSDA pointers only). */
  readonly func?: bigint;
}

export interface EncodedPointer {
  /**
   * The address after applying pcrel/textrel/datarel/funcrel. With
   * DW_EH_PE_indirect it is the address of a pointer-sized slot holding the
   * real value, which is only known after relocation (e.g. DW.ref.__gxx_personality_v0).
   */
  readonly value: bigint;
  readonly indirect: boolean;
}

/** A read position inside one record whose bytes lie at a known virtual address. */
export class EhCursor {
  constructor(
    readonly reader: ByteReader,
    /** The current file offset. */
    public pos: number,
    /** The file offset the record ends at; reads past it are malformed. */
    readonly limit: number,
    /** A file offset and the virtual address it is loaded at, for pcrel. */
    readonly anchor: { readonly offset: number; readonly address: bigint },
  ) {}

  /** The virtual address of the current position. */
  address(): bigint {
    return this.anchor.address + BigInt(this.pos - this.anchor.offset);
  }

  private take(size: number, what: string): number {
    if (size > this.limit - this.pos) {
      elfMalformed(`${what} runs past the end of its record (at ${this.limit})`, this.pos);
    }
    const at = this.pos;
    this.pos += size;
    return at;
  }

  u8(what: string): number {
    return this.reader.u8(this.take(1, what), what);
  }
  u16(what: string): number {
    return this.reader.u16(this.take(2, what), what);
  }
  u32(what: string): number {
    return this.reader.u32(this.take(4, what), what);
  }
  u64(what: string): bigint {
    return this.reader.u64(this.take(8, what), what);
  }
  i64(what: string): bigint {
    return this.reader.i64(this.take(8, what), what);
  }

  /** An unsigned LEB128 of at most 10 bytes (64 bits). */
  uleb(what: string): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = this.u8(what);
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    return elfMalformed(`${what}: LEB128 longer than 10 bytes`, this.pos);
  }

  /** A signed LEB128 of at most 10 bytes. */
  sleb(what: string): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = this.u8(what);
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        const bits = shift + 7n;
        return BigInt.asIntN(64, (byte & 0x40) !== 0 ? result - (1n << bits) : result);
      }
    }
    return elfMalformed(`${what}: LEB128 longer than 10 bytes`, this.pos);
  }

  /** A small unsigned LEB128 (a length or a register number) as a number. */
  ulebNumber(what: string): number {
    const at = this.pos;
    // Fast path without BigInt: up to 4 bytes (28 bits), which every real length fits.
    let value = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      const byte = this.u8(what);
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    this.pos = at;
    const big = this.uleb(what);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) elfMalformed(`${what} ${big} is too large`, at);
    return Number(big);
  }

  /** A NUL-terminated string inside the record. */
  cString(what: string): string {
    const value = this.reader.cString(this.pos, this.limit, what);
    this.pos += this.reader.bytes.subarray(this.pos, this.limit).indexOf(0) + 1;
    return value;
  }

  /** The bytes from here to the end of the record (a view, no copy). */
  rest(what: string): Uint8Array {
    return this.reader.slice(this.pos, this.limit - this.pos, what);
  }
}

/** Reads a value in the format of `encoding`'s low nibble, without applying it (FDE address ranges). */
export function readEncodedValue(cursor: EhCursor, encoding: number, what: string): bigint {
  switch (encoding & 0x0f) {
    case DW_EH_PE_absptr:
    case DW_EH_PE_udata8:
      return cursor.u64(what);
    case DW_EH_PE_uleb128:
      return cursor.uleb(what);
    case DW_EH_PE_udata2:
      return BigInt(cursor.u16(what));
    case DW_EH_PE_udata4:
      return BigInt(cursor.u32(what));
    case DW_EH_PE_sleb128:
      return cursor.sleb(what);
    case DW_EH_PE_sdata2:
      return BigInt((cursor.u16(what) << 16) >> 16);
    case DW_EH_PE_sdata4:
      return BigInt(cursor.u32(what) | 0);
    case DW_EH_PE_sdata8:
      return cursor.i64(what);
    default:
      return badEncoding(encoding, what, cursor.pos);
  }
}

/** Reads and applies a DW_EH_PE-encoded pointer. The caller handles DW_EH_PE_omit. */
export function readEncodedPointer(
  cursor: EhCursor,
  encoding: number,
  bases: PointerBases,
  what: string,
): EncodedPointer {
  const indirect = (encoding & DW_EH_PE_indirect) !== 0;
  const application = encoding & 0x70;
  if (application === DW_EH_PE_aligned) {
    // libgcc: round the position up to a pointer boundary and read an absptr there.
    const misalign = Number(cursor.address() % 8n);
    if (misalign !== 0) cursor.pos += 8 - misalign;
    return { value: cursor.u64(what), indirect };
  }
  const base = applicationBase(cursor, encoding, bases, what);
  const value = readEncodedValue(cursor, encoding, what);
  return { value: BigInt.asUintN(64, base + value), indirect };
}

/** The base a pointer's value is added to, by the encoding's application bits. */
function applicationBase(
  cursor: EhCursor,
  encoding: number,
  bases: PointerBases,
  what: string,
): bigint {
  const at = cursor.pos;
  switch (encoding & 0x70) {
    case 0:
      return 0n;
    case DW_EH_PE_pcrel:
      return cursor.address();
    case DW_EH_PE_textrel:
      return bases.text ?? elfMalformed(`${what}: textrel pointer without a .text base`, at);
    case DW_EH_PE_datarel:
      return bases.data ?? elfMalformed(`${what}: datarel pointer without a data base`, at);
    case DW_EH_PE_funcrel:
      return bases.func ?? elfMalformed(`${what}: funcrel pointer outside an FDE`, at);
    default:
      return badEncoding(encoding, what, at);
  }
}

/** Checks an encoding byte without reading (CIE augmentation data names encodings up front). */
export function checkEncoding(encoding: number, what: string, at: number): void {
  if (encoding === DW_EH_PE_omit) return;
  const format = encoding & 0x0f;
  const validFormat = format <= 4 || (format >= 9 && format <= 0x0c);
  if (!validFormat || (encoding & 0x70) > DW_EH_PE_aligned) badEncoding(encoding, what, at);
}

function badEncoding(encoding: number, what: string, at: number): never {
  return elfMalformed(`${what}: bad pointer encoding 0x${encoding.toString(16)}`, at);
}
