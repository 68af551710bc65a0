// Picks the upstream registry and repository for a request name:
//  1. path prefix — /v2/<registry-host>/<name>/… when the first segment looks
//     like a host (holds '.' or ':' or is "localhost", as distribution/reference
//     decides) and that host is configured;
//  2. containerd's ?ns=<registry> parameter (containerd docs/hosts.md, "ns");
//  3. the default upstream, for clients that name none (docker's registry-mirrors).
// Docker Hub keeps one-segment names under library/ (distribution/reference).
import { RegistryError } from "../http/registry-error.js";
import { checkRepositoryName } from "../http/v2-path.js";
import { isDockerHub, normaliseHost, type UpstreamConfig } from "../config/proxy-config.js";

export interface RouteTarget {
  readonly upstream: UpstreamConfig;
  /** The repository on the upstream (library/ added for Docker Hub). */
  readonly repository: string;
}

export class UpstreamRouter {
  constructor(
    private readonly upstreams: ReadonlyMap<string, UpstreamConfig>,
    private readonly defaultHost: string | undefined,
  ) {}

  /**
   * The upstream and repository for a request's `name` (as in the path) and
   * `ns` query parameter. An `ns` naming no configured upstream falls back to
   * the default one, as a mirror does for whatever it is asked.
   */
  resolve(name: string, ns: string | undefined): RouteTarget {
    const slash = name.indexOf("/");
    if (slash > 0) {
      const first = name.slice(0, slash);
      const prefixed = looksLikeHost(first) ? this.upstreams.get(normaliseHost(first)) : undefined;
      if (prefixed) return this.target(prefixed, name.slice(slash + 1));
    }
    const named = ns === undefined ? undefined : this.upstreams.get(normaliseHost(ns));
    const upstream = named ?? this.defaultUpstream();
    if (!upstream) {
      const which =
        ns === undefined
          ? "no default upstream is configured"
          : `no upstream is configured for "${ns}"`;
      throw new RegistryError(404, "NAME_UNKNOWN", `repository "${name}" is unknown: ${which}`, {
        detail: { name },
      });
    }
    return this.target(upstream, name);
  }

  private defaultUpstream(): UpstreamConfig | undefined {
    return this.defaultHost === undefined ? undefined : this.upstreams.get(this.defaultHost);
  }

  private target(upstream: UpstreamConfig, name: string): RouteTarget {
    checkRepositoryName(name);
    const repository = isDockerHub(upstream.host) && !name.includes("/") ? `library/${name}` : name;
    return { upstream, repository };
  }
}

/** distribution/reference: a first component with '.' or ':' or equal to "localhost" is a host. */
export function looksLikeHost(segment: string): boolean {
  return segment.includes(".") || segment.includes(":") || segment === "localhost";
}
