// CNCF distribution 2.8 (Debian's `docker-registry`) as a test upstream: its
// own config, filesystem storage in a temp dir and a loopback port, in three
// flavours (anonymous, htpasswd Basic auth, Bearer token auth). Its access
// log is parsed so tests can count the upstream GETs of each blob.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { answersHttp, freePort, startDaemon, type Daemon } from "./daemon.js";
import { runOk } from "./run.js";
import type { Teardown } from "./teardown.js";
import type { TokenServer } from "./token-server.js";

export type DistributionAuth =
  | { readonly kind: "anonymous" }
  | { readonly kind: "htpasswd"; readonly username: string; readonly password: string }
  | { readonly kind: "token"; readonly tokenServer: TokenServer };

export interface AccessLogEntry {
  readonly method: string;
  /** The request target as sent: path and query. */
  readonly target: string;
  readonly status: number;
  readonly userAgent: string;
}

export interface Distribution {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** 127.0.0.1:PORT, as it appears in image references. */
  readonly host: string;
  readonly storageDir: string;
  readonly auth: DistributionAuth;
  /** Requests answered so far, from distribution's access log. */
  accessLog(): readonly AccessLogEntry[];
  /** GET requests for the blob `digest` (in any repository) answered so far. */
  blobGets(digest: string): number;
  /** Where distribution's filesystem driver keeps the bytes of blob `digest`. */
  blobDataPath(digest: string): string;
  readonly running: boolean;
  stop(): Promise<void>;
}

// Apache combined log format, as distribution's access log writes it:
// 127.0.0.1 - - [27/Nov/2026:18:06:54 +0000] "GET /v2/ HTTP/1.1" 200 2 "" "curl/7.88.1"
const ACCESS_LINE =
  /^\S+ \S+ \S+ \[[^\]]+\] "([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) \S+ "[^"]*" "(.*)"$/;

export function parseAccessLog(lines: readonly string[]): AccessLogEntry[] {
  const entries: AccessLogEntry[] = [];
  for (const line of lines) {
    const m = ACCESS_LINE.exec(line);
    if (m) entries.push({ method: m[1]!, target: m[2]!, status: Number(m[3]), userAgent: m[4]! });
  }
  return entries;
}

async function authSection(
  auth: DistributionAuth,
  dir: string,
): Promise<Record<string, unknown> | undefined> {
  switch (auth.kind) {
    case "anonymous":
      return undefined;
    case "htpasswd": {
      const path = join(dir, "htpasswd");
      // -B: bcrypt, the only hash distribution's htpasswd auth accepts.
      const line = await runOk("htpasswd", ["-Bbn", auth.username, auth.password]);
      writeFileSync(path, line);
      return { htpasswd: { realm: "megalift-e2e", path } };
    }
    case "token":
      return {
        token: {
          realm: auth.tokenServer.realm,
          service: auth.tokenServer.service,
          issuer: auth.tokenServer.issuer,
          rootcertbundle: auth.tokenServer.certificateFile,
        },
      };
  }
}

export async function startDistribution(
  teardown: Teardown,
  auth: DistributionAuth = { kind: "anonymous" },
): Promise<Distribution> {
  const dir = teardown.tempDir(`distribution-${auth.kind}`);
  const storageDir = join(dir, "storage");
  const authConfig = await authSection(auth, dir);
  let daemon: Daemon | undefined;
  let host = "";
  // The free port can be taken again before distribution binds it: try another.
  for (let attempt = 1; daemon === undefined; attempt++) {
    host = `127.0.0.1:${await freePort()}`;
    // JSON is YAML: distribution reads this with its YAML parser.
    const config = {
      version: "0.1",
      log: { level: "info", formatter: "json", accesslog: { disabled: false } },
      storage: {
        filesystem: { rootdirectory: storageDir },
        maintenance: { uploadpurging: { enabled: false } },
      },
      http: { addr: host, secret: "megalift-e2e-not-a-secret" },
      ...(authConfig ? { auth: authConfig } : {}),
    };
    const configFile = join(dir, "config.yml");
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    try {
      daemon = await startDaemon(
        {
          name: `distribution (${auth.kind}) on ${host}`,
          command: "docker-registry",
          args: ["serve", configFile],
          logFile: join(dir, "distribution.log"),
          ready: () => answersHttp(`http://${host}/v2/`),
        },
        teardown,
      );
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test(String(err))) throw err;
    }
  }
  const started = daemon;
  const accessLog = (): AccessLogEntry[] => parseAccessLog(started.allLines());
  return {
    url: `http://${host}`,
    host,
    storageDir,
    auth,
    accessLog,
    blobGets: (digest) =>
      accessLog().filter(
        (e) => e.method === "GET" && e.target.split("?")[0]!.endsWith(`/blobs/${digest}`),
      ).length,
    blobDataPath: (digest) => {
      const [algorithm, hex] = digest.split(":") as [string, string];
      return join(storageDir, "docker/registry/v2/blobs", algorithm, hex.slice(0, 2), hex, "data");
    },
    get running() {
      return started.running;
    },
    stop: () => started.stop(),
  };
}
