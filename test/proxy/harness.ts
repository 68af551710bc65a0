// Builds a proxy over fake upstreams and a temporary cache directory, for
// route tests through app.request(...) (no socket).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createProxy, type ProxyInstance } from "../../proxy/server.js";
import type { ProxyConfig, UpstreamConfig } from "../../proxy/config/proxy-config.js";
import type { LogRecord } from "../../proxy/observability/logger.js";
import { FakeUpstream } from "./fake-upstream.js";

export interface HarnessOptions {
  /** Fake upstreams by host; one "registry.test" upstream by default. */
  readonly upstreams?: Readonly<Record<string, FakeUpstream>>;
  /** The default upstream's host; the first upstream by default, null for none. */
  readonly defaultHost?: string | null;
  readonly tagTtlSeconds?: number;
  readonly maxBytes?: number;
  readonly verifyBeforeServeBytes?: number;
  /** Reuse a cache directory (restart tests). */
  readonly dir?: string;
}

export interface Harness extends ProxyInstance {
  readonly upstream: FakeUpstream;
  readonly dir: string;
  readonly logs: LogRecord[];
  readonly clock: { now: number };
  /** app.request with a path and init. */
  request(path: string, init?: RequestInit): Promise<Response>;
  cleanup(): Promise<void>;
}

export async function makeHarness(options: HarnessOptions = {}): Promise<Harness> {
  const fakes = options.upstreams ?? { "registry.test": new FakeUpstream() };
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "megalift-proxy-")));
  const upstreams = new Map<string, UpstreamConfig>(
    Object.keys(fakes).map((host) => [host, { host, url: `http://${host}` }]),
  );
  const first = Object.keys(fakes)[0];
  const defaultHost = options.defaultHost === null ? undefined : (options.defaultHost ?? first);
  const config: ProxyConfig = {
    listen: "127.0.0.1:0",
    mode: "passthrough",
    cache: {
      dir,
      maxBytes: options.maxBytes ?? 1024 ** 3,
      tagTtlSeconds: options.tagTtlSeconds ?? 300,
      verifyBeforeServeBytes: options.verifyBeforeServeBytes ?? 0,
    },
    upstreams,
    ...(defaultHost !== undefined ? { defaultUpstream: defaultHost } : {}),
  };
  const logs: LogRecord[] = [];
  const clock = { now: 1_700_000_000_000 };
  const proxy = await createProxy(config, {
    clientFactory: (upstream) => {
      const fake = fakes[upstream.host];
      if (!fake) throw new Error(`no fake upstream for ${upstream.host}`);
      return fake;
    },
    logger: { log: (record) => logs.push(record) },
    now: () => clock.now,
  });
  const upstream = first === undefined ? new FakeUpstream() : (fakes[first] ?? new FakeUpstream());
  return {
    ...proxy,
    upstream,
    dir,
    logs,
    clock,
    request: async (path, init) => proxy.app.request(path, init),
    cleanup: async () => {
      await proxy.fetcher.close();
      if (options.dir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A small image in `repository` of `upstream`: one config blob, one layer, a manifest tagged `tag`. */
export function addImage(
  upstream: FakeUpstream,
  repository: string,
  tag = "latest",
  layerText = "layer bytes",
) {
  const config = upstream.addBlob(
    `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`,
  );
  const layerBytes = new TextEncoder().encode(layerText);
  const layer = upstream.addBlob(layerBytes);
  const manifest = upstream.addManifest(repository, tag, {
    schemaVersion: 2,
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: config.toString(),
      size: 80,
    },
    layers: [
      {
        mediaType: "application/vnd.oci.image.layer.v1.tar",
        digest: layer.toString(),
        size: layerBytes.length,
      },
    ],
  });
  return { config, layer, layerBytes, manifest };
}

/** The body of an OCI error response. */
export async function errorCode(response: Response): Promise<string | undefined> {
  const body = (await response.json()) as { errors?: { code?: string }[] };
  return body.errors?.[0]?.code;
}
