// The proxy's resolved configuration (after the config file, environment and
// flags are merged and checked) and its defaults. The on-disk form is
// described by schemas/proxy-config.schema.json; load-config.ts turns it into this.
import type { Credentials } from "../../src/registry/types.js";

export type ProxyMode = "passthrough" | "transform";

export interface UpstreamConfig {
  /** The registry host as images name it ("docker.io", "127.0.0.1:5000"). */
  readonly host: string;
  /** The API base URL without /v2 ("https://registry-1.docker.io"). */
  readonly url: string;
  readonly credentials?: Credentials;
}

export interface CacheConfig {
  readonly dir: string;
  /** Size limit of cached blobs and manifests, in bytes; LRU eviction above it. */
  readonly maxBytes: number;
  /** How long a tag → digest answer is trusted before it is revalidated upstream. */
  readonly tagTtlSeconds: number;
  /**
   * Blobs up to this size are downloaded and verified in full before the
   * first byte is sent, so a digest mismatch is answered as DIGEST_INVALID;
   * larger blobs stream as they arrive and a mismatch cuts the connection.
   */
  readonly verifyBeforeServeBytes: number;
}

export interface ProxyConfig {
  /** HOST:PORT to listen on; port 0 picks a free port. */
  readonly listen: string;
  readonly mode: ProxyMode;
  readonly cache: CacheConfig;
  /** Upstreams by registry host. */
  readonly upstreams: ReadonlyMap<string, UpstreamConfig>;
  /** The host of the upstream for requests that name none; undefined when there is none. */
  readonly defaultUpstream?: string;
}

export const DEFAULT_LISTEN = "127.0.0.1:5000";
export const DEFAULT_CACHE_MAX_BYTES = 10 * 1024 ** 3;
export const DEFAULT_TAG_TTL_SECONDS = 300;
export const DEFAULT_VERIFY_BEFORE_SERVE_BYTES = 8 * 1024 ** 2;

const DOCKER_HUB = "docker.io";
const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/** A registry host as configured and as clients name it: lower case, Docker Hub's aliases as docker.io. */
export function normaliseHost(host: string): string {
  const lower = host.toLowerCase();
  return DOCKER_HUB_ALIASES.has(lower) ? DOCKER_HUB : lower;
}

/** True for Docker Hub, where one-segment names live under library/. */
export function isDockerHub(host: string): boolean {
  return normaliseHost(host) === DOCKER_HUB;
}

/** The host an upstream URL serves ("https://registry-1.docker.io" → "docker.io"). */
export function hostOfUrl(url: string): string {
  return normaliseHost(new URL(url).host);
}
