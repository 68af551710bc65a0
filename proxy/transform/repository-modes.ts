// Which mode a repository is served in: the first `repositories` rule whose
// pattern matches it (as "library/busybox" or "HOST/library/busybox"), else
// the proxy's mode. `*` matches any run of characters, `/` included.
import type { ProxyMode, RepositoryRule } from "../config/proxy-config.js";

function patternRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

export class RepositoryModes {
  private readonly rules: readonly { readonly test: RegExp; readonly mode: ProxyMode }[];

  constructor(
    rules: readonly RepositoryRule[],
    private readonly fallback: ProxyMode,
  ) {
    this.rules = rules.map((r) => ({ test: patternRegExp(r.match), mode: r.mode }));
  }

  modeOf(host: string, repository: string): ProxyMode {
    const qualified = `${host}/${repository}`;
    const rule = this.rules.find((r) => r.test.test(repository) || r.test.test(qualified));
    return rule?.mode ?? this.fallback;
  }
}
