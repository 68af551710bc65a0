// Starts the megalift registry proxy as a user would — the built CLI,
// `megalift proxy --listen 127.0.0.1:0 …` — and reads its JSON log: the
// first stdout line announces the URL, then one line per request.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDaemon, type Daemon } from "./daemon.js";
import type { Credentials } from "./skopeo.js";
import type { Teardown } from "./teardown.js";
import { CLI_MAIN } from "../../helpers/cli.js";

export interface ProxyUpstream {
  readonly url: string;
  readonly credentials?: Credentials;
}

export interface ProxyOptions {
  /** `--upstream`: where requests without `?ns=` go. */
  readonly upstream?: string;
  /** Config file: upstreams by registry host (selected by containerd's `?ns=`). */
  readonly upstreams?: Readonly<Record<string, ProxyUpstream>>;
  /** Config file: the upstream for requests that name none — a host of `upstreams`, or a URL. */
  readonly defaultUpstream?: string;
  /** Reuse a cache directory (a restart); a fresh temp dir otherwise. */
  readonly cacheDir?: string;
  /** `--mode` (passthrough unless given). */
  readonly mode?: "passthrough" | "transform";
  /** Config file: the `transform` section (schemas/proxy-config.schema.json). */
  readonly transform?: Readonly<Record<string, unknown>>;
}

/** One request line of the proxy's log. */
export interface ProxyRequestLog {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly bytes: number;
  readonly cache: "hit" | "miss";
  readonly upstreamMs: number;
  readonly durationMs: number;
}

export interface Proxy {
  /** http://127.0.0.1:PORT, as announced by the proxy. */
  readonly url: string;
  /** 127.0.0.1:PORT, as it appears in image references. */
  readonly host: string;
  readonly cacheDir: string;
  /** Request lines logged so far. */
  requests(): readonly ProxyRequestLog[];
  logTail(lines?: number): string;
  readonly running: boolean;
  stop(): Promise<void>;
}

/** The config file the proxy reads (YAML or JSON; JSON here): schemas/proxy-config.schema.json. */
export function proxyConfigDocument(options: ProxyOptions): Record<string, unknown> {
  return {
    ...(options.defaultUpstream ? { default: options.defaultUpstream } : {}),
    upstreams: options.upstreams ?? {},
    ...(options.transform ? { transform: options.transform } : {}),
  };
}

function listeningUrl(daemon: Daemon): string | undefined {
  const first = daemon.stdoutLines()[0];
  if (first === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(first);
  } catch {
    throw new Error(`proxy's first stdout line is not JSON: ${first}`);
  }
  const line = parsed as { level?: unknown; msg?: unknown; url?: unknown };
  if (line.level !== "info" || line.msg !== "listening" || typeof line.url !== "string") {
    throw new Error(`proxy's first stdout line is not the listening line: ${first}`);
  }
  return line.url;
}

function parseRequestLines(lines: readonly string[]): ProxyRequestLog[] {
  const out: ProxyRequestLog[] = [];
  for (const line of lines.slice(1)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    const entry = parsed as Partial<ProxyRequestLog>;
    if (typeof entry.method === "string" && typeof entry.path === "string") {
      out.push(entry as ProxyRequestLog);
    }
  }
  return out;
}

export async function startProxy(options: ProxyOptions, teardown: Teardown): Promise<Proxy> {
  const dir = teardown.tempDir("proxy");
  const cacheDir = options.cacheDir ?? join(dir, "cache");
  const args = [
    CLI_MAIN,
    "proxy",
    "--listen",
    "127.0.0.1:0",
    "--cache",
    cacheDir,
    "--mode",
    options.mode ?? "passthrough",
  ];
  if (options.upstream) args.push("--upstream", options.upstream);
  if (options.upstreams || options.defaultUpstream || options.transform) {
    const configFile = join(dir, "proxy-config.json");
    writeFileSync(configFile, JSON.stringify(proxyConfigDocument(options), null, 2));
    args.push("--config", configFile);
  }
  let url: string | undefined;
  const daemon = await startDaemon(
    {
      name: "megalift proxy",
      command: process.execPath,
      args,
      logFile: join(dir, "proxy.log"),
      ready: async (d) => {
        url = listeningUrl(d);
        return url !== undefined;
      },
      readyTimeoutMs: 20_000,
    },
    teardown,
  );
  const announced = url!;
  return {
    url: announced,
    host: new URL(announced).host,
    cacheDir,
    requests: () => parseRequestLines(daemon.stdoutLines()),
    logTail: (lines) => daemon.logTail(lines),
    get running() {
      return daemon.running;
    },
    stop: () => daemon.stop(),
  };
}
