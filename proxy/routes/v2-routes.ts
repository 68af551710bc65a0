// The distribution-spec pull API as thin hono handlers: parse the request,
// call a service, set the headers the spec requires. Errors are thrown and
// rendered by the one handler in http/error-handler.ts.
//   end-1   GET /v2/                                  "Determining support"
//   end-2   GET|HEAD /v2/<name>/blobs/<digest>        "Pulling blobs" (+ Range)
//   end-3   GET|HEAD /v2/<name>/manifests/<reference> "Pulling manifests"
//   end-8a  GET /v2/<name>/tags/list                  "Listing Tags"
//   end-12a GET /v2/<name>/referrers/<digest>         "Listing Referrers"
// Push and delete endpoints answer 405 UNSUPPORTED.
import type { Context } from "hono";
import { parseAccept } from "../http/accept.js";
import { RegistryError } from "../http/registry-error.js";
import {
  parseDigestParam,
  parseManifestReference,
  parseV2Path,
  type V2Endpoint,
} from "../http/v2-path.js";
import type { RequestVariables } from "../observability/request-log.js";
import type { UpstreamRouter, RouteTarget } from "../routing/upstream-router.js";
import type { BlobService } from "../services/blob-service.js";
import type { ManifestService } from "../services/manifest-service.js";
import type { ReferrersService } from "../services/referrers-service.js";
import type { TagsService } from "../services/tags-service.js";
import type { TransformService } from "../transform/transform-service.js";

export interface V2Services {
  readonly router: UpstreamRouter;
  readonly manifests: ManifestService;
  readonly blobs: BlobService;
  readonly tags: TagsService;
  readonly referrers: ReferrersService;
  /** Transform on pull; absent when the proxy runs in passthrough mode only. */
  readonly transforms?: TransformService;
}

type V2Context = Context<{ Variables: RequestVariables }>;

const API_VERSION_HEADER = { "Docker-Distribution-API-Version": "registry/2.0" } as const;

/** The handler for every /v2/ request. */
export function v2Handler(services: V2Services): (c: V2Context) => Promise<Response> {
  return async (c) => {
    const endpoint = parseV2Path(c.req.path);
    if (!endpoint) {
      throw new RegistryError(404, "NAME_UNKNOWN", `no such endpoint: ${c.req.path}`, {
        detail: { path: c.req.path },
      });
    }
    c.set("route", endpoint.kind);
    const method = c.req.method;
    if (endpoint.kind === "upload" || (method !== "GET" && method !== "HEAD")) {
      throw new RegistryError(
        405,
        "UNSUPPORTED",
        `${method} ${c.req.path}: this registry is a read-only pull-through proxy`,
        {
          headers: { Allow: "GET, HEAD" },
          detail: { method },
        },
      );
    }
    return dispatch(services, c, endpoint);
  };
}

async function dispatch(
  services: V2Services,
  c: V2Context,
  endpoint: V2Endpoint,
): Promise<Response> {
  switch (endpoint.kind) {
    case "base":
      return respond(c, 200, { ...API_VERSION_HEADER, "Content-Type": "application/json" }, "{}");
    case "manifest":
      return manifest(services, c, endpoint.name, endpoint.reference);
    case "blob":
      return blob(services, c, endpoint.name, endpoint.reference);
    case "tags":
      return tagsList(services, c, endpoint.name);
    case "referrers":
      return referrers(services, c, endpoint.name, endpoint.reference);
    case "upload":
      throw new RegistryError(405, "UNSUPPORTED", "uploads are not supported");
  }
}

function target(services: V2Services, c: V2Context, name: string): RouteTarget {
  return services.router.resolve(name, c.req.query("ns"));
}

