// Counters and gauges of the proxy, rendered in the Prometheus text
// exposition format (version 0.0.4) at /metrics. Deliberately tiny: a
// label set is a sorted key=value list, and nothing here allocates per byte.

type Labels = Readonly<Record<string, string>>;

interface Family {
  readonly help: string;
  readonly type: "counter" | "gauge";
  readonly values: Map<string, number>;
}

export class ProxyMetrics {
  private readonly families = new Map<string, Family>();
  private readonly gauges = new Map<string, () => number>();

  constructor() {
    this.define(
      "megalift_proxy_requests_total",
      "counter",
      "HTTP requests answered, by route, method and status.",
    );
    this.define(
      "megalift_proxy_cache_hits_total",
      "counter",
      "Requests answered from the cache, by kind.",
    );
    this.define(
      "megalift_proxy_cache_misses_total",
      "counter",
      "Requests that needed the upstream, by kind.",
    );
    this.define(
      "megalift_proxy_bytes_served_total",
      "counter",
      "Response body bytes sent to clients.",
    );
    this.define(
      "megalift_proxy_upstream_fetches_total",
      "counter",
      "Fetches started against upstreams, by kind.",
    );
    this.define("megalift_proxy_inflight_requests", "gauge", "Requests being answered now.");
  }

  /** Adds `by` to a counter (or gauge) with `labels`. */
  add(name: string, labels: Labels = {}, by = 1): void {
    const family = this.families.get(name);
    if (!family) throw new Error(`unknown metric ${name}`);
    const key = labelKey(labels);
    family.values.set(key, (family.values.get(key) ?? 0) + by);
  }

  /** A counter family defined after construction (by a service that exists only in some modes). */
  defineCounter(name: string, help: string): void {
    this.define(name, "counter", help);
  }

  /** A gauge read when /metrics is scraped. */
  defineGauge(name: string, help: string, read: () => number): void {
    this.define(name, "gauge", help);
    this.gauges.set(name, read);
  }

  /** The current value of a series (for tests). */
  value(name: string, labels: Labels = {}): number {
    const read = this.gauges.get(name);
    if (read) return read();
    return this.families.get(name)?.values.get(labelKey(labels)) ?? 0;
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, family] of this.families) {
      lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
      const read = this.gauges.get(name);
      if (read) {
        lines.push(`${name} ${read()}`);
        continue;
      }
      if (family.values.size === 0 && family.type === "gauge") lines.push(`${name} 0`);
      for (const [key, value] of family.values) lines.push(`${name}${key} ${value}`);
    }
    return lines.join("\n") + "\n";
  }

  private define(name: string, type: Family["type"], help: string): void {
    this.families.set(name, { help, type, values: new Map() });
  }
}

function labelKey(labels: Labels): string {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return "";
  const body = entries.map(
    ([k, v]) => `${k}="${v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`))}"`,
  );
  return `{${body.join(",")}}`;
}
