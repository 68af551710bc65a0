// The content store: BLAKE3 keys with fan-out, atomic writes that leave no
// temp files, deduplication, failing sources, and the default location.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { MegaliftError, isMegaliftError } from "../../../src/errors.js";
import { blake3Hex } from "../../../src/hash/blake3.js";
import {
  ContentStore,
  IN_MEMORY_LIMIT,
  defaultContentDirectory,
} from "../../../src/oci/rootfs/content-store.js";
import { flatten, tempDir } from "./rootfs-test-kit.js";

async function* chunksOf(data: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

/** Every file under `dir`, relative, sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe("ContentStore", () => {
  for (const [label, size] of [
    ["a small blob", 1000],
    ["a blob larger than the in-memory limit", IN_MEMORY_LIMIT * 3 + 17],
  ] as const) {
    test(`stores ${label} under its BLAKE3 with a two-hex fan-out, leaving no temp file`, async () => {
      const store = new ContentStore(join(await tempDir(), "content"));
      const data = Buffer.alloc(size, 0);
      for (let i = 0; i < size; i++) data[i] = (i * 31 + 7) & 0xff;
      const ref = await store.write(chunksOf(data, 4099));
      const hex = blake3Hex(data);
      expect(ref).toEqual({ blake3: hex, size });
      expect(store.pathOf(hex)).toBe(join(store.directory, hex.slice(0, 2), hex));
      expect((await readFile(store.pathOf(hex))).equals(data)).toBe(true);
      expect(await filesUnder(store.directory)).toEqual([join(hex.slice(0, 2), hex)]);
      expect(await store.has(hex)).toBe(true);
      expect(await store.has(hex, size + 1)).toBe(false);
    });
  }

  test("the same bytes twice are stored once (the second write does not replace the file)", async () => {
    const store = new ContentStore(join(await tempDir(), "content"));
    for (const size of [10, IN_MEMORY_LIMIT + 1]) {
      const data = Buffer.alloc(size, 0x61);
      const first = await store.write(chunksOf(data, 1000));
      const before = await stat(store.pathOf(first.blake3));
      const second = await store.write(chunksOf(data, 777));
      expect(second).toEqual(first);
      const after = await stat(store.pathOf(first.blake3));
      expect(after.ino).toBe(before.ino); // not re-renamed into place
    }
    expect((await filesUnder(store.directory)).filter((f) => !f.startsWith("tmp"))).toHaveLength(2);
    expect(await readdir(join(store.directory, "tmp"))).toEqual([]);
  });

  test("identical files across layers and paths share one blob", async () => {
    const dir = join(await tempDir(), "content");
    const store = new ContentStore(dir);
    const view = await flatten(
      [
        [
          { name: "a/libc.so.6", content: "same bytes" },
          { name: "b", content: "other" },
        ],
        [{ name: "c/libc.so.6", content: "same bytes" }],
      ],
      store,
    );
    expect(view.lstat("/a/libc.so.6")?.content).toEqual(view.lstat("/c/libc.so.6")?.content);
    expect((await filesUnder(dir)).filter((f) => !f.startsWith("tmp"))).toHaveLength(2);
  });

  test("a source that fails midway passes its error through and leaves nothing behind", async () => {
    const store = new ContentStore(join(await tempDir(), "content"));
    const failure = new MegaliftError("LAYER_CORRUPT", "layer sha256:x is truncated");
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.alloc(IN_MEMORY_LIMIT + 10, 1); // big enough to have opened a temp file
      throw failure;
    }
    await expect(store.write(failing())).rejects.toBe(failure);
    expect(await filesUnder(store.directory)).toEqual([]);
  });

  test("a missing blob is a clear IO error", async () => {
    const store = new ContentStore(join(await tempDir(), "content"));
    const ref = { blake3: blake3Hex(Buffer.from("never stored")), size: 12 };
    let caught: unknown;
    try {
      await store.read(ref);
    } catch (err) {
      caught = err;
    }
    expect(isMegaliftError(caught, "IO")).toBe(true);
    expect((caught as Error).message).toContain(`content blake3:${ref.blake3} is missing from`);
    const streamed = await new Promise<unknown>((resolve) => {
      store.createReadStream(ref).on("error", resolve).resume();
    });
    expect(isMegaliftError(streamed, "IO")).toBe(true);
  });

  test("keys that are not BLAKE3 hex are refused (no path tricks)", () => {
    const store = new ContentStore("/nonexistent");
    expect(() => store.pathOf("../../etc/passwd")).toThrow(/invalid BLAKE3/);
  });

  test("default location: MEGALIFT_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache", () => {
    expect(defaultContentDirectory({ MEGALIFT_CACHE_DIR: "/m", XDG_CACHE_HOME: "/x" }, "/h")).toBe(
      "/m/content",
    );
    expect(defaultContentDirectory({ XDG_CACHE_HOME: "/x" }, "/h")).toBe("/x/megalift/content");
    expect(defaultContentDirectory({}, "/h")).toBe("/h/.cache/megalift/content");
    expect(ContentStore.default({ MEGALIFT_CACHE_DIR: "/m" }).directory).toBe("/m/content");
  });
});
