// The push side of the fake registry (fake-registry.ts serves pulls): upload
// sessions (POST, then PUT ?digest= at the Location it gave, relative or
// absolute, with a `_state` query parameter that must come back, as
// distribution does), cross-repository mounts, manifest PUTs that record the
// Content-Type and answer OCI-Subject when the referrers API is switched on,
// and GET /v2/<name>/referrers/<digest>.
import type { IncomingMessage, ServerResponse } from "node:http";
import { Digest } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/media-types.js";
import { FakeRegistry, sendError, type Intercept, type RecordedRequest } from "./fake-registry.js";

export interface PushFakeOptions {
  /** How upload Locations are written. */
  location?: "relative" | "absolute";
  /** Answer manifests with `subject` with OCI-Subject, and serve the referrers API. */
  referrersApi?: boolean;
  /** Link a blob on POST ?mount=&from= when the registry holds it. */
  mount?: boolean;
}

/** A FakeRegistry with the push routes in front of its pull router. */
export class PushFakeRegistry {
  readonly options: PushFakeOptions = { location: "relative" };
  /** "repo@digest" of blobs linked into a repository (HEAD answers per repository). */
  readonly linked = new Set<string>();
  /** Content-Type of each manifest PUT, by "repo:reference". */
  readonly putTypes = new Map<string, string>();
  /** References of manifest PUTs, in order. */
  readonly manifestPuts: string[] = [];
  /** Answers a request before the push router when it returns true (failures, auth). */
  hook: Intercept | undefined;
  private readonly sessions = new Map<string, { repository: string; state: string }>();
  private nextSession = 1;

  private constructor(readonly registry: FakeRegistry) {
    registry.intercept = async (req, res, recorded) =>
      (this.hook !== undefined && (await this.hook(req, res, recorded))) || this.route(req, res);
  }

  static async start(options: PushFakeOptions = {}): Promise<PushFakeRegistry> {
    const pushed = new PushFakeRegistry(await FakeRegistry.start());
    Object.assign(pushed.options, options);
    return pushed;
  }

  get host(): string {
    return this.registry.host;
  }

  get requests(): RecordedRequest[] {
    return this.registry.requests;
  }

  get manifests(): FakeRegistry["manifests"] {
    return this.registry.manifests;
  }

  get blobs(): FakeRegistry["blobs"] {
    return this.registry.blobs;
  }

