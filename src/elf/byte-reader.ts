// Bounds-checked, endian-aware reads over an ELF file's bytes. Every read
// names what it is reading, so a malformed or truncated file becomes
// ELF_MALFORMED "<what> ... at offset N" instead of a RangeError from a
// DataView — the one place where that guarantee is made.
import { MegaliftError } from "../errors.js";

/** Throws the one error every ELF parsing failure becomes. */
export function elfMalformed(what: string, offset: number | bigint): never {
  throw new MegaliftError("ELF_MALFORMED", `${what} at offset ${offset}`);
}

export class ByteReader {
  readonly length: number;
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly littleEndian: boolean,
  ) {
    this.length = bytes.length;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Checks that [offset, offset + size) lies inside the file. */
  requireRange(offset: number, size: number, what: string): void {
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(size) ||
      offset < 0 ||
      size < 0 ||
      offset > this.length ||
      size > this.length - offset
    ) {
      elfMalformed(
        `${what} (${size} bytes) extends past the end of the file (${this.length} bytes)`,
        offset,
      );
    }
  }

  u8(offset: number, what: string): number {
    this.requireRange(offset, 1, what);
    return this.view.getUint8(offset);
  }

  u16(offset: number, what: string): number {
    this.requireRange(offset, 2, what);
    return this.view.getUint16(offset, this.littleEndian);
  }

  u32(offset: number, what: string): number {
    this.requireRange(offset, 4, what);
    return this.view.getUint32(offset, this.littleEndian);
  }

  /** An Elf64_Addr / Elf64_Xword / Elf64_Off as an exact unsigned bigint. */
  u64(offset: number, what: string): bigint {
    this.requireRange(offset, 8, what);
    return this.view.getBigUint64(offset, this.littleEndian);
  }

  /** An Elf64_Sxword (d_tag, r_addend) as an exact signed bigint. */
  i64(offset: number, what: string): bigint {
    this.requireRange(offset, 8, what);
    return this.view.getBigInt64(offset, this.littleEndian);
  }

  /**
   * A 64-bit file offset or size as a number. Values past 2^53 cannot be the
   * offset or size of anything in a file we can hold in memory, so they are
   * malformed rather than silently rounded.
   */
  size64(offset: number, what: string): number {
    const value = this.u64(offset, what);
    if (value > BigInt(Number.MAX_SAFE_INTEGER))
      elfMalformed(`${what} ${value} is too large`, offset);
    return Number(value);
  }

  /** Bytes [offset, offset + size) as a view (no copy) after a bounds check. */
  slice(offset: number, size: number, what: string): Uint8Array {
    this.requireRange(offset, size, what);
    return this.bytes.subarray(offset, offset + size);
  }

  /**
   * The NUL-terminated string starting at `offset`, which must end before
   * `limit` (the end of its string table). Decoded as UTF-8; ELF names are
   * bytes, and anything else is replaced rather than rejected.
   */
  cString(offset: number, limit: number, what: string): string {
    const end = Math.min(limit, this.length);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= end) {
      elfMalformed(`${what} lies outside its string table`, offset);
    }
    const length = this.bytes.subarray(offset, end).indexOf(0);
    if (length < 0) elfMalformed(`${what} is not NUL-terminated`, offset);
    return decoder.decode(this.bytes.subarray(offset, offset + length));
  }
}

const decoder = new TextDecoder("utf-8");
