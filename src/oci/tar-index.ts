// An index of a tar file's members (name → byte range), built by reading only
// the 512-byte headers (POSIX.1-2001 ustar, pax "path"/"linkpath" records, and
// GNU 'L'/'K' long names), so members can later be read by range without
// streaming the archive. Used for `docker save` tarballs.
import type { FileHandle } from "node:fs/promises";
import { MegaliftError } from "../errors.js";

const BLOCK = 512;

export interface TarMember {
  /** Normalised path: no leading "./" or "/", no trailing "/". */
  readonly name: string;
  readonly type: "file" | "directory" | "symlink" | "hardlink" | "other";
  /** Byte offset of the member's data in the archive. */
  readonly offset: number;
  readonly size: number;
  readonly linkName?: string;
}

/** Member path as stored, normalised for lookup. */
export function normaliseMemberName(name: string): string {
  return name
    .split("/")
    .filter((part) => part !== "" && part !== ".")
    .join("/");
}

function readString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString("utf8");
}

/** A numeric field: octal text, or base-256 when the high bit of the first byte is set (GNU). */
function readNumber(block: Buffer, start: number, length: number): number {
  const field = block.subarray(start, start + length);
  if (((field[0] ?? 0) & 0x80) !== 0) {
    let value = (field[0] ?? 0) & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0);
    return value;
  }
  const text = readString(block, start, length).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new Error(`bad octal number "${text}"`);
  return parseInt(text, 8);
}

/** ustar: the checksum is the byte sum of the header with the checksum field read as spaces. */
function checksumMatches(block: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
  return sum === readNumber(block, 148, 8);
}

/** pax extended header records: "<length> <key>=<value>\n". */
function parsePax(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const length = parseInt(data.subarray(pos, space).toString("ascii"), 10);
    if (!Number.isFinite(length) || length <= 0) break;
    const record = data.subarray(space + 1, pos + length - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    pos += length;
  }
  return records;
}

function memberType(flag: string): TarMember["type"] {
  if (flag === "0" || flag === "\0" || flag === "" || flag === "7") return "file";
  if (flag === "5") return "directory";
  if (flag === "2") return "symlink";
  if (flag === "1") return "hardlink";
  return "other";
}

async function readExactly(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of archive at byte ${position + done}`);
    done += bytesRead;
  }
  return buffer;
}

/** Indexes every member of the tar in `file` (`what` names it in errors). */
export async function indexTar(file: FileHandle, what: string): Promise<Map<string, TarMember>> {
  const members = new Map<string, TarMember>();
  const { size: archiveSize } = await file.stat();
  let position = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax = new Map<string, string>();
  try {
    while (position + BLOCK <= archiveSize) {
      const header = await readExactly(file, position, BLOCK);
      if (header.every((b) => b === 0)) return members; // end-of-archive marker
      if (!checksumMatches(header)) throw new Error(`bad header checksum at byte ${position}`);
      const flag = String.fromCharCode(header[156] ?? 0);
      const size = readNumber(header, 124, 12);
      const dataOffset = position + BLOCK;
      const next = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
      if (dataOffset + size > archiveSize)
        throw new Error(`member at byte ${position} is truncated`);
      if (flag === "L" || flag === "K" || flag === "x") {
        const data = await readExactly(file, dataOffset, size);
        if (flag === "L") longName = readString(data, 0, data.length);
        else if (flag === "K") longLink = readString(data, 0, data.length);
        else pax = parsePax(data);
        position = next;
        continue;
      }
      if (flag !== "g") {
        // Only POSIX ustar ("ustar\0") has a prefix field; GNU tar uses those bytes otherwise.
        const prefix =
          readString(header, 257, 6) === "ustar" && header[262] === 0
            ? readString(header, 345, 155)
            : "";
        const stored = readString(header, 0, 100);
        const name = pax.get("path") ?? longName ?? (prefix ? `${prefix}/${stored}` : stored);
        const link = pax.get("linkpath") ?? longLink ?? readString(header, 157, 100);
        const type = memberType(flag);
        members.set(normaliseMemberName(name), {
          name: normaliseMemberName(name),
          type,
          offset: dataOffset,
          size: type === "file" ? size : 0,
          ...(type === "symlink" || type === "hardlink" ? { linkName: link } : {}),
        });
      }
      longName = undefined;
      longLink = undefined;
      pax = new Map();
      position = next;
    }
    if (members.size === 0) throw new Error("it holds no members");
    return members;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new MegaliftError("IO", `${what} is not a valid tar archive: ${reason}`, { cause: err });
  }
}
