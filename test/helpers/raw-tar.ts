// Hand-made tar headers for tests that need what tar-stream's packer does not
// write: GNU long names (typeflag 'L', POSIX.1-2001 predecessor used by GNU
// tar), PAX records beyond path/linkpath, and archives cut short.

/** One 512-byte header block (ustar layout) with its checksum filled in. */
export function rawHeader(fields: {
  readonly name: string;
  readonly typeflag: string;
  readonly size?: number;
  readonly mode?: number;
  readonly linkname?: string;
  /** "gnu" writes the GNU magic "ustar  \0", "ustar" the POSIX "ustar\0" "00". */
  readonly format?: "gnu" | "ustar";
}): Buffer {
  const block = Buffer.alloc(512);
  block.write(fields.name.slice(0, 100), 0, "utf8");
  block.write(octal(fields.mode ?? 0o644, 7), 100);
  block.write(octal(0, 7), 108);
  block.write(octal(0, 7), 116);
  block.write(octal(fields.size ?? 0, 11), 124);
  block.write(octal(0, 11), 136);
  block.write(fields.typeflag, 156);
  if (fields.linkname !== undefined) block.write(fields.linkname.slice(0, 100), 157);
  if ((fields.format ?? "ustar") === "gnu") block.write("ustar  \0", 257, "binary");
  else block.write("ustar\u000000", 257, "binary");
  // Checksum: sum of all bytes with the checksum field taken as eight spaces.
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  block.write(octal(sum, 6) + "\0 ", 148, "binary");
  return block;
}

/** `data` padded with zeros to a multiple of 512 bytes. */
export function padBlock(data: Uint8Array): Buffer {
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  padded.set(data);
  return padded;
}

/** A GNU long-name record ('L') for `name`, followed by the entry's own header and body. */
export function gnuLongNameEntry(name: string, content: string): Buffer {
  const longName = Buffer.from(name + "\0");
  const body = Buffer.from(content);
  return Buffer.concat([
    rawHeader({ name: "././@LongLink", typeflag: "L", size: longName.length, format: "gnu" }),
    padBlock(longName),
    rawHeader({ name, typeflag: "0", size: body.length, format: "gnu" }),
    padBlock(body),
  ]);
}

/** A PAX extended header ('x') carrying `records`, to precede one entry. */
export function paxHeader(records: Readonly<Record<string, string>>): Buffer {
  let text = "";
  for (const [key, value] of Object.entries(records)) {
    const rest = ` ${key}=${value}\n`;
    // The length field counts itself: find the fixed point.
    let length = rest.length + 1;
    while (String(length).length + Buffer.byteLength(rest) !== length) {
      length = String(length).length + Buffer.byteLength(rest);
    }
    text += `${length}${rest}`;
  }
  const data = Buffer.from(text);
  return Buffer.concat([
    rawHeader({ name: "PaxHeaders/entry", typeflag: "x", size: data.length }),
    padBlock(data),
  ]);
}

/** The two zero blocks that end a tar archive. */
export const END_OF_ARCHIVE = Buffer.alloc(1024);

function octal(value: number, digits: number): string {
  return value.toString(8).padStart(digits, "0");
}
