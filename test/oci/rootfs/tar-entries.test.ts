// Reading layer tars: name normalisation, PAX and GNU long names, PAX
// numeric records, entry types, and the errors for bad or hostile input.
import { Readable } from "node:stream";
import { describe, expect, test } from "vitest";
import { MegaliftError, isMegaliftError } from "../../../src/errors.js";
import { readTarEntries } from "../../../src/oci/rootfs/tar-entries.js";
import { buildTar } from "../../helpers/tar.js";
import {
  END_OF_ARCHIVE,
  gnuLongNameEntry,
  padBlock,
  paxHeader,
  rawHeader,
} from "../../helpers/raw-tar.js";

const LABEL = "layer sha256:feed";

interface ReadEntry {
  readonly path: string;
  readonly type: string;
  readonly text: string;
  readonly linkTarget?: string;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: number;
  readonly mode: number;
}

async function readAll(tar: Uint8Array, chunkSize = 333): Promise<ReadEntry[]> {
  const chunks: Buffer[] = [];
  for (let at = 0; at < tar.length; at += chunkSize) {
    chunks.push(Buffer.from(tar.subarray(at, at + chunkSize)));
  }
  const out: ReadEntry[] = [];
  for await (const entry of readTarEntries(Readable.from(chunks), LABEL)) {
    const parts: Buffer[] = [];
    for await (const chunk of entry.body) parts.push(Buffer.from(chunk));
    out.push({
      path: entry.path,
      type: entry.type,
      text: Buffer.concat(parts).toString(),
      uid: entry.uid,
      gid: entry.gid,
      mtime: entry.mtime,
      mode: entry.mode,
      ...(entry.linkTarget !== undefined ? { linkTarget: entry.linkTarget } : {}),
    });
  }
  return out;
}

async function readError(tar: Uint8Array): Promise<unknown> {
  return readAll(tar).then(
    () => new Error("expected the tar to be refused"),
    (err: unknown) => err,
  );
}

