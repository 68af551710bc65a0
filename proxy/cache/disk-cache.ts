// The embedded cache: a directory on local disk, no extra service.
//   blobs/<alg>/<hex>                      blob bytes
//   manifests/<alg>/<hex>                  "<mediaType>\n" + manifest bytes
//   tags/<host>/<repository>/_tags/<tag>   {"digest","checkedAt"} (JSON)
//   tmp/                                   temporary files, emptied at start
// Entries appear only by rename of a complete, fsynced, verified file
// (atomic-file.ts), so a crash never leaves a partial entry that is served.
// "_tags" cannot be a repository component (components start with [a-z0-9]).
import { createHash, type Hash } from "node:crypto";
import { open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { MegaliftError } from "../../src/errors.js";
import { Digest } from "../../src/oci/digest.js";
import { cleanTempDir, moveIntoPlace, tempFileName, writeFileAtomic } from "./atomic-file.js";
import type {
  BlobWriter,
  CacheOptions,
  CacheStore,
  OpenBlob,
  StoredManifest,
  TagKey,
  TagRecord,
} from "./cache-store.js";
import { LruIndex } from "./lru-index.js";

export interface DiskCacheOptions {
  readonly dir: string;
  readonly maxBytes: number;
  /** Clock for persisted access times (ms since the epoch); Date.now by default. */
  readonly now?: () => number;
}

/** Manifests are small and hot: up to this many bytes of them are also kept in memory. */
const MANIFEST_MEMO_BYTES = 32 * 1024 * 1024;

export class DiskCache implements CacheStore {
  private readonly index: LruIndex;
  private readonly tempDir: string;
  /** Verified manifests by key, oldest first; only served while the index holds the file. */
  private readonly manifestMemo = new Map<string, StoredManifest>();
  private manifestMemoBytes = 0;

  private constructor(
    private readonly dir: string,
    maxBytes: number,
    now: () => number,
  ) {
    this.index = new LruIndex(dir, maxBytes, now);
    this.tempDir = join(dir, "tmp");
  }

  /** Opens (creating) the cache directory: cleans stale temporary files and rebuilds the index. */
  static async open(options: DiskCacheOptions): Promise<DiskCache> {
    const cache = new DiskCache(options.dir, options.maxBytes, options.now ?? Date.now);
    await cleanTempDir(cache.tempDir);
    await cache.index.load(["blobs", "manifests"]);
    return cache;
  }

  sizeBytes(): number {
    return this.index.sizeBytes;
  }

  /** Entry keys from least to most recently used (for tests and diagnostics). */
  entries(): string[] {
    return this.index.keys();
  }

  async openBlob(digest: Digest, _options?: CacheOptions): Promise<OpenBlob | undefined> {
    const key = blobKey(digest);
    const handle = await openIfExists(join(this.dir, key));
    if (!handle) {
      this.index.remove(key);
      return undefined;
    }
    const { size } = await handle.stat();
    await this.index.touch(key);
    return { size, handle };
  }

  async createBlobWriter(
    digest: Digest,
    size: number,
    _options?: CacheOptions,
  ): Promise<BlobWriter> {
    const tempPath = tempFileName(this.tempDir, digest.hex);
    const handle = await open(tempPath, "wx");
    const key = blobKey(digest);
    const hash: Hash = createHash(digest.algorithm);
    let written = 0;
    let closed = false;
    const finish = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      await handle.close();
    };
    const abort = async (): Promise<void> => {
      await finish().catch(() => undefined);
      await rm(tempPath, { force: true });
    };
    return {
      tempPath,
      get written() {
        return written;
      },
      write: async (chunk) => {
        await handle.write(chunk, 0, chunk.length, written);
        hash.update(chunk);
        written += chunk.length;
      },
      commit: async () => {
        try {
          if (written !== size) {
            throw new MegaliftError(
              "DIGEST_MISMATCH",
              `size mismatch for blob ${digest.toString()}: expected ${size} bytes, got ${written}`,
            );
          }
          const actual = hash.digest("hex");
          if (actual !== digest.hex) {
            throw new MegaliftError(
              "DIGEST_MISMATCH",
              `digest mismatch for blob: expected ${digest.toString()}, got ${digest.algorithm}:${actual}`,
            );
          }
          await handle.sync();
          await finish();
          await moveIntoPlace(tempPath, join(this.dir, key));
        } catch (err) {
          await abort();
          throw err;
        }
        await this.index.add(key, size);
      },
      abort,
    };
  }

  async getManifest(digest: Digest, _options?: CacheOptions): Promise<StoredManifest | undefined> {
    const key = manifestKey(digest);
    const memo = this.manifestMemo.get(key);
    if (memo && this.index.has(key)) {
      await this.index.touch(key);
      return memo;
    }
    this.forgetManifest(key);
    const stored = await readIfExists(join(this.dir, key));
    if (!stored) {
      this.index.remove(key);
      return undefined;
    }
    const newline = stored.indexOf(0x0a);
    const bytes = stored.subarray(newline + 1);
    if (newline <= 0 || !Digest.of(bytes, digest.algorithm).equals(digest)) {
      // Damaged outside the proxy: drop it, the upstream has the real one.
      this.index.remove(key);
      await rm(join(this.dir, key), { force: true });
      return undefined;
    }
    await this.index.touch(key);
    const manifest = { digest, mediaType: stored.subarray(0, newline).toString("utf8"), bytes };
    this.rememberManifest(key, manifest);
    return manifest;
  }

  private rememberManifest(key: string, manifest: StoredManifest): void {
    this.forgetManifest(key);
    this.manifestMemo.set(key, manifest);
    this.manifestMemoBytes += manifest.bytes.length;
    for (const [oldKey] of this.manifestMemo) {
      if (this.manifestMemoBytes <= MANIFEST_MEMO_BYTES) break;
      this.forgetManifest(oldKey);
    }
  }

  private forgetManifest(key: string): void {
    const old = this.manifestMemo.get(key);
    if (!old) return;
    this.manifestMemo.delete(key);
    this.manifestMemoBytes -= old.bytes.length;
  }

  async putManifest(manifest: StoredManifest, options?: CacheOptions): Promise<void> {
    manifest.digest.verifyBytes(manifest.bytes, `manifest ${manifest.digest.toString()}`);
    if (manifest.mediaType.includes("\n")) {
      throw new MegaliftError(
        "MANIFEST_INVALID",
        `media type ${JSON.stringify(manifest.mediaType)} holds a newline`,
      );
    }
    const key = manifestKey(manifest.digest);
    const data = Buffer.concat([Buffer.from(`${manifest.mediaType}\n`, "utf8"), manifest.bytes]);
    await writeFileAtomic(this.tempDir, join(this.dir, key), data, options?.signal);
    await this.index.add(key, data.length);
    this.rememberManifest(key, manifest);
  }

  async getTag(key: TagKey, _options?: CacheOptions): Promise<TagRecord | undefined> {
    const stored = await readIfExists(this.tagPath(key));
    if (!stored) return undefined;
    try {
      const record = JSON.parse(stored.toString("utf8")) as { digest: string; checkedAt: number };
      return { digest: Digest.parse(record.digest), checkedAt: record.checkedAt };
    } catch {
      return undefined;
    }
  }

  async putTag(key: TagKey, record: TagRecord, options?: CacheOptions): Promise<void> {
    const json = JSON.stringify({ digest: record.digest.toString(), checkedAt: record.checkedAt });
    await writeFileAtomic(this.tempDir, this.tagPath(key), json, options?.signal);
  }

  private tagPath(key: TagKey): string {
    return join(this.dir, "tags", encodeURIComponent(key.host), key.repository, "_tags", key.tag);
  }
}

function blobKey(digest: Digest): string {
  return join("blobs", digest.algorithm, digest.hex);
}

function manifestKey(digest: Digest): string {
  return join("manifests", digest.algorithm, digest.hex);
}

async function openIfExists(path: string) {
  try {
    return await open(path, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
