// Where a registry named in an image reference is reached: https by default;
// plain http for loopback hosts and for hosts listed in
// MEGALIFT_INSECURE_REGISTRIES (comma-separated, like docker's
// insecure-registries or skopeo's --tls-verify=false); Docker Hub's API lives
// at registry-1.docker.io.
import { DOCKER_HUB_REGISTRY } from "../oci/reference.js";
import type { RegistryEndpoint } from "./types.js";

export const DOCKER_HUB_API = "https://registry-1.docker.io";
export const INSECURE_REGISTRIES_ENV = "MEGALIFT_INSECURE_REGISTRIES";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "::1"]);

/** "host:port" → "host"; "[::1]:5000" → "::1". */
function hostname(host: string): string {
  if (host.startsWith("[")) return host.slice(1, host.indexOf("]"));
  const colon = host.lastIndexOf(":");
  return (colon >= 0 ? host.slice(0, colon) : host).toLowerCase();
}

/** True when `host` is reached over plain http. */
export function isInsecureRegistry(
  host: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  const name = hostname(host);
  if (LOOPBACK_HOSTS.has(name)) return true;
  const listed = (env[INSECURE_REGISTRIES_ENV] ?? "")
    .split(",")
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry !== "");
  return listed.includes(host.toLowerCase()) || listed.includes(name);
}

/** The endpoint for a registry host as image references name it. */
export function registryEndpoint(
  host: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): RegistryEndpoint {
  if (host === DOCKER_HUB_REGISTRY) return { host, baseUrl: DOCKER_HUB_API };
  const scheme = isInsecureRegistry(host, env) ? "http" : "https";
  return { host, baseUrl: `${scheme}://${host}` };
}