describe("readTarEntries", () => {
  test("normalises names: strips ./, collapses // and ., folds a/..", async () => {
    const tar = await buildTar([
      { name: "./", type: "directory" },
      { name: "./etc/", type: "directory" },
      { name: ".//etc//./hosts", content: "127.0.0.1" },
      { name: "usr/lib/../bin/sh", content: "#!" },
    ]);
    const entries = await readAll(tar);
    expect(entries.map((e) => e.path)).toEqual(["/", "/etc", "/etc/hosts", "/usr/bin/sh"]);
    expect(entries[2]?.text).toBe("127.0.0.1");
  });

  test("maps every tar type and keeps mode bits including setuid", async () => {
    const tar = await buildTar([
      { name: "bin/su", content: "x", mode: 0o4755 },
      { name: "bin/su-link", type: "link", linkname: "./bin/su" },
      { name: "bin/sh", type: "symlink", linkname: "/bin/dash" },
      { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3 },
      { name: "dev/loop0", type: "block-device", devmajor: 7, devminor: 0 },
      { name: "run/pipe", type: "fifo" },
      { name: "tmp", type: "directory", mode: 0o1777 },
    ]);
    const entries = await readAll(tar);
    expect(entries.map((e) => [e.path, e.type])).toEqual([
      ["/bin/su", "file"],
      ["/bin/su-link", "hardlink"],
      ["/bin/sh", "symlink"],
      ["/dev/null", "char"],
      ["/dev/loop0", "block"],
      ["/run/pipe", "fifo"],
      ["/tmp", "directory"],
    ]);
    expect(entries[0]?.mode).toBe(0o4755);
    expect(entries[1]?.linkTarget).toBe("/bin/su"); // hardlink targets are normalised
    expect(entries[2]?.linkTarget).toBe("/bin/dash"); // symlink targets are kept as stored
    expect(entries[6]?.mode).toBe(0o1777);
  });

  test("PAX long names and link names", async () => {
    const longDir = "d".repeat(120);
    const longFile = `${longDir}/${"f".repeat(150)}`;
    const longTarget = `/${"t".repeat(130)}`;
    const tar = await buildTar([
      { name: longFile, content: "long" },
      { name: "short-link", type: "symlink", linkname: longTarget },
    ]);
    // Prove the archive really uses PAX extended headers (typeflag 'x').
    expect(tar[156]).toBe("x".charCodeAt(0));
    const entries = await readAll(tar);
    expect(entries.map((e) => e.path)).toEqual([`/${longFile}`, "/short-link"]);
    expect(entries[0]?.text).toBe("long");
    expect(entries[1]?.linkTarget).toBe(longTarget);
  });

  test("PAX uid, gid and mtime records override the ustar fields", async () => {
    const body = Buffer.from("owned");
    const tar = Buffer.concat([
      paxHeader({ uid: "3000000", gid: "4000000", mtime: "1700000000.25" }),
      rawHeader({ name: "home/big-uid", typeflag: "0", size: body.length }),
      padBlock(body),
      END_OF_ARCHIVE,
    ]);
    const [entry] = await readAll(tar);
    expect(entry).toMatchObject({ path: "/home/big-uid", uid: 3000000, gid: 4000000 });
    expect(entry?.mtime).toBe(1700000000);
    expect(entry?.text).toBe("owned");
  });

  test("GNU long names ('L' records)", async () => {
    const name = `usr/share/${"n".repeat(200)}/file.txt`;
    const tar = Buffer.concat([gnuLongNameEntry(name, "gnu body"), END_OF_ARCHIVE]);
    expect(tar.subarray(0, 13).toString()).toBe("././@LongLink");
    expect(tar[156]).toBe("L".charCodeAt(0));
    const entries = await readAll(tar);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.path).toBe(`/${name}`);
    expect(entries[0]?.text).toBe("gnu body");
  });

  test("bodies left unread by the consumer are skipped, not misparsed", async () => {
    const tar = await buildTar([
      { name: "a", content: "A".repeat(5000) },
      { name: "b", content: "B" },
    ]);
    const seen: string[] = [];
    for await (const entry of readTarEntries(Readable.from([tar]), LABEL)) seen.push(entry.path);
    expect(seen).toEqual(["/a", "/b"]);
  });

  test("an absolute entry name is PATH_ESCAPE naming the layer and the entry", async () => {
    const err = await readError(await buildTar([{ name: "/etc/passwd", content: "root" }]));
    expect(isMegaliftError(err, "PATH_ESCAPE")).toBe(true);
    expect(String((err as Error).message)).toContain(LABEL);
    expect(String((err as Error).message)).toContain('"/etc/passwd"');
  });

  test("names are quoted in messages, so a hostile name cannot add lines", async () => {
    const err = await readError(await buildTar([{ name: "/x\nmegalift: all good", content: "" }]));
    expect(isMegaliftError(err, "PATH_ESCAPE")).toBe(true);
    expect((err as Error).message).not.toContain("\n");
    expect((err as Error).message).toContain('"/x\\nmegalift: all good"');
  });

  test('".." that climbs above the root is PATH_ESCAPE', async () => {
    const err = await readError(await buildTar([{ name: "a/../../etc/passwd", content: "x" }]));
    expect(isMegaliftError(err, "PATH_ESCAPE")).toBe(true);
    expect((err as Error).message).toMatch(/layer sha256:feed entry "a\/\.\.\/\.\.\/etc\/passwd"/);
  });

  test("a hardlink whose target climbs out is PATH_ESCAPE", async () => {
    const err = await readError(
      await buildTar([{ name: "steal", type: "link", linkname: "../../etc/shadow" }]),
    );
    expect(isMegaliftError(err, "PATH_ESCAPE")).toBe(true);
    expect((err as Error).message).toContain("hardlink target");
  });

  test("a tar cut inside a body is LAYER_CORRUPT naming the layer", async () => {
    const tar = await buildTar([{ name: "big", content: "z".repeat(4096) }]);
    const err = await readError(tar.subarray(0, 512 + 1000));
    expect(isMegaliftError(err, "LAYER_CORRUPT")).toBe(true);
    expect((err as Error).message).toContain(LABEL);
    expect((err as Error).message).not.toContain("\n");
  });

  test("a tar cut inside a header is LAYER_CORRUPT", async () => {
    const tar = await buildTar([
      { name: "a", content: "a" },
      { name: "b", content: "b" },
    ]);
    const err = await readError(tar.subarray(0, 1024 + 200));
    expect(isMegaliftError(err, "LAYER_CORRUPT")).toBe(true);
  });

  test("bytes that are not a tar are LAYER_CORRUPT", async () => {
    const err = await readError(Buffer.from("this is not a tar archive ".repeat(40)));
    expect(isMegaliftError(err, "LAYER_CORRUPT")).toBe(true);
    expect((err as Error).message).toContain(LABEL);
  });

  test("a typeflag megalift cannot represent (GNU sparse 'S') is LAYER_CORRUPT", async () => {
    const tar = Buffer.concat([
      rawHeader({ name: "sparse", typeflag: "S", format: "gnu" }),
      END_OF_ARCHIVE,
    ]);
    const err = await readError(tar);
    expect(isMegaliftError(err, "LAYER_CORRUPT")).toBe(true);
    expect((err as Error).message).toContain("unsupported tar entry type");
  });

  test("an error of the layer stream itself: MegaliftError kept, others become IO", async () => {
    const tar = await buildTar([{ name: "a", content: "a".repeat(3000) }]);
    const inflateError = new MegaliftError("LAYER_CORRUPT", "layer sha256:feed: bad zstd frame");
    for (const failure of [inflateError, new Error("socket hang up")]) {
      const failing = new Readable({
        read() {
          this.push(tar.subarray(0, 700));
          this.destroy(failure);
        },
      });
      const err = await (async () => {
        try {
          for await (const e of readTarEntries(failing, LABEL)) {
            for await (const chunk of e.body) void chunk;
          }
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      if (failure === inflateError) expect(err).toBe(inflateError);
      else {
        expect(isMegaliftError(err, "IO")).toBe(true);
        expect((err as Error).message).toBe(`reading ${LABEL} failed: socket hang up`);
      }
    }
  });
});
