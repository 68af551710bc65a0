// Blobs through the cache (distribution-spec "Pulling blobs", with Range).
// A hit streams the cached file. A miss joins the one upstream download of
// that digest (blob-fetcher.ts) and streams from it as it grows; small blobs
// are verified in full first, so wrong upstream bytes are answered with
// DIGEST_INVALID instead of a cut connection.
import type { Digest } from "../../src/oci/digest.js";
import type { BlobFetcher } from "../cache/blob-fetcher.js";
import type { CacheStore, OpenBlob } from "../cache/cache-store.js";
import { fileRangeStream } from "../cache/file-range-stream.js";
import { resolveRange, type ByteRange } from "../http/range.js";
import type { ProxyMetrics } from "../observability/metrics.js";
import { timeUpstream, type RequestStats } from "../observability/request-stats.js";
import type { UpstreamClients } from "../routing/upstream-clients.js";
import type { RouteTarget } from "../routing/upstream-router.js";

export interface BlobServiceDeps {
  readonly store: CacheStore;
  readonly fetcher: BlobFetcher;
  readonly clients: UpstreamClients;
  readonly metrics: ProxyMetrics;
  readonly verifyBeforeServeBytes: number;
  /** Blobs the proxy made itself (transforms), looked up before the cache and the upstream. */
  readonly local?: { openBlob(digest: Digest): Promise<OpenBlob | undefined> };
}

export interface BlobRequest {
  /** The Range header, if any. */
  readonly range?: string | null;
  /** HEAD: only the size and headers are wanted. */
  readonly headOnly: boolean;
  readonly stats?: RequestStats;
}

export interface BlobReply {
  readonly digest: Digest;
  readonly size: number;
  /** The part served: undefined for the whole blob (200), a range for 206. */
  readonly range?: ByteRange;
  /** The body; null for HEAD. */
  readonly body: ReadableStream<Uint8Array> | null;
}

export class BlobService {
  constructor(private readonly deps: BlobServiceDeps) {}

  async get(target: RouteTarget, digest: Digest, request: BlobRequest): Promise<BlobReply> {
    const cached =
      (await this.deps.local?.openBlob(digest)) ?? (await this.deps.store.openBlob(digest));
    if (cached) {
      this.count("hit", request.stats);
      let range: ByteRange | undefined;
      try {
        range = resolveRange(request.range, cached.size);
      } catch (err) {
        await cached.handle.close();
        throw err;
      }
      if (request.headOnly || cached.size === 0) await cached.handle.close();
      const [start, end] = range ? [range.start, range.end] : [0, cached.size - 1];
      const body = request.headOnly ? null : fileRangeStream(async () => cached.handle, start, end);
      return { digest, size: cached.size, ...(range ? { range } : {}), body };
    }

    this.count("miss", request.stats);
    const client = this.deps.clients.get(target.upstream);
    const download = this.deps.fetcher.join(
      digest,
      (signal) =>
        timeUpstream(request.stats, () => client.getBlob(target.repository, digest, { signal })),
      () => this.deps.metrics.add("megalift_proxy_upstream_fetches_total", { kind: "blob" }),
    );
    const size = await download.ready;
    if (size <= this.deps.verifyBeforeServeBytes) await download.done;
    const range = resolveRange(request.range, size);
    const [start, end] = range ? [range.start, range.end] : [0, size - 1];
    const body = request.headOnly ? null : download.stream(start, end);
    return { digest, size, ...(range ? { range } : {}), body };
  }

  private count(result: "hit" | "miss", stats?: RequestStats): void {
    if (stats) stats.cache = result;
    this.deps.metrics.add(
      result === "hit" ? "megalift_proxy_cache_hits_total" : "megalift_proxy_cache_misses_total",
      { kind: "blob" },
    );
  }
}