  close(): Promise<void> {
    return this.registry.close();
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? "/", `http://${this.host}`);
    const path = url.pathname;
    let m = /^\/v2\/(.+)\/blobs\/uploads\/$/.exec(path);
    if (m && req.method === "POST") {
      this.startUpload(res, m[1] ?? "", url);
      return true;
    }
    m = /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/.exec(path);
    if (m && req.method === "PUT") {
      await this.finishUpload(req, res, m[2] ?? "", url);
      return true;
    }
    m = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(path);
    if (m && req.method === "HEAD" && !this.linked.has(`${m[1]}@${m[2]}`)) {
      sendError(res, 404, "BLOB_UNKNOWN");
      return true;
    }
    m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
    if (m && req.method === "PUT") {
      await this.putManifestRequest(req, res, m[1] ?? "", m[2] ?? "");
      return true;
    }
    m = /^\/v2\/(.+)\/referrers\/([^/]+)$/.exec(path);
    if (m && req.method === "GET") {
      this.referrers(res, m[1] ?? "", m[2] ?? "");
      return true;
    }
    return false;
  }

  private startUpload(res: ServerResponse, repository: string, url: URL): void {
    const mount = url.searchParams.get("mount");
    const from = url.searchParams.get("from");
    if (this.options.mount && mount && from && this.linked.has(`${from}@${mount}`)) {
      this.linked.add(`${repository}@${mount}`);
      res.writeHead(201, {
        location: `/v2/${repository}/blobs/${mount}`,
        "docker-content-digest": mount,
      });
      res.end();
      return;
    }
    const id = `session-${this.nextSession++}`;
    const state = `state-${id}`;
    this.sessions.set(id, { repository, state });
    const path = `/v2/${repository}/blobs/uploads/${id}?_state=${state}`;
    const location = this.options.location === "absolute" ? `http://${this.host}${path}` : path;
    res.writeHead(202, { location, "docker-upload-uuid": id, "content-length": "0" });
    res.end();
  }

  private async finishUpload(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    url: URL,
  ): Promise<void> {
    const session = this.sessions.get(id);
    const body = await readRequest(req);
    if (!session || url.searchParams.get("_state") !== session.state) {
      return sendError(res, 404, "BLOB_UPLOAD_UNKNOWN", "upload unknown or _state lost");
    }
    const digest = url.searchParams.get("digest") ?? "";
    if (!Digest.isValid(digest) || !Digest.of(body).equals(Digest.parse(digest))) {
      return sendError(
        res,
        400,
        "DIGEST_INVALID",
        "provided digest did not match uploaded content",
      );
    }
    this.sessions.delete(id);
    this.blobs.set(digest, body);
    this.linked.add(`${session.repository}@${digest}`);
    res.writeHead(201, {
      location: `/v2/${session.repository}/blobs/${digest}`,
      "docker-content-digest": digest,
    });
    res.end();
  }

  private async putManifestRequest(
    req: IncomingMessage,
    res: ServerResponse,
    repository: string,
    reference: string,
  ): Promise<void> {
    const body = await readRequest(req);
    const mediaType = req.headers["content-type"] ?? "";
    this.putTypes.set(`${repository}:${reference}`, mediaType);
    this.manifestPuts.push(reference);
    const doc = JSON.parse(body.toString("utf8")) as {
      config?: { digest: string };
      layers?: { digest: string }[];
      manifests?: { digest: string }[];
      subject?: { digest: string };
    };
    const blobs = [doc.config?.digest, ...(doc.layers ?? []).map((l) => l.digest)].filter(
      (d): d is string => d !== undefined,
    );
    const missingBlob = blobs.find((d) => !this.linked.has(`${repository}@${d}`));
    if (missingBlob)
      return sendError(res, 400, "MANIFEST_BLOB_UNKNOWN", `blob unknown: ${missingBlob}`);
    const missingChild = (doc.manifests ?? []).find(
      (c) => !this.manifests.has(`${repository}@${c.digest}`),
    );
    if (missingChild) return sendError(res, 400, "MANIFEST_BLOB_UNKNOWN", "child manifest unknown");
    const digest = this.registry.putManifest(
      repository,
      body,
      mediaType,
      Digest.isValid(reference) ? undefined : reference,
    );
    res.writeHead(201, {
      location: `/v2/${repository}/manifests/${digest.toString()}`,
      "docker-content-digest": digest.toString(),
      ...(doc.subject && this.options.referrersApi ? { "oci-subject": doc.subject.digest } : {}),
    });
    res.end();
  }

  private referrers(res: ServerResponse, repository: string, subject: string): void {
    if (!this.options.referrersApi) return sendError(res, 404, "NAME_UNKNOWN", "no route");
    const manifests = [...this.manifests.entries()]
      .filter(([key]) => key.startsWith(`${repository}@`))
      .flatMap(([key, stored]) => {
        const doc = JSON.parse(stored.bytes.toString("utf8")) as {
          artifactType?: string;
          subject?: { digest: string };
          annotations?: Record<string, string>;
        };
        if (doc.subject?.digest !== subject) return [];
        return [
          {
            mediaType: stored.mediaType,
            digest: key.slice(repository.length + 1),
            size: stored.bytes.length,
            ...(doc.artifactType ? { artifactType: doc.artifactType } : {}),
            ...(doc.annotations ? { annotations: doc.annotations } : {}),
          },
        ];
      });
    const body = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests });
    res.writeHead(200, { "content-type": MediaType.OciIndex });
    res.end(body);
  }
}

export async function readRequest(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
