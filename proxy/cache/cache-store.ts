// The cache's contract: content-addressed blobs and manifests plus tag →
// digest records. The embedded implementation is a directory on local disk
// (disk-cache.ts); another backend only has to satisfy this interface.
// Every method takes an optional AbortSignal, so a request that goes away
// stops its I/O.
import type { FileHandle } from "node:fs/promises";
import type { Digest } from "../../src/oci/digest.js";

export interface CacheOptions {
  readonly signal?: AbortSignal;
}

/** A cached blob, opened: the handle stays valid even if the entry is evicted meanwhile. */
export interface OpenBlob {
  readonly size: number;
  readonly handle: FileHandle;
}

/**
 * A blob being written. It becomes visible to openBlob only through commit(),
 * which verifies size and digest first: nothing partial or unverified is
 * ever served from the cache.
 */
export interface BlobWriter {
  /** The temporary file: readers may tail it while it grows. */
  readonly tempPath: string;
  /** Bytes written so far. */
  readonly written: number;
  write(chunk: Uint8Array, options?: CacheOptions): Promise<void>;
  /** Verifies, fsyncs and renames into place; throws DIGEST_MISMATCH (and removes the file) on wrong bytes. */
  commit(options?: CacheOptions): Promise<void>;
  /** Removes the temporary file; the blob stays uncached. */
  abort(): Promise<void>;
}

export interface StoredManifest {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly bytes: Uint8Array;
}

/** What a tag pointed to when last asked upstream. */
export interface TagRecord {
  readonly digest: Digest;
  /** When the upstream last confirmed it (ms since the epoch, from the proxy's clock). */
  readonly checkedAt: number;
}

/** Where a tag lives: the upstream host, the repository there, and the tag. */
export interface TagKey {
  readonly host: string;
  readonly repository: string;
  readonly tag: string;
}

export interface CacheStore {
  /** Opens a cached blob (and marks it recently used), or undefined on a miss. */
  openBlob(digest: Digest, options?: CacheOptions): Promise<OpenBlob | undefined>;
  /** Starts writing a blob of `size` bytes. */
  createBlobWriter(digest: Digest, size: number, options?: CacheOptions): Promise<BlobWriter>;
  getManifest(digest: Digest, options?: CacheOptions): Promise<StoredManifest | undefined>;
  putManifest(manifest: StoredManifest, options?: CacheOptions): Promise<void>;
  getTag(key: TagKey, options?: CacheOptions): Promise<TagRecord | undefined>;
  putTag(key: TagKey, record: TagRecord, options?: CacheOptions): Promise<void>;
  /** Bytes held by cached blobs and manifests. */
  sizeBytes(): number;
}
