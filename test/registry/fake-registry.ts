// In-process fake registries for the client's unit tests: a node:http server
// on port 0 that records every request, with a small distribution-spec router
// (manifests, blobs with Range, paginated tags) and a hook in front of it that
// tests use to inject auth, failures, redirects and broken connections.
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { Digest } from "../../src/oci/digest.js";
import type { Clock } from "../../src/registry/retry.js";

export interface RecordedRequest {
  readonly method: string;
  /** Path and query. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Every value of each header, in order (repeated lines kept apart). */
  readonly distinct: Record<string, string[]>;
}

/** Answers a request itself (returns true) or lets the router answer it (false). */
export type Intercept = (
  req: IncomingMessage,
  res: ServerResponse,
  recorded: RecordedRequest,
) => boolean | Promise<boolean>;

export interface FakeServer {
  /** host:port, as image references name it. */
  readonly host: string;
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1, port 0, that records requests and hands them to `handler`. */
export async function startServer(
  handler: (
    req: IncomingMessage,
    res: ServerResponse,
    recorded: RecordedRequest,
  ) => void | Promise<void>,
): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const recorded: RecordedRequest = {
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      distinct: req.headersDistinct as Record<string, string[]>,
    };
    requests.push(recorded);
    Promise.resolve(handler(req, res, recorded)).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  return {
    host,
    baseUrl: `http://${host}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface StoredManifest {
  readonly bytes: Buffer;
  readonly mediaType: string;
}

/** Sends an OCI error JSON body (distribution-spec "Error Codes"). */
export function sendError(res: ServerResponse, status: number, code: string, message = code): void {
  const body = JSON.stringify({ errors: [{ code, message, detail: null }] });
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

/** A small distribution-spec registry over maps, behind an optional intercept hook. */
export class FakeRegistry {
  /** By "repo:tag" and "repo@digest". */
  readonly manifests = new Map<string, StoredManifest>();
  /** By digest, shared by every repository. */
  readonly blobs = new Map<string, Buffer>();
  readonly tags = new Map<string, string[]>();
  intercept: Intercept | undefined;
  /** When false, Range is ignored and blobs always answer 200 (as some storage does). */
  honourRange = true;
  /** When false, manifest answers carry no Docker-Content-Digest. */
  sendDigestHeader = true;
  server!: FakeServer;

  static async start(): Promise<FakeRegistry> {
    const registry = new FakeRegistry();
    registry.server = await startServer((req, res, recorded) =>
      registry.handle(req, res, recorded),
    );
    return registry;
  }

  get host(): string {
    return this.server.host;
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** Stores a manifest under its digest and, if given, a tag. */
  putManifest(repository: string, bytes: Buffer, mediaType: string, tag?: string): Digest {
    const digest = Digest.of(bytes);
    this.manifests.set(`${repository}@${digest.toString()}`, { bytes, mediaType });
    if (tag !== undefined) {
      this.manifests.set(`${repository}:${tag}`, { bytes, mediaType });
      this.tags.set(repository, [...(this.tags.get(repository) ?? []), tag]);
    }
    return digest;
  }

  putBlobs(blobs: ReadonlyMap<string, Buffer>): void {
    for (const [digest, bytes] of blobs) this.blobs.set(digest, bytes);
  }

  private async handle(
    req: IncomingMessage,
    res: ServerResponse,
    recorded: RecordedRequest,
  ): Promise<void> {
    if (this.intercept && (await this.intercept(req, res, recorded))) return;
    const url = new URL(req.url ?? "/", "http://fake");
    const path = url.pathname;
    if (path === "/v2/" || path === "/v2") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
      return;
    }
    let match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
    if (match) return this.manifest(req, res, match[1] ?? "", match[2] ?? "");
    match = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(path);
    if (match) return this.blob(req, res, match[2] ?? "");
    match = /^\/v2\/(.+)\/tags\/list$/.exec(path);
    if (match) return this.tagList(res, match[1] ?? "", url);
    sendError(res, 404, "NAME_UNKNOWN", "no route");
  }

  private manifest(
    req: IncomingMessage,
    res: ServerResponse,
    repository: string,
    reference: string,
  ): void {
    const key = Digest.isValid(reference)
      ? `${repository}@${reference}`
      : `${repository}:${reference}`;
    const stored = this.manifests.get(key);
    if (!stored) return sendError(res, 404, "MANIFEST_UNKNOWN", "manifest unknown");
    res.writeHead(200, {
      "content-type": stored.mediaType,
      "content-length": stored.bytes.length,
      ...(this.sendDigestHeader
        ? { "docker-content-digest": Digest.of(stored.bytes).toString() }
        : {}),
    });
    res.end(req.method === "HEAD" ? undefined : stored.bytes);
  }

  private blob(req: IncomingMessage, res: ServerResponse, digest: string): void {
    const bytes = this.blobs.get(digest);
    if (!bytes) return sendError(res, 404, "BLOB_UNKNOWN", "blob unknown");
    const range = /^bytes=([0-9]+)-$/.exec(req.headers.range ?? "");
    if (range && this.honourRange) {
      const start = Number(range[1]);
      if (start >= bytes.length) {
        res.writeHead(416, { "content-range": `bytes */${bytes.length}` });
        res.end();
        return;
      }
      res.writeHead(206, {
        "content-type": "application/octet-stream",
        "content-length": bytes.length - start,
        "content-range": `bytes ${start}-${bytes.length - 1}/${bytes.length}`,
      });
      res.end(req.method === "HEAD" ? undefined : bytes.subarray(start));
      return;
    }
    res.writeHead(200, {
      "content-type": "application/octet-stream",
      "content-length": bytes.length,
      "docker-content-digest": digest,
    });
    res.end(req.method === "HEAD" ? undefined : bytes);
  }

  /** distribution-spec "Listing Tags": n and last, with a Link to the next page. */
  private tagList(res: ServerResponse, repository: string, url: URL): void {
    const all = [...(this.tags.get(repository) ?? [])].sort();
    if (!this.tags.has(repository))
      return sendError(res, 404, "NAME_UNKNOWN", "repository name not known");
    const last = url.searchParams.get("last");
    const n = Number(url.searchParams.get("n") ?? all.length);
    const rest = last === null ? all : all.filter((t) => t > last);
    const page = rest.slice(0, n);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (page.length < rest.length) {
      const next = `/v2/${repository}/tags/list?n=${n}&last=${encodeURIComponent(page.at(-1) ?? "")}`;
      headers.link = `<${next}>; rel="next"`;
    }
    res.writeHead(200, headers);
    res.end(JSON.stringify({ name: repository, tags: page }));
  }
}

/** A clock whose sleeps return at once and are recorded; `advance` moves time. */
export class FakeClock implements Clock {
  time = 1_700_000_000_000;
  readonly sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.time += ms;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

/** Fast retries for tests. */
export const FAST_RETRY = { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 } as const;
