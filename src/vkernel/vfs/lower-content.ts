// Where the image Vfs reads the bytes of the image's (lower) files. The file
// syscalls are synchronous — they run inside the lifted code's syscall
// import — while RootfsView.readRange is asynchronous, so the lower layer
// reads through a synchronous `LowerContent`: straight from the content
// store's blob files (lazily, only what the guest reads), or from contents
// read through any view beforehand (tests, small in-memory images). Small
// files are cached whole after their first read, within a byte budget.
import * as fs from "node:fs";
import type { ContentStore } from "../../oci/rootfs/content-store.js";
import type { ContentRef, RootfsEntry, RootfsView } from "../../oci/rootfs/types.js";

export interface LowerContent {
  /** Bytes [start, end) of the content (end clamped to its size); throws on I/O failure. */
  read(ref: ContentRef, start: number, end: number): Uint8Array;
}

/** Reads blobs from the content store's files on demand (the flattened view's own store). */
export function contentStoreReader(store: ContentStore): LowerContent {
  return {
    read(ref, start, end) {
      const to = Math.min(end, ref.size);
      const out = new Uint8Array(Math.max(0, to - start));
      const fd = fs.openSync(store.pathOf(ref.blake3), "r");
      try {
        let done = 0;
        while (done < out.length) {
          const n = fs.readSync(fd, out, done, out.length - done, start + done);
          if (n === 0) throw new Error(`content blake3:${ref.blake3} is shorter than ${ref.size}`);
          done += n;
        }
        return out;
      } finally {
        fs.closeSync(fd);
      }
    },
  };
}

/** Reads the contents of the view's files that `wanted` selects (all by default) into memory. */
export async function preloadContent(
  view: RootfsView,
  wanted: (entry: RootfsEntry) => boolean = () => true,
): Promise<LowerContent> {
  const blobs = new Map<string, Uint8Array>();
  for (const entry of view.files()) {
    if (entry.content === undefined || blobs.has(entry.content.blake3) || !wanted(entry)) continue;
    blobs.set(entry.content.blake3, new Uint8Array(await view.readFile(entry)));
  }
  return {
    read(ref, start, end) {
      const blob = blobs.get(ref.blake3);
      if (blob === undefined) throw new Error(`content blake3:${ref.blake3} was not preloaded`);
      return blob.subarray(start, Math.min(end, blob.length));
    },
  };
}

export interface CacheLimits {
  /** Files up to this size are cached whole on first read. */
  readonly fileBytes: number;
  /** Bytes of all cached files; the least recently used go first. */
  readonly totalBytes: number;
}

const DEFAULT_LIMITS: CacheLimits = { fileBytes: 1 << 20, totalBytes: 64 << 20 };

/** A LowerContent that keeps small files whole after the first read. */
export class CachedContent implements LowerContent {
  private readonly cache = new Map<string, Uint8Array>();
  private cachedBytes = 0;
  /** Reads that went to the source (for tests and debugging). */
  sourceReads = 0;

  constructor(
    private readonly source: LowerContent,
    private readonly limits: CacheLimits = DEFAULT_LIMITS,
  ) {}

  read(ref: ContentRef, start: number, end: number): Uint8Array {
    if (ref.size > this.limits.fileBytes) {
      this.sourceReads++;
      return this.source.read(ref, start, end);
    }
    let whole = this.cache.get(ref.blake3);
    if (whole === undefined) {
      this.sourceReads++;
      whole = this.source.read(ref, 0, ref.size);
      this.remember(ref.blake3, whole);
    } else {
      // Map order is insertion order: re-inserting marks it recently used.
      this.cache.delete(ref.blake3);
      this.cache.set(ref.blake3, whole);
    }
    return whole.subarray(start, Math.min(end, whole.length));
  }

  private remember(key: string, bytes: Uint8Array): void {
    this.cache.set(key, bytes);
    this.cachedBytes += bytes.length;
    for (const [old, held] of this.cache) {
      if (this.cachedBytes <= this.limits.totalBytes) break;
      this.cache.delete(old);
      this.cachedBytes -= held.length;
    }
  }
}
