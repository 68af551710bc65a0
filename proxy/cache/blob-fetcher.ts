// Single flight for blobs: at most one upstream download per digest, however
// many clients ask at once. Later askers join the download in flight (and
// tail its temporary file) instead of starting their own.
import type { Digest } from "../../src/oci/digest.js";
import type { CacheStore } from "./cache-store.js";
import { BlobDownload, type BlobOrigin } from "./blob-download.js";

export class BlobFetcher {
  private readonly inflight = new Map<string, BlobDownload>();

  constructor(private readonly store: CacheStore) {}

  /** Downloads running now. */
  get inflightCount(): number {
    return this.inflight.size;
  }

  /**
   * The download of `digest` in flight, or a new one fetched with
   * `fetchOrigin` (called only when none runs). `started` is told when a new
   * upstream fetch begins.
   */
  join(
    digest: Digest,
    fetchOrigin: (signal: AbortSignal) => Promise<BlobOrigin>,
    started?: () => void,
  ): BlobDownload {
    const key = digest.toString();
    const running = this.inflight.get(key);
    if (running) return running;
    started?.();
    const download = new BlobDownload(digest, this.store, fetchOrigin);
    this.inflight.set(key, download);
    // Leaves the map in the same turn as it commits or fails, so a later
    // asker finds either this download or the committed cache entry.
    const leave = (): void => {
      if (this.inflight.get(key) === download) this.inflight.delete(key);
    };
    download.done.then(leave, leave);
    return download;
  }

  /** Resolves when every download running now has committed or failed. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inflight.values()].map((d) => d.done));
  }

  /** Aborts every download (shutdown) and waits for them to clean up. */
  async close(): Promise<void> {
    const downloads = [...this.inflight.values()];
    for (const download of downloads) download.abort(new Error("proxy shutting down"));
    await Promise.allSettled(downloads.map((d) => d.done));
  }
}
