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

/** What becomes of an index's children other than linux/amd64 in transform mode. */
export type OtherPlatforms = "drop" | "passthrough";

/** A per-repository override of the mode: the first rule whose pattern matches wins. */
export interface RepositoryRule {
  /** A repository ("library/busybox") or HOST/repository; `*` matches any run of characters. */
  readonly match: string;
  readonly mode: ProxyMode;
}

/** Transform-on-pull settings (proxy/transform/). */
export interface TransformConfig {
  /** A PEM ECDSA P-256 private key; undefined: generated once and kept in the cache directory. */
  readonly signingKeyFile?: string;
  /** A transform running longer than this is stopped and counts as failed. */
  readonly timeoutSeconds: number;
  /** How long a pull waits for a running transform before it is answered 503 + Retry-After. */
  readonly waitSeconds: number;
  /** After a failure, pulls are answered 503 for this long; the next pull after it tries again. */
  readonly retryFailedAfterSeconds: number;
  /** Transforms allowed to run at once; the rest queue. */
  readonly maxConcurrent: number;
  readonly otherPlatforms: OtherPlatforms;
  /** transformImage's cacheDir (flattened contents, lift cache); default CACHE/transforms/work. */
  readonly workDir?: string;
  readonly workers?: number;
  readonly liftOptimize?: number;
  readonly compileOptimize?: number;
}

export interface ProxyConfig {
  /** HOST:PORT to listen on; port 0 picks a free port. */
  readonly listen: string;
  /** The mode of repositories no rule in `repositories` matches. */
  readonly mode: ProxyMode;
  /** Per-repository modes (none: every repository in `mode`). */
  readonly repositories?: readonly RepositoryRule[];
  /** Transform settings (DEFAULT_TRANSFORM when absent). */
  readonly transform?: TransformConfig;
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
export const DEFAULT_MODE: ProxyMode = "transform";

export const DEFAULT_TRANSFORM: TransformConfig = {
  timeoutSeconds: 1800,
  waitSeconds: 60,
  retryFailedAfterSeconds: 300,
  maxConcurrent: 1,
  otherPlatforms: "drop",
};

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