async function manifest(
  services: V2Services,
  c: V2Context,
  name: string,
  reference: string,
): Promise<Response> {
  const where = target(services, c, name);
  const ref = parseManifestReference(reference);
  const accept = parseAccept(c.req.header("Accept"));
  const answer = services.transforms
    ? await services.transforms.manifest(where, ref, accept, c.get("stats"))
    : { manifest: await services.manifests.get(where, ref, c.get("stats")) };
  const found = answer.manifest;
  // distribution answers 404 MANIFEST_UNKNOWN when the Accept set excludes the
  // manifest's type (it does not convert formats).
  if (!accept.accepts(found.mediaType)) {
    throw new RegistryError(
      404,
      "MANIFEST_UNKNOWN",
      `manifest ${reference} is ${found.mediaType}, which the request's Accept header excludes`,
      {
        detail: { mediaType: found.mediaType },
      },
    );
  }
  return respond(
    c,
    200,
    {
      ...answer.headers,
      ...API_VERSION_HEADER,
      "Content-Type": found.mediaType,
      "Content-Length": String(found.bytes.length),
      "Docker-Content-Digest": found.digest.toString(),
      ETag: `"${found.digest.toString()}"`,
    },
    found.bytes,
  );
}

async function blob(
  services: V2Services,
  c: V2Context,
  name: string,
  reference: string,
): Promise<Response> {
  const where = target(services, c, name);
  const digest = parseDigestParam(reference);
  const reply = await services.blobs.get(where, digest, {
    range: c.req.header("Range"),
    headOnly: c.req.method === "HEAD",
    stats: c.get("stats"),
  });
  const headers: Record<string, string> = {
    ...API_VERSION_HEADER,
    "Content-Type": "application/octet-stream",
    "Docker-Content-Digest": digest.toString(),
    "Accept-Ranges": "bytes",
    ETag: `"${digest.toString()}"`,
  };
  if (reply.range) {
    headers["Content-Range"] = `bytes ${reply.range.start}-${reply.range.end}/${reply.size}`;
    headers["Content-Length"] = String(reply.range.end - reply.range.start + 1);
  } else {
    headers["Content-Length"] = String(reply.size);
  }
  return respond(c, reply.range ? 206 : 200, headers, reply.body);
}

async function tagsList(services: V2Services, c: V2Context, name: string): Promise<Response> {
  const where = target(services, c, name);
  const nText = c.req.query("n");
  const n = nText !== undefined && /^[0-9]+$/.test(nText) ? Number(nText) : undefined;
  const last = c.req.query("last");
  const page = await services.tags.list(where, {
    ...(n !== undefined ? { n } : {}),
    ...(last !== undefined ? { last } : {}),
    stats: c.get("stats"),
  });
  const body = JSON.stringify({ name, tags: page.tags });
  const headers: Record<string, string> = {
    ...API_VERSION_HEADER,
    "Content-Type": "application/json",
    "Content-Length": String(Buffer.byteLength(body)),
  };
  if (page.nextLast !== undefined && n !== undefined) {
    const next = new URLSearchParams();
    const ns = c.req.query("ns");
    if (ns !== undefined) next.set("ns", ns);
    next.set("n", String(n));
    next.set("last", page.nextLast);
    headers["Link"] = `<${c.req.path}?${next.toString()}>; rel="next"`;
  }
  return respond(c, 200, headers, body);
}

async function referrers(
  services: V2Services,
  c: V2Context,
  name: string,
  reference: string,
): Promise<Response> {
  target(services, c, name);
  const subject = parseDigestParam(reference);
  const reply = await services.referrers.list(subject, c.req.query("artifactType"));
  const body = JSON.stringify(reply.index);
  const headers: Record<string, string> = {
    ...API_VERSION_HEADER,
    "Content-Type": reply.index.mediaType,
    "Content-Length": String(Buffer.byteLength(body)),
  };
  if (reply.filtersApplied.length > 0)
    headers["OCI-Filters-Applied"] = reply.filtersApplied.join(",");
  return respond(c, 200, headers, body);
}

/** A response with exact headers; HEAD gets the same headers and no body. */
function respond(
  c: V2Context,
  status: number,
  headers: Record<string, string>,
  body: string | Uint8Array | ReadableStream<Uint8Array> | null,
): Response {
  if (c.req.method === "HEAD") {
    if (body instanceof ReadableStream) void body.cancel();
    return new Response(null, { status, headers });
  }
  return new Response(body, { status, headers });
}
