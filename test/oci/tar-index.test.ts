// The tar member index used for docker-archive: ustar prefixes, pax paths,
// GNU long names, links, and broken archives.
import { open, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { indexTar, type TarMember } from "../../src/oci/tar-index.js";
import { buildTar } from "../helpers/tar.js";
import { tempDir } from "./build-image.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function indexBytes(
  bytes: Buffer,
): Promise<{ members: Map<string, TarMember>; read: (m: TarMember) => string }> {
  const dir = await tempDir();
  dirs.push(dir);
  const path = join(dir, "a.tar");
  await writeFile(path, bytes);
  const handle = await open(path, "r");
  try {
    const members = await indexTar(handle, "archive A");
    return { members, read: (m) => bytes.subarray(m.offset, m.offset + m.size).toString() };
  } finally {
    await handle.close();
  }
}

/** A GNU tar header block (magic "ustar  \0") with its checksum. */
function gnuHeader(name: string, typeflag: string, size: number): Buffer {
  const block = Buffer.alloc(512);
  block.write(name.slice(0, 99), 0);
  block.write("0000644\0", 100);
  block.write("0000000\0", 108);
  block.write("0000000\0", 116);
  block.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
  block.write("00000000000\0", 136);
  block.write(typeflag, 156);
  block.write("ustar  \0", 257, "binary");
  block.fill(0x20, 148, 156);
  const sum = block.reduce((a, b) => a + b, 0);
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "binary");
  return block;
}

function padded(content: string): Buffer {
  const data = Buffer.from(content);
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

describe("indexTar", () => {
  it("indexes files, directories and links with their data ranges", async () => {
    const longDir = `${"d".repeat(120)}/${"e".repeat(60)}`; // ustar prefix + name
    const longFlat = "f".repeat(180); // no '/', so a pax path record
    const tar = await buildTar([
      { name: "./dir/" },
      { name: "./dir/a.txt", content: "alpha" },
      { name: `${longDir}/layer.tar`, content: "prefixed" },
      { name: longFlat, content: "pax named" },
      { name: "link-sym", type: "symlink", linkname: "dir/a.txt" },
      { name: "link-hard", type: "link", linkname: "dir/a.txt" },
      { name: "empty", content: "" },
    ]);
    const { members, read } = await indexBytes(tar);
    const a = members.get("dir/a.txt");
    expect(a?.type).toBe("file");
    expect(a && read(a)).toBe("alpha");
    expect(members.get("dir")?.type).toBe("directory");
    const prefixed = members.get(`${longDir}/layer.tar`);
    expect(prefixed && read(prefixed)).toBe("prefixed");
    const pax = members.get(longFlat);
    expect(pax && read(pax)).toBe("pax named");
    expect(members.get("link-sym")).toMatchObject({ type: "symlink", linkName: "dir/a.txt" });
    expect(members.get("link-hard")).toMatchObject({ type: "hardlink", linkName: "dir/a.txt" });
    expect(members.get("empty")).toMatchObject({ type: "file", size: 0 });
  });

  it("reads GNU long names (typeflag L)", async () => {
    const name = `blobs/sha256/${"0123456789abcdef".repeat(8)}`;
    const archive = Buffer.concat([
      gnuHeader("././@LongLink", "L", name.length + 1),
      padded(`${name}\0`),
      gnuHeader(name.slice(0, 99), "0", 5),
      padded("hello"),
      Buffer.alloc(1024),
    ]);
    const { members, read } = await indexBytes(archive);
    const member = members.get(name);
    expect(member && read(member)).toBe("hello");
    expect(members.size).toBe(1);
  });

  it("fails with IO on a bad checksum and on a truncated member", async () => {
    const tar = await buildTar([{ name: "a", content: "x".repeat(2000) }]);
    const bad = Buffer.from(tar);
    bad[0] = "b".charCodeAt(0);
    await expect(indexBytes(bad)).rejects.toMatchObject({
      code: "IO",
      message: expect.stringContaining("checksum"),
    });
    await expect(indexBytes(tar.subarray(0, 1500))).rejects.toMatchObject({
      code: "IO",
      message: expect.stringContaining("archive A is not a valid tar archive"),
    });
    await expect(indexBytes(Buffer.from("not a tar at all"))).rejects.toMatchObject({ code: "IO" });
  });
});
