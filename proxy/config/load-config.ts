// Reads the proxy configuration: the file (YAML or JSON, checked against
// schemas/proxy-config.schema.json with ajv), then the environment, then the
// command-line flags, each overriding the one before. Every problem is one
// line naming where it is and what is wrong.
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { parse as parseYaml } from "yaml";
import { MegaliftError } from "../../src/errors.js";
import { packageRoot } from "../../src/package-root.js";
import {
  DEFAULT_CACHE_MAX_BYTES,
  DEFAULT_LISTEN,
  DEFAULT_MODE,
  DEFAULT_TRANSFORM,
  DEFAULT_TAG_TTL_SECONDS,
  DEFAULT_VERIFY_BEFORE_SERVE_BYTES,
  hostOfUrl,
  normaliseHost,
  type ProxyConfig,
  type OtherPlatforms,
  type ProxyMode,
  type TransformConfig,
  type UpstreamConfig,
} from "./proxy-config.js";
import { parseSize } from "./size.js";

/** The configuration file's shape (schemas/proxy-config.schema.json). */
export interface ProxyConfigFile {
  readonly listen?: string;
  readonly mode?: ProxyMode;
  readonly cache?: {
    readonly dir?: string;
    readonly maxSize?: number | string;
    readonly tagTtlSeconds?: number;
    readonly verifyBeforeServe?: number | string;
  };
  readonly upstreams?: Readonly<
    Record<
      string,
      { readonly url: string; readonly credentials?: { username: string; password: string } }
    >
  >;
  readonly default?: string;
  readonly repositories?: readonly { readonly match: string; readonly mode: ProxyMode }[];
  readonly transform?: {
    readonly signingKey?: string;
    readonly timeoutSeconds?: number;
    readonly waitSeconds?: number;
    readonly retryFailedAfterSeconds?: number;
    readonly maxConcurrent?: number;
    readonly otherPlatforms?: OtherPlatforms;
    readonly workDir?: string;
    readonly workers?: number;
    readonly liftOptimize?: number;
    readonly compileOptimize?: number;
  };
}

/** Command-line settings (each overrides the file). */
export interface ProxyFlags {
  readonly listen?: string;
  readonly upstream?: string;
  readonly cache?: string;
  readonly mode?: string;
  readonly config?: string;
  readonly cacheMaxSize?: string;
  readonly tagTtl?: string;
  readonly signingKey?: string;
  readonly transformTimeout?: string;
  readonly transformWait?: string;
}

let validator: ValidateFunction | undefined;

/** The schema's validator, compiled once (the schema ships with the package). */
function validate(): ValidateFunction {
  if (validator) return validator;
  const path = join(packageRoot(), "schemas", "proxy-config.schema.json");
  const ajv = new Ajv({ strict: true, allErrors: true, verbose: true });
  validator = ajv.compile(JSON.parse(readFileSync(path, "utf8")) as object);
  return validator;
}

/** Checks a parsed configuration document; CONFIG_INVALID with one line per problem otherwise. */
export function validateConfigDocument(doc: unknown, source: string): ProxyConfigFile {
  const check = validate();
  if (check(doc)) return doc as ProxyConfigFile;
  const problems = (check.errors ?? [])
    .filter((e) => e.keyword !== "oneOf" && e.keyword !== "if")
    .map(describe);
  const unique = [...new Set(problems.length > 0 ? problems : ["does not match the schema"])];
  throw new MegaliftError("CONFIG_INVALID", `${source}: ${unique.join("; ")}`);
}

