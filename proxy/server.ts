// Starts the proxy on a real socket (hono on Node via @hono/node-server):
// opens the disk cache, wires the services, listens, and closes gracefully
// (stop accepting, let responses finish, abort downloads nobody can use).
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { MegaliftError } from "../src/errors.js";
import { createProxyApp, type ProxyApp } from "./app.js";
import { BlobFetcher } from "./cache/blob-fetcher.js";
import { DiskCache } from "./cache/disk-cache.js";
import type { ProxyConfig } from "./config/proxy-config.js";
import { jsonLineLogger, type Logger } from "./observability/logger.js";
import { ProxyMetrics } from "./observability/metrics.js";
import { defaultClientFactory } from "./routing/default-client-factory.js";
import { UpstreamClients, type RegistryClientFactory } from "./routing/upstream-clients.js";
import { UpstreamHealth } from "./routing/upstream-health.js";
import { UpstreamRouter } from "./routing/upstream-router.js";
import { BlobService } from "./services/blob-service.js";
import { ManifestService } from "./services/manifest-service.js";
import { ReferrersService } from "./services/referrers-service.js";
import { TagsService } from "./services/tags-service.js";

export interface ProxyOptions {
  /** Builds upstream clients; src/registry's undici client by default. */
  readonly clientFactory?: RegistryClientFactory;
  /** Where log lines go; JSON lines on stdout by default. */
  readonly logger?: Logger;
  /** The clock for tag TTLs and access times (ms since the epoch). */
  readonly now?: () => number;
  /** How long close() lets responses in progress finish before cutting them (default 10 s). */
  readonly closeGraceMs?: number;
}

/** A proxy assembled but not listening: for app.request(...) tests. */
export interface ProxyInstance {
  readonly app: ProxyApp;
  readonly cache: DiskCache;
  readonly metrics: ProxyMetrics;
  readonly fetcher: BlobFetcher;
}

export interface RunningProxy {
  /** http://HOST:PORT, with the port actually bound. */
  readonly url: string;
  close(): Promise<void>;
}

/** Builds the application and its services over the disk cache in config.cache.dir. */
export async function createProxy(
  config: ProxyConfig,
  options: ProxyOptions = {},
): Promise<ProxyInstance> {
  if (config.mode === "transform") {
    throw new MegaliftError(
      "UNSUPPORTED",
      "transform mode arrives with the transform-on-pull issue; use --mode passthrough",
    );
  }
  const now = options.now ?? Date.now;
  const cache = await DiskCache.open({
    dir: config.cache.dir,
    maxBytes: config.cache.maxBytes,
    now,
  });
  const metrics = new ProxyMetrics();
  const fetcher = new BlobFetcher(cache);
  metrics.defineGauge(
    "megalift_proxy_inflight_downloads",
    "Upstream blob downloads running now.",
    () => fetcher.inflightCount,
  );
  metrics.defineGauge(
    "megalift_proxy_cache_size_bytes",
    "Bytes of blobs and manifests in the cache.",
    () => cache.sizeBytes(),
  );
  const clients = new UpstreamClients(options.clientFactory ?? defaultClientFactory);
  const app = createProxyApp({
    router: new UpstreamRouter(config.upstreams, config.defaultUpstream),
    manifests: new ManifestService({
      store: cache,
      clients,
      health: new UpstreamHealth(now),
      metrics,
      tagTtlMs: config.cache.tagTtlSeconds * 1000,
      now,
    }),
    blobs: new BlobService({
      store: cache,
      fetcher,
      clients,
      metrics,
      verifyBeforeServeBytes: config.cache.verifyBeforeServeBytes,
    }),
    tags: new TagsService(clients, metrics),
    referrers: new ReferrersService(),
    metrics,
    logger: options.logger ?? jsonLineLogger(),
  });
  return { app, cache, metrics, fetcher };
}

/** Starts the proxy and resolves once it listens. */
export async function startProxy(
  config: ProxyConfig,
  options: ProxyOptions = {},
): Promise<RunningProxy> {
  const { host, port } = parseListen(config.listen);
  const proxy = await createProxy(config, options);
  const server = await new Promise<Server>((resolve, reject) => {
    const created = serve({ fetch: proxy.app.fetch, hostname: host, port }, () =>
      resolve(created as Server),
    );
    created.once("error", reject);
  });
  const bound = server.address() as AddressInfo;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${bound.port}`,
    close() {
      closing ??= (async () => {
        // Stop accepting; let responses in progress finish for a grace period,
        // then cut what is left and abort downloads nobody can use any more.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const deadline = setTimeout(
          () => server.closeAllConnections(),
          options.closeGraceMs ?? 10_000,
        );
        deadline.unref();
        await closed;
        clearTimeout(deadline);
        await proxy.fetcher.close();
      })();
      return closing;
    },
  };
}

/** Splits HOST:PORT ("127.0.0.1:0", "[::]:5000", "0.0.0.0:5000"); CONFIG_INVALID otherwise. */
export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(listen);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (!match || host === undefined || !Number.isInteger(port) || port > 65535) {
    throw new MegaliftError(
      "CONFIG_INVALID",
      `listen address "${listen}" is not HOST:PORT (e.g. 127.0.0.1:5000, [::]:5000)`,
    );
  }
  return { host, port };
}
