// Tag listing (distribution-spec "Listing Tags"): the upstream's full list,
// in lexical order, paginated with `n` and `last` and a Link header to the
// next page ("Link: <url?n=N&last=TAG>; rel=\"next\"").
import type { ProxyMetrics } from "../observability/metrics.js";
import { timeUpstream, type RequestStats } from "../observability/request-stats.js";
import type { UpstreamClients } from "../routing/upstream-clients.js";
import type { RouteTarget } from "../routing/upstream-router.js";

export interface TagsPageRequest {
  /** The page size asked for; undefined for all. */
  readonly n?: number;
  /** Return tags after this one, lexically. */
  readonly last?: string;
  readonly stats?: RequestStats;
}

export interface TagsPage {
  readonly tags: readonly string[];
  /** The `last` value of the next page, when there is one. */
  readonly nextLast?: string;
}

export class TagsService {
  constructor(
    private readonly clients: UpstreamClients,
    private readonly metrics: ProxyMetrics,
  ) {}

  async list(target: RouteTarget, request: TagsPageRequest): Promise<TagsPage> {
    const client = this.clients.get(target.upstream);
    this.metrics.add("megalift_proxy_upstream_fetches_total", { kind: "tags" });
    const listed = await timeUpstream(request.stats, () => client.listTags(target.repository));
    return paginate(listed.tags, request.n, request.last);
  }
}

/** One page of `tags` in lexical (code point) order after `last`, at most `n` long. */
export function paginate(
  tags: readonly string[],
  n: number | undefined,
  last: string | undefined,
): TagsPage {
  const sorted = [...new Set(tags)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const after = last === undefined ? sorted : sorted.filter((tag) => tag > last);
  if (n === undefined || after.length <= n) return { tags: after };
  const page = after.slice(0, n);
  const nextLast = page[page.length - 1];
  return nextLast === undefined ? { tags: page } : { tags: page, nextLast };
}