function describe(error: ErrorObject): string {
  const where = error.instancePath === "" ? "(top level)" : error.instancePath;
  const parent: unknown = error.parentSchema;
  switch (error.keyword) {
    case "additionalProperties": {
      const extra = (error.params as { additionalProperty?: string }).additionalProperty ?? "?";
      return `${where}: unknown property "${extra}"`;
    }
    case "required": {
      const missing = (error.params as { missingProperty?: string }).missingProperty ?? "?";
      return `${where}: missing required property "${missing}"`;
    }
    case "enum": {
      const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues ?? [];
      return `${where}: ${JSON.stringify(error.data)} is not one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}`;
    }
    case "type":
    case "pattern": {
      const title =
        typeof parent === "object" && parent !== null && "title" in parent
          ? parent.title
          : undefined;
      const what = typeof title === "string" ? title : (error.message ?? "is invalid");
      return `${where}: ${JSON.stringify(error.data)} ${typeof title === "string" ? `is not ${what}` : what}`;
    }
    default:
      return `${where}: ${error.message ?? "is invalid"}`;
  }
}

/** Parses configuration text: JSON for *.json, YAML (a superset of JSON) otherwise. */
export function parseConfigText(text: string, source: string): unknown {
  try {
    return source.endsWith(".json") ? (JSON.parse(text) as unknown) : (parseYaml(text) as unknown);
  } catch (err) {
    const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new MegaliftError(
      "CONFIG_INVALID",
      `${source}: not valid ${source.endsWith(".json") ? "JSON" : "YAML"}: ${reason}`,
      {
        cause: err,
      },
    );
  }
}

/** Reads and checks the configuration file. */
export async function readConfigFile(path: string): Promise<ProxyConfigFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new MegaliftError(
      "CONFIG_INVALID",
      `cannot read config file ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return validateConfigDocument(parseConfigText(text, path) ?? {}, path);
}

/** The configuration from the file named by flags.config (if any), the environment and the flags. */
export async function loadProxyConfig(
  flags: ProxyFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ProxyConfig> {
  const file = flags.config === undefined ? {} : await readConfigFile(flags.config);
  return resolveProxyConfig(file, flags, env);
}

/**
 * Merges file, environment (MEGALIFT_UPSTREAM, MEGALIFT_CACHE_DIR) and flags.
 * `--upstream URL` adds that upstream under its host and makes it the default.
 */
export function resolveProxyConfig(
  file: ProxyConfigFile,
  flags: ProxyFlags,
  env: NodeJS.ProcessEnv,
): ProxyConfig {
  const upstreams = new Map<string, UpstreamConfig>();
  for (const [host, upstream] of Object.entries(file.upstreams ?? {})) {
    const key = normaliseHost(host);
    upstreams.set(key, {
      host: key,
      url: upstream.url,
      ...(upstream.credentials ? { credentials: upstream.credentials } : {}),
    });
  }
  let defaultUpstream: string | undefined;
  const addDefault = (value: string, source: string): void => {
    if (/^https?:\/\//.test(value)) {
      const host = urlHost(value, source);
      if (!upstreams.has(host)) upstreams.set(host, { host, url: value.replace(/\/+$/, "") });
      defaultUpstream = host;
      return;
    }
    const host = normaliseHost(value);
    if (!upstreams.has(host)) {
      throw new MegaliftError(
        "CONFIG_INVALID",
        `${source}: default upstream "${value}" is neither a URL nor a host under upstreams`,
      );
    }
    defaultUpstream = host;
  };
  if (file.default !== undefined) addDefault(file.default, `${flags.config ?? "config"}: /default`);
  if (env["MEGALIFT_UPSTREAM"]) addDefault(env["MEGALIFT_UPSTREAM"], "MEGALIFT_UPSTREAM");
  if (flags.upstream !== undefined) {
    if (!/^https?:\/\//.test(flags.upstream)) {
      throw new MegaliftError(
        "USAGE",
        `proxy: --upstream must be an http:// or https:// URL, got "${flags.upstream}"`,
      );
    }
    addDefault(flags.upstream, "--upstream");
  }
  if (upstreams.size === 0) {
    throw new MegaliftError(
      "USAGE",
      "proxy: no upstream registry: give --upstream URL or a config file with upstreams",
    );
  }

  const mode = flags.mode ?? file.mode ?? DEFAULT_MODE;
  if (mode !== "passthrough" && mode !== "transform") {
    throw new MegaliftError(
      "USAGE",
      `proxy: --mode must be passthrough or transform, got "${mode}"`,
    );
  }
  const cacheDir =
    flags.cache ??
    file.cache?.dir ??
    join(env["MEGALIFT_CACHE_DIR"] ?? join(homedir(), ".cache", "megalift"), "proxy");
  const tagTtlSeconds =
    flags.tagTtl !== undefined
      ? parseSeconds(flags.tagTtl, "--tag-ttl")
      : (file.cache?.tagTtlSeconds ?? DEFAULT_TAG_TTL_SECONDS);
  return {
    listen: flags.listen ?? file.listen ?? DEFAULT_LISTEN,
    mode,
    cache: {
      dir: cacheDir,
      maxBytes: sizeOr(
        flags.cacheMaxSize ?? file.cache?.maxSize,
        DEFAULT_CACHE_MAX_BYTES,
        "cache size",
      ),
      tagTtlSeconds,
      verifyBeforeServeBytes: sizeOr(
        file.cache?.verifyBeforeServe,
        DEFAULT_VERIFY_BEFORE_SERVE_BYTES,
        "/cache/verifyBeforeServe",
      ),
    },
    upstreams,
    ...(defaultUpstream !== undefined ? { defaultUpstream } : {}),
    repositories: file.repositories ?? [],
    transform: resolveTransform(file.transform ?? {}, flags),
  };
}

