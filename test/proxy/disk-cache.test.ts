// The disk cache: atomic, restart-safe entries, stale temporary files,
// least-recently-used eviction with access times that survive a restart.
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DiskCache } from "../../proxy/cache/disk-cache.js";
import { writeFileAtomic } from "../../proxy/cache/atomic-file.js";
import { Digest } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/media-types.js";

let dir: string;
let clock: number;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "megalift-cache-"));
  clock = 1_700_000_000_000;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const open = (maxBytes = 1024 * 1024) => DiskCache.open({ dir, maxBytes, now: () => clock });

async function putBlob(cache: DiskCache, text: string): Promise<Digest> {
  const data = new TextEncoder().encode(text);
  const digest = Digest.of(data);
  const writer = await cache.createBlobWriter(digest, data.length);
  await writer.write(data);
  await writer.commit();
  return digest;
}

async function readBlob(cache: DiskCache, digest: Digest): Promise<string | undefined> {
  const blob = await cache.openBlob(digest);
  if (!blob) return undefined;
  try {
    const buffer = Buffer.alloc(blob.size);
    await blob.handle.read(buffer, 0, blob.size, 0);
    return buffer.toString("utf8");
  } finally {
    await blob.handle.close();
  }
}

describe("atomic, restart-safe entries", () => {
  it("shows a blob only after commit, and never a wrong one", async () => {
    const cache = await open();
    const data = new TextEncoder().encode("hello blob");
    const digest = Digest.of(data);
    const writer = await cache.createBlobWriter(digest, data.length);
    await writer.write(data.subarray(0, 5));
    expect(await cache.openBlob(digest)).toBeUndefined();
    await writer.write(data.subarray(5));
    await writer.commit();
    expect(await readBlob(cache, digest)).toBe("hello blob");

    const wrong = await cache.createBlobWriter(Digest.of("other"), 5);
    await wrong.write(new TextEncoder().encode("wrong"));
    await expect(wrong.commit()).rejects.toMatchObject({ code: "DIGEST_MISMATCH" });
    expect(await cache.openBlob(Digest.of("other"))).toBeUndefined();
    expect(await readdir(join(dir, "tmp"))).toEqual([]);
  });

  it("serves blobs, manifests and tags from a new cache object over the same directory", async () => {
    const first = await open();
    const blob = await putBlob(first, "layer");
    const bytes = new TextEncoder().encode('{"schemaVersion":2}');
    const manifestDigest = Digest.of(bytes);
    await first.putManifest({ digest: manifestDigest, mediaType: MediaType.OciIndex, bytes });
    const tagKey = { host: "registry.test", repository: "team/app", tag: "v1" };
    await first.putTag(tagKey, { digest: manifestDigest, checkedAt: 42 });

    const second = await open();
    expect(await readBlob(second, blob)).toBe("layer");
    const manifest = await second.getManifest(manifestDigest);
    expect(manifest?.mediaType).toBe(MediaType.OciIndex);
    expect(Buffer.from(manifest?.bytes ?? []).toString()).toBe('{"schemaVersion":2}');
    const tag = await second.getTag(tagKey);
    expect(tag?.digest.toString()).toBe(manifestDigest.toString());
    expect(tag?.checkedAt).toBe(42);
    expect(second.sizeBytes()).toBe(first.sizeBytes());
  });

  it("keeps a tag and a repository of the same name apart", async () => {
    const cache = await open();
    const a = Digest.of("a");
    const b = Digest.of("b");
    await cache.putTag({ host: "h", repository: "foo", tag: "bar" }, { digest: a, checkedAt: 1 });
    await cache.putTag(
      { host: "h", repository: "foo/bar", tag: "latest" },
      { digest: b, checkedAt: 1 },
    );
    expect(
      (await cache.getTag({ host: "h", repository: "foo", tag: "bar" }))?.digest.equals(a),
    ).toBe(true);
    expect(
      (await cache.getTag({ host: "h", repository: "foo/bar", tag: "latest" }))?.digest.equals(b),
    ).toBe(true);
  });

  it("cleans stale temporary files at start and never serves them", async () => {
    const data = "complete bytes";
    const digest = Digest.of(data);
    await mkdir(join(dir, "tmp"), { recursive: true });
    // What a crash mid-download leaves: a partial temporary file.
    await writeFile(join(dir, "tmp", `${digest.hex}.abc.tmp`), "compl");
    const cache = await open();
    expect(await readdir(join(dir, "tmp"))).toEqual([]);
    expect(await cache.openBlob(digest)).toBeUndefined();
  });

  it("drops a manifest file damaged outside the proxy (found when it is next read from disk)", async () => {
    const writer = await open();
    const bytes = new TextEncoder().encode("{}");
    const digest = Digest.of(bytes);
    await writer.putManifest({ digest, mediaType: MediaType.OciManifest, bytes });
    await writeFile(
      join(dir, "manifests", "sha256", digest.hex),
      `${MediaType.OciManifest}\n{"x":1}`,
    );
    // The writer still holds the verified bytes in memory; a restarted cache reads the file.
    expect((await writer.getManifest(digest))?.bytes).toEqual(bytes);
    const restarted = await open();
    expect(await restarted.getManifest(digest)).toBeUndefined();
  });

  it("writeFileAtomic leaves the old file and no temporary file when a write fails", async () => {
    const tmp = join(dir, "tmp");
    await mkdir(tmp, { recursive: true });
    const target = join(dir, "file");
    await writeFileAtomic(tmp, target, "old");
    const controller = new AbortController();
    controller.abort();
    await expect(writeFileAtomic(tmp, target, "new", controller.signal)).rejects.toThrow();
    expect(await readdir(tmp)).toEqual([]);
    const { readFile } = await import("node:fs/promises");
    expect(await readFile(target, "utf8")).toBe("old");
  });
});

