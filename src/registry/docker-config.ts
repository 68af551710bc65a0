// Credentials from a docker config.json, as `docker login` writes it
// (docker/cli config file: "auths": {"<registry>": {"auth": base64("user:pass")}}
// or "username"/"password"). Keys may be bare hosts or URLs
// ("https://index.docker.io/v1/" for Docker Hub); docker compares them by host.
// Credential helpers (credsStore, credHelpers) run external programs, which
// megalift does not do: they are reported with a message saying so.
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { MegaliftError } from "../errors.js";
import type { Credentials, CredentialsProvider } from "./types.js";

export interface DockerConfigOptions {
  /** The config.json to read; by default $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
  readonly path?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Docker Hub's key in config.json, and every host name Hub goes by. */
export const DOCKER_HUB_CONFIG_KEY = "https://index.docker.io/v1/";
const DOCKER_HUB_HOSTS = ["docker.io", "index.docker.io", "registry-1.docker.io"];

/** Where docker keeps config.json (docker/cli config.Dir()). */
export function defaultDockerConfigPath(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const dir = env.DOCKER_CONFIG;
  return dir !== undefined && dir !== ""
    ? join(dir, "config.json")
    : join(env.HOME ?? homedir(), ".docker", "config.json");
}

/** A CredentialsProvider reading a docker config.json (read once, on first use; absent = no credentials). */
export function dockerConfigCredentials(options: DockerConfigOptions = {}): CredentialsProvider {
  const path = options.path ?? defaultDockerConfigPath(options.env);
  let loaded: Promise<unknown> | undefined;
  return async (host) => {
    loaded ??= readConfig(path);
    const doc = await loaded;
    return doc === undefined ? undefined : credentialsFromDockerConfig(doc, host, path);
  };
}

async function readConfig(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as { code?: unknown }).code === "ENOENT") return undefined;
    throw new MegaliftError("IO", `cannot read docker config ${path}: ${String(err)}`, {
      cause: err,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new MegaliftError("CONFIG_INVALID", `docker config ${path} is not valid JSON`, {
      cause: err,
    });
  }
}

/** docker/cli's ConvertToHostname: "https://host:port/v1/" → "host:port". */
function keyHost(key: string): string {
  const bare = key.replace(/^https?:\/\//i, "");
  return (bare.split("/")[0] ?? "").toLowerCase();
}

function hostsFor(host: string): string[] {
  const lower = host.toLowerCase();
  return DOCKER_HUB_HOSTS.includes(lower) ? DOCKER_HUB_HOSTS : [lower];
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The credentials a parsed config.json holds for `host`; `where` names the file in messages. */
export function credentialsFromDockerConfig(
  doc: unknown,
  host: string,
  where: string,
): Credentials | undefined {
  const config = asRecord(doc);
  if (!config) throw new MegaliftError("CONFIG_INVALID", `docker config ${where} is not an object`);
  const hosts = hostsFor(host);
  const helpers = asRecord(config.credHelpers) ?? {};
  const helperKey = Object.keys(helpers).find((k) => hosts.includes(keyHost(k)));
  if (helperKey !== undefined) {
    throw helperUnsupported(
      where,
      host,
      `credHelpers names docker-credential-${String(helpers[helperKey])}`,
    );
  }
  const auths = asRecord(config.auths) ?? {};
  // Docker Hub's canonical key first, then any key naming the host.
  const keys = Object.keys(auths).sort(
    (a, b) => Number(b === DOCKER_HUB_CONFIG_KEY) - Number(a === DOCKER_HUB_CONFIG_KEY),
  );
  const key = keys.find((k) => hosts.includes(keyHost(k)));
  if (key === undefined) return undefined;
  const entry = asRecord(auths[key]) ?? {};
  const what = `docker config ${where}, auths["${key}"]`;
  if (typeof entry.auth === "string" && entry.auth !== "") {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) {
      throw new MegaliftError("CONFIG_INVALID", `${what}: "auth" is not base64 of user:password`);
    }
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === "string" && typeof entry.password === "string") {
    return { username: entry.username, password: entry.password };
  }
  if (typeof entry.identitytoken === "string" && entry.identitytoken !== "") {
    throw helperUnsupported(where, host, "it holds an OAuth identity token");
  }
  // `docker login` with a credsStore leaves an empty entry: the secret is in the store.
  if (typeof config.credsStore === "string" && config.credsStore !== "") {
    throw helperUnsupported(where, host, `credsStore names docker-credential-${config.credsStore}`);
  }
  return undefined;
}

function helperUnsupported(where: string, host: string, why: string): MegaliftError {
  return new MegaliftError(
    "UNSUPPORTED",
    `credentials for ${host} in docker config ${where}: ${why}, which megalift does not run; put user and password in the proxy config, or an "auth" entry in a config.json named by DOCKER_CONFIG`,
  );
}