/** The transform settings: flags over the file's `transform` section over the defaults. */
function resolveTransform(
  file: NonNullable<ProxyConfigFile["transform"]>,
  flags: ProxyFlags,
): TransformConfig {
  const signingKeyFile = flags.signingKey ?? file.signingKey;
  return {
    timeoutSeconds:
      flags.transformTimeout !== undefined
        ? parseSeconds(flags.transformTimeout, "--transform-timeout")
        : (file.timeoutSeconds ?? DEFAULT_TRANSFORM.timeoutSeconds),
    waitSeconds:
      flags.transformWait !== undefined
        ? parseSeconds(flags.transformWait, "--transform-wait")
        : (file.waitSeconds ?? DEFAULT_TRANSFORM.waitSeconds),
    retryFailedAfterSeconds:
      file.retryFailedAfterSeconds ?? DEFAULT_TRANSFORM.retryFailedAfterSeconds,
    maxConcurrent: file.maxConcurrent ?? DEFAULT_TRANSFORM.maxConcurrent,
    otherPlatforms: file.otherPlatforms ?? DEFAULT_TRANSFORM.otherPlatforms,
    ...(signingKeyFile !== undefined ? { signingKeyFile } : {}),
    ...(file.workDir !== undefined ? { workDir: file.workDir } : {}),
    ...(file.workers !== undefined ? { workers: file.workers } : {}),
    ...(file.liftOptimize !== undefined ? { liftOptimize: file.liftOptimize } : {}),
    ...(file.compileOptimize !== undefined ? { compileOptimize: file.compileOptimize } : {}),
  };
}

function urlHost(url: string, source: string): string {
  try {
    return hostOfUrl(url);
  } catch (err) {
    throw new MegaliftError("CONFIG_INVALID", `${source}: "${url}" is not a URL`, { cause: err });
  }
}

function sizeOr(value: number | string | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  const bytes = parseSize(value);
  if (bytes === undefined)
    throw new MegaliftError(
      "CONFIG_INVALID",
      `${what}: "${value}" is not a size (e.g. 500MiB, 10GB)`,
    );
  return bytes;
}

function parseSeconds(text: string, what: string): number {
  if (!/^[0-9]+$/.test(text))
    throw new MegaliftError(
      "USAGE",
      `proxy: ${what} must be a whole number of seconds, got "${text}"`,
    );
  return Number(text);
}
