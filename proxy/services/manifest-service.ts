// Manifests through the cache (distribution-spec "Pulling manifests").
// By digest: content-addressed, cached forever (until evicted). By tag: the
// tag → digest answer is trusted for the TTL, then revalidated with a HEAD
// upstream (cheap, and not counted by Docker Hub's pull limit); when the
// upstream cannot answer, the last known digest is served. Every manifest is
// checked against its digest before it is cached or served.
import { MegaliftError } from "../../src/errors.js";
import { Digest } from "../../src/oci/digest.js";
import type { CacheStore, StoredManifest, TagKey } from "../cache/cache-store.js";
import { SingleFlight } from "../cache/single-flight.js";
import { isUpstreamUnavailable } from "../http/error-mapping.js";
import type { ManifestReference } from "../http/v2-path.js";
import type { ProxyMetrics } from "../observability/metrics.js";
import { timeUpstream, type RequestStats } from "../observability/request-stats.js";
import type { UpstreamClients } from "../routing/upstream-clients.js";
import type { UpstreamHealth } from "../routing/upstream-health.js";
import type { RouteTarget } from "../routing/upstream-router.js";

export interface ManifestServiceDeps {
  readonly store: CacheStore;
  readonly clients: UpstreamClients;
  readonly health: UpstreamHealth;
  readonly metrics: ProxyMetrics;
  readonly tagTtlMs: number;
  readonly now: () => number;
  /**
   * Manifests the proxy made itself (transforms), looked up by digest before
   * the cache and the upstream.
   */
  readonly local?: { getManifest(digest: Digest): Promise<StoredManifest | undefined> };
}

interface Fetched {
  readonly manifest: StoredManifest;
  readonly fromCache: boolean;
}

export class ManifestService {
  private readonly flights = new SingleFlight<Fetched>();

  constructor(private readonly deps: ManifestServiceDeps) {}

  /** The manifest `reference` names in `target`'s repository. */
  async get(
    target: RouteTarget,
    reference: ManifestReference,
    stats?: RequestStats,
  ): Promise<StoredManifest> {
    const { manifest, fromCache } =
      reference.kind === "digest"
        ? await this.byDigest(target, reference.digest, stats)
        : await this.byTag(target, reference.tag, stats);
    if (stats) stats.cache = fromCache ? "hit" : "miss";
    this.deps.metrics.add(
      fromCache ? "megalift_proxy_cache_hits_total" : "megalift_proxy_cache_misses_total",
      {
        kind: "manifest",
      },
    );
    return manifest;
  }

  private async byDigest(
    target: RouteTarget,
    digest: Digest,
    stats?: RequestStats,
  ): Promise<Fetched> {
    const cached =
      (await this.deps.local?.getManifest(digest)) ?? (await this.deps.store.getManifest(digest));
    if (cached) return { manifest: cached, fromCache: true };
    return this.flights.run(`digest ${digest.toString()}`, () =>
      this.fetchByDigest(target, digest, stats),
    );
  }

  private async fetchByDigest(
    target: RouteTarget,
    digest: Digest,
    stats?: RequestStats,
  ): Promise<Fetched> {
    const client = this.deps.clients.get(target.upstream);
    this.deps.metrics.add("megalift_proxy_upstream_fetches_total", { kind: "manifest" });
    const response = await timeUpstream(stats, () =>
      client.getManifest(target.repository, digest.toString()),
    );
    const manifest: StoredManifest = {
      digest,
      mediaType: response.mediaType,
      bytes: response.bytes,
    };
    digest.verifyBytes(
      response.bytes,
      `manifest ${digest.toString()} from ${target.upstream.host}`,
    );
    await this.deps.store.putManifest(manifest);
    return { manifest, fromCache: false };
  }

  private async byTag(target: RouteTarget, tag: string, stats?: RequestStats): Promise<Fetched> {
    const key: TagKey = { host: target.upstream.host, repository: target.repository, tag };
    const record = await this.deps.store.getTag(key);
    if (record && this.deps.now() - record.checkedAt < this.deps.tagTtlMs) {
      const cached = await this.deps.store.getManifest(record.digest);
      if (cached) return { manifest: cached, fromCache: true };
    }
    return this.flights.run(`tag ${key.host}/${key.repository}:${tag}`, () =>
      this.revalidateTag(target, key, record?.digest, stats),
    );
  }

  /**
   * Asks the upstream what the tag points to now; serves `known` when the
   * upstream cannot answer (or failed moments ago).
   */
  private async revalidateTag(
    target: RouteTarget,
    key: TagKey,
    known: Digest | undefined,
    stats?: RequestStats,
  ): Promise<Fetched> {
    const host = target.upstream.host;
    if (known && this.deps.health.isDown(host)) {
      const stale = await this.deps.store.getManifest(known);
      if (stale) return { manifest: stale, fromCache: true };
    }
    try {
      const fetched = await this.askUpstream(target, key, known, stats);
      this.deps.health.markUp(host);
      return fetched;
    } catch (err) {
      if (!isUpstreamUnavailable(err)) throw err;
      this.deps.health.markDown(host);
      const stale = known ? await this.deps.store.getManifest(known) : undefined;
      if (stale) return { manifest: stale, fromCache: true };
      throw err;
    }
  }

  private async askUpstream(
    target: RouteTarget,
    key: TagKey,
    known: Digest | undefined,
    stats?: RequestStats,
  ): Promise<Fetched> {
    const client = this.deps.clients.get(target.upstream);
    if (known) {
      const head = await timeUpstream(stats, () => client.headManifest(target.repository, key.tag));
      const cached = head.digest.equals(known)
        ? await this.deps.store.getManifest(known)
        : undefined;
      if (cached) {
        await this.deps.store.putTag(key, { digest: known, checkedAt: this.deps.now() });
        return { manifest: cached, fromCache: true };
      }
    }
    this.deps.metrics.add("megalift_proxy_upstream_fetches_total", { kind: "manifest" });
    const response = await timeUpstream(stats, () =>
      client.getManifest(target.repository, key.tag),
    );
    const digest = Digest.of(response.bytes, response.digest.algorithm);
    if (!digest.equals(response.digest)) {
      throw new MegaliftError(
        "DIGEST_MISMATCH",
        `manifest ${key.repository}:${key.tag} from ${key.host} hashes to ${digest.toString()}, not ${response.digest.toString()}`,
      );
    }
    const manifest: StoredManifest = {
      digest,
      mediaType: response.mediaType,
      bytes: response.bytes,
    };
    await this.deps.store.putManifest(manifest);
    await this.deps.store.putTag(key, { digest, checkedAt: this.deps.now() });
    return { manifest, fromCache: false };
  }
}