describe("least-recently-used eviction", () => {
  it("evicts the least recently used entries above the size limit", async () => {
    const cache = await open(30);
    const a = await putBlob(cache, "aaaaaaaaaa");
    clock += 1000;
    const b = await putBlob(cache, "bbbbbbbbbb");
    clock += 1000;
    const c = await putBlob(cache, "cccccccccc");
    clock += 1000;
    expect(await readBlob(cache, a)).toBe("aaaaaaaaaa"); // a is now the most recent
    clock += 1000;
    await putBlob(cache, "dddddddddd");
    expect(await readBlob(cache, b)).toBeUndefined();
    expect(await readBlob(cache, a)).toBe("aaaaaaaaaa");
    expect(await readBlob(cache, c)).toBe("cccccccccc");
    expect(cache.sizeBytes()).toBeLessThanOrEqual(30);
  });

  it("remembers access order across a restart", async () => {
    const first = await open(30);
    const a = await putBlob(first, "aaaaaaaaaa");
    clock += 1000;
    const b = await putBlob(first, "bbbbbbbbbb");
    clock += 1000;
    const c = await putBlob(first, "cccccccccc");
    clock += 1000;
    expect(await readBlob(first, a)).toBe("aaaaaaaaaa");
    clock += 1000;

    const second = await open(30);
    expect(second.entries()).toEqual([b, c, a].map((d) => join("blobs", "sha256", d.hex)));
    await putBlob(second, "dddddddddd");
    expect(await readBlob(second, b)).toBeUndefined();
    expect(await readBlob(second, a)).toBe("aaaaaaaaaa");
  });

  it("lets a reader finish a blob that is evicted while it reads", async () => {
    const cache = await open(15);
    const a = await putBlob(cache, "aaaaaaaaaa");
    const held = await cache.openBlob(a);
    clock += 1000;
    await putBlob(cache, "bbbbbbbbbb");
    expect(await cache.openBlob(a)).toBeUndefined();
    const buffer = Buffer.alloc(10);
    await held?.handle.read(buffer, 0, 10, 0);
    await held?.handle.close();
    expect(buffer.toString()).toBe("aaaaaaaaaa");
  });
});
