// Starts the proxy on a real socket (hono on Node via @hono/node-server):
// opens the disk cache, wires the services, listens, and closes gracefully
// (stop accepting, let responses finish, abort downloads nobody can use).
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { MegaliftError } from "../src/errors.js";
import { createProxyApp, type ProxyApp } from "./app.js";
import { BlobFetcher } from "./cache/blob-fetcher.js";
import { DiskCache } from "./cache/disk-cache.js";
import { DEFAULT_TRANSFORM, type ProxyConfig } from "./config/proxy-config.js";
import { jsonLineLogger, type Logger, type LogRecord } from "./observability/logger.js";
import { ProxyMetrics } from "./observability/metrics.js";
import { defaultClientFactory } from "./routing/default-client-factory.js";
import { UpstreamClients, type RegistryClientFactory } from "./routing/upstream-clients.js";
import { UpstreamHealth } from "./routing/upstream-health.js";
import { UpstreamRouter } from "./routing/upstream-router.js";
import { BlobService } from "./services/blob-service.js";
import { ManifestService } from "./services/manifest-service.js";
import { ReferrersService } from "./services/referrers-service.js";
import { TagsService } from "./services/tags-service.js";
import { RepositoryModes } from "./transform/repository-modes.js";
import { loadProxySigningKey } from "./transform/signing-key.js";
import { ChildProcessTransformRunner, type TransformRunner } from "./transform/transform-runner.js";
import { TransformService } from "./transform/transform-service.js";
import { TransformStore } from "./transform/transform-store.js";

export interface ProxyOptions {
  /** Builds upstream clients; src/registry's undici client by default. */
  readonly clientFactory?: RegistryClientFactory;
  /** Where log lines go; JSON lines on stdout by default. */
  readonly logger?: Logger;
  /** The clock for tag TTLs and access times (ms since the epoch). */
  readonly now?: () => number;
  /** How long close() lets responses in progress finish before cutting them (default 10 s). */
  readonly closeGraceMs?: number;
  /** Runs transforms; a child process per transform by default. */
  readonly transformRunner?: TransformRunner;
  /** The toolchain version transforms are keyed by; src/pipeline/transform.ts toolchainVersion() by default. */
  readonly toolchainVersion?: string;
}

/** A proxy assembled but not listening: for app.request(...) tests. */
export interface ProxyInstance {
  readonly app: ProxyApp;
  readonly cache: DiskCache;
  readonly metrics: ProxyMetrics;
  readonly fetcher: BlobFetcher;
  /** Transform on pull; undefined when every repository is in passthrough mode. */
  readonly transforms?: TransformService;
  /**
   * Records about startup (a generated signing key) for the caller to log once
   * it has announced the listening URL, which must stay the first line.
   */
  readonly startupLog: readonly LogRecord[];
}

export interface RunningProxy {
  /** http://HOST:PORT, with the port actually bound. */
  readonly url: string;
  /** See ProxyInstance.startupLog. */
  readonly startupLog: readonly LogRecord[];
  close(): Promise<void>;
}

/** Builds the application and its services over the disk cache in config.cache.dir. */
export async function createProxy(
  config: ProxyConfig,
  options: ProxyOptions = {},
): Promise<ProxyInstance> {
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
  const logger = options.logger ?? jsonLineLogger();
  const repositories = config.repositories ?? [];
  const transformMode =
    config.mode === "transform" || repositories.some((r) => r.mode === "transform");
  const store = transformMode ? await TransformStore.open(config.cache.dir) : undefined;
  const manifests = new ManifestService({
    store: cache,
    clients,
    health: new UpstreamHealth(now),
    metrics,
    tagTtlMs: config.cache.tagTtlSeconds * 1000,
    now,
    ...(store ? { local: store } : {}),
  });
  const blobs = new BlobService({
    store: cache,
    fetcher,
    clients,
    metrics,
    verifyBeforeServeBytes: config.cache.verifyBeforeServeBytes,
    ...(store ? { local: store } : {}),
  });
  const startupLog: LogRecord[] = [];
  let transforms: TransformService | undefined;
  let publicKeyPem: string | undefined;
  if (store) {
    const transformConfig = config.transform ?? DEFAULT_TRANSFORM;
    const key = await loadProxySigningKey(config.cache.dir, transformConfig.signingKeyFile);
    if (key.generated) {
      startupLog.push({ level: "info", msg: "generated a signing key", file: key.privateKeyFile });
    }
    publicKeyPem = key.publicKeyPem;
    transforms = new TransformService({
      store,
      runner: options.transformRunner ?? new ChildProcessTransformRunner(),
      manifests,
      blobs,
      modes: new RepositoryModes(repositories, config.mode),
      config: transformConfig,
      signingKeyFile: key.privateKeyFile,
      toolchainVersion: options.toolchainVersion ?? (await defaultToolchainVersion()),
      workDir: transformConfig.workDir ?? join(store.dir, "work"),
      metrics,
      logger,
      now,
    });
  }
  const app = createProxyApp({
    router: new UpstreamRouter(config.upstreams, config.defaultUpstream),
    manifests,
    blobs,
    tags: new TagsService(clients, metrics),
    referrers: new ReferrersService(store),
    metrics,
    logger,
    ...(transforms ? { transforms } : {}),
    ...(publicKeyPem !== undefined ? { publicKeyPem } : {}),
  });
  return { app, cache, metrics, fetcher, startupLog, ...(transforms ? { transforms } : {}) };
}

/** The pipeline's toolchain version; loaded lazily, as it pulls in the lifter. */
async function defaultToolchainVersion(): Promise<string> {
  const { toolchainVersion } = await import("../src/pipeline/transform.js");
  return toolchainVersion();
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
    startupLog: proxy.startupLog,
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
        proxy.transforms?.close();
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
