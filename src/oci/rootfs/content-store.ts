// A content-addressed directory of file bytes keyed by BLAKE3: the place the
// flattened rootfs reads regular files from, so an image never has to be in
// memory. Blobs live at <dir>/<2 hex>/<64 hex>. Writes are atomic (a temp
// file in <dir>/tmp, fsync, rename(2) into place) so a reader or a crash
// never sees a partial blob; content already present is not stored twice.
import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { MegaliftError, isMegaliftError } from "../../errors.js";
import { createBlake3 } from "../../hash/blake3.js";
import type { ContentRef } from "./types.js";

/**
 * Files up to this size are hashed in memory first, so a duplicate is never
 * written to disk at all; larger ones stream to a temp file as they arrive.
 */
export const IN_MEMORY_LIMIT = 256 * 1024;

const BLAKE3_HEX = /^[0-9a-f]{64}$/;

/**
 * Where the content store lives by default: $MEGALIFT_CACHE_DIR/content,
 * else $XDG_CACHE_HOME/megalift/content, else ~/.cache/megalift/content.
 */
export function defaultContentDirectory(
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): string {
  if (env.MEGALIFT_CACHE_DIR) return join(env.MEGALIFT_CACHE_DIR, "content");
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "megalift", "content");
  return join(home, ".cache", "megalift", "content");
}

export class ContentStore {
  private ready: Promise<void> | undefined;

  /** A store rooted at `directory` (created on first write). */
  constructor(readonly directory: string) {}

  /** A store rooted at exactly `directory` (the same as the constructor). */
  static at(directory: string): ContentStore {
    return new ContentStore(directory);
  }

  /** The store under a --cache-dir (DIR/content), or the default one. */
  static forCacheDir(cacheDir: string | undefined): ContentStore {
    return cacheDir !== undefined
      ? ContentStore.at(join(cacheDir, "content"))
      : ContentStore.default();
  }

  /** The store at defaultContentDirectory(). */
  static default(env: NodeJS.ProcessEnv = process.env): ContentStore {
    return new ContentStore(defaultContentDirectory(env));
  }

  /** The file holding the blob with this BLAKE3 (it may not exist). */
  pathOf(blake3: string): string {
    if (!BLAKE3_HEX.test(blake3)) {
      throw new MegaliftError("IO", `invalid BLAKE3 content key ${JSON.stringify(blake3)}`);
    }
    return join(this.directory, blake3.slice(0, 2), blake3);
  }

  /** True when the blob is stored (with `size` bytes, if given). */
  async has(blake3: string, size?: number): Promise<boolean> {
    try {
      const st = await stat(this.pathOf(blake3));
      return st.isFile() && (size === undefined || st.size === size);
    } catch {
      return false;
    }
  }

  /**
   * Stores the bytes of `source`, hashing them as they stream, and returns
   * their reference. An error thrown by `source` passes through unchanged
   * and leaves nothing behind.
   */
  async write(source: AsyncIterable<Uint8Array>): Promise<ContentRef> {
    const hasher = createBlake3();
    const held: Uint8Array[] = [];
    let size = 0;
    let temp: TempFile | undefined;
    try {
      for await (const chunk of source) {
        hasher.update(chunk);
        size += chunk.byteLength;
        if (temp !== undefined) {
          await temp.write(chunk);
        } else {
          held.push(chunk);
          if (size > IN_MEMORY_LIMIT) {
            temp = await this.openTemp();
            for (const c of held.splice(0)) await temp.write(c);
          }
        }
      }
      const ref: ContentRef = { blake3: hasher.digestHex(), size };
      if (await this.has(ref.blake3, size)) {
        await temp?.discard();
        return ref;
      }
      temp ??= await this.openTemp();
      for (const c of held.splice(0)) await temp.write(c);
      await temp.commit(this.pathOf(ref.blake3));
      return ref;
    } catch (err) {
      await temp?.discard();
      throw isMegaliftError(err)
        ? err
        : ioError(`writing to the content store ${this.directory}`, err);
    }
  }

  /** The whole blob. */
  async read(ref: ContentRef): Promise<Buffer> {
    return this.readRange(ref, 0, ref.size);
  }

  /** Bytes [start, end) of the blob; `end` is clamped to its size. */
  async readRange(ref: ContentRef, start: number, end: number = ref.size): Promise<Buffer> {
    const from = Math.max(0, Math.min(start, ref.size));
    const to = Math.max(from, Math.min(end, ref.size));
    const handle = await this.openBlob(ref);
    try {
      const out = Buffer.alloc(to - from);
      let done = 0;
      while (done < out.length) {
        const { bytesRead } = await handle.read(out, done, out.length - done, from + done);
        if (bytesRead === 0) {
          throw new MegaliftError(
            "IO",
            `content blake3:${ref.blake3} in ${this.directory} is shorter than its ${ref.size} bytes`,
          );
        }
        done += bytesRead;
      }
      return out;
    } finally {
      await handle.close();
    }
  }

  /** A stream of the blob's bytes (an IO MegaliftError event if it is missing). */
  createReadStream(ref: ContentRef): Readable {
    const file = createReadStream(this.pathOf(ref.blake3));
    const out = new PassThrough();
    file.on("error", (err) => {
      out.destroy(ioError(`content blake3:${ref.blake3} is missing from ${this.directory}`, err));
    });
    return file.pipe(out);
  }

  private async openBlob(ref: ContentRef): Promise<FileHandle> {
    try {
      return await open(this.pathOf(ref.blake3), "r");
    } catch (err) {
      throw ioError(`content blake3:${ref.blake3} is missing from ${this.directory}`, err);
    }
  }

  private async openTemp(): Promise<TempFile> {
    this.ready ??= mkdir(join(this.directory, "tmp"), { recursive: true }).then(() => undefined);
    await this.ready;
    const path = join(this.directory, "tmp", `${randomUUID()}.partial`);
    return new TempFile(path, await open(path, "wx"));
  }
}

/** A file being written under <store>/tmp: committed by rename, or discarded. */
class TempFile {
  private closed = false;
  constructor(
    private readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    let done = 0;
    while (done < chunk.byteLength) {
      const { bytesWritten } = await this.handle.write(chunk, done, chunk.byteLength - done);
      done += bytesWritten;
    }
  }

  /** fsync, close and rename into place: the blob appears whole or not at all. */
  async commit(target: string): Promise<void> {
    await this.handle.sync();
    await this.close();
    await mkdir(join(target, ".."), { recursive: true });
    await rename(this.path, target);
  }

  async discard(): Promise<void> {
    await this.close().catch(() => undefined);
    await unlink(this.path).catch(() => undefined);
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}

function ioError(what: string, err: unknown): MegaliftError {
  const reason = err instanceof Error ? err.message : String(err);
  return new MegaliftError("IO", `${what}: ${reason}`, { cause: err });
}
