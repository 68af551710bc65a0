// Blob uploads (distribution-spec v1.1 "Pushing blobs"): a HEAD first, so a
// blob the repository already holds is never sent again ("Checking if content
// exists in the registry"); optionally a cross-repository mount ("Mounting a
// blob from another repository"); otherwise a session opened with POST and
// the whole blob sent in one PUT ?digest= ("Pushing a blob monolithically",
// the POST-then-PUT form, which every registry implements).
import type { Readable } from "node:stream";
import { pipeline } from "node:stream";
import { MegaliftError } from "../errors.js";
import type { Digest } from "../oci/digest.js";
import { discardBody, headerValue, type UpstreamResponse } from "./dispatch.js";
import { pushScope, USER_AGENT, type PushDispatch, type PushRequest } from "./push-dispatch.js";
import { pushResponseError } from "./push-errors.js";

/** What uploads need to know about the registry they talk to. */
export interface UploadContext {
  readonly dispatch: PushDispatch;
  /** The registry's API origin, without /v2: "http://127.0.0.1:5000". */
  readonly baseUrl: string;
  /** The registry as image names spell it, for messages. */
  readonly registry: string;
  readonly signal?: AbortSignal;
}

/** The blob's stored bytes, opened afresh on every call (a request may be sent more than once). */
export type OpenBlobBytes = () => Promise<Uint8Array | Readable>;

export interface BlobToPush {
  readonly digest: Digest;
  readonly size: number;
  readonly open: OpenBlobBytes;
}

/** How a blob reached the repository. */
export type BlobPushOutcome = "present" | "mounted" | "uploaded";

function request(
  ctx: UploadContext,
  fields: Omit<PushRequest, "headers" | "scope" | "signal"> & {
    readonly repository: string;
    readonly headers?: PushRequest["headers"];
  },
): Promise<UpstreamResponse> {
  const { repository, headers, ...rest } = fields;
  return ctx.dispatch({
    ...rest,
    headers: { "user-agent": USER_AGENT, ...headers },
    scope: pushScope(repository),
    ...(ctx.signal !== undefined ? { signal: ctx.signal } : {}),
  });
}

function blobWhat(ctx: UploadContext, repository: string, digest: Digest): string {
  return `blob ${ctx.registry}/${repository}@${digest.toString()}`;
}

/** HEAD /v2/<name>/blobs/<digest>: true when the repository already holds the blob. */
export async function blobExists(
  ctx: UploadContext,
  repository: string,
  digest: Digest,
): Promise<boolean> {
  const what = blobWhat(ctx, repository, digest);
  const response = await request(ctx, {
    repository,
    method: "HEAD",
    url: new URL(`${ctx.baseUrl}/v2/${repository}/blobs/${digest.toString()}`),
    what,
  });
  await discardBody(response);
  if (response.status === 200) return true;
  if (response.status === 404) return false;
  throw await pushResponseError(response, "blob", what, ctx.registry);
}

/**
 * The upload session URL from a 202's Location. distribution-spec: it may be
 * relative to the request, and may carry query parameters the registry needs
 * back (distribution's `_state`), which are kept. Another origin is refused,
 * as the pull client refuses tag-page links to one: our credentials go only
 * to the registry we were asked to push to.
 */
export function uploadLocation(response: UpstreamResponse, what: string): URL {
  const location = headerValue(response.headers, "location");
  if (location === undefined || location.trim() === "") {
    throw new MegaliftError(
      "UPSTREAM_UNAVAILABLE",
      `${what}: the registry answered ${response.status} without a Location for the upload`,
    );
  }
  const url = new URL(location.trim(), response.url);
  if (url.origin !== response.url.origin) {
    throw new MegaliftError(
      "UPSTREAM_UNAVAILABLE",
      `${what}: the registry sent the upload to another origin (${url.origin}); megalift sends credentials only to ${response.url.origin}`,
    );
  }
  return url;
}

/** POST /v2/<name>/blobs/uploads/: opens an upload session (202 + Location). */
async function startUpload(ctx: UploadContext, repository: string, what: string): Promise<URL> {
  const response = await request(ctx, {
    repository,
    method: "POST",
    url: new URL(`${ctx.baseUrl}/v2/${repository}/blobs/uploads/`),
    headers: { "content-length": "0" },
    what,
  });
  if (response.status !== 202) {
    throw await pushResponseError(response, "blob", what, ctx.registry);
  }
  await discardBody(response);
  return uploadLocation(response, what);
}

/**
 * POST ?mount=<digest>&from=<repository>: 201 when the registry linked the
 * blob from the other repository, 202 (a plain upload session) when it would
 * not. Any refusal falls back to a plain upload: mounting only saves bytes.
 */
async function tryMount(
  ctx: UploadContext,
  repository: string,
  blob: BlobToPush,
  from: string,
  what: string,
): Promise<"mounted" | URL | undefined> {
  const url = new URL(`${ctx.baseUrl}/v2/${repository}/blobs/uploads/`);
  url.searchParams.set("mount", blob.digest.toString());
  url.searchParams.set("from", from);
  let response: UpstreamResponse;
  try {
    response = await request(ctx, {
      repository,
      method: "POST",
      url,
      headers: { "content-length": "0" },
      what,
    });
  } catch {
    return undefined;
  }
  await discardBody(response);
  if (response.status === 201) return "mounted";
  if (response.status === 202) return uploadLocation(response, what);
  return undefined;
}

/** The body of the PUT, checked against the digest as it streams: never send wrong bytes. */
async function verifiedBody(blob: BlobToPush, what: string): Promise<Uint8Array | Readable> {
  const bytes = await blob.open();
  if (bytes instanceof Uint8Array) {
    blob.digest.verifyBytes(bytes, what);
    return bytes;
  }
  // Errors end the request through the last stream; the callback has nothing to add.
  return pipeline(bytes, blob.digest.verifier(what, blob.size), () => undefined);
}

/**
 * Pushes one blob into `repository` unless it is there already: HEAD, then
 * (with `mountFrom`) a mount, then POST + monolithic PUT. On a 201 the
 * registry's Docker-Content-Digest, when sent, must name the same blob.
 */
export async function pushBlob(
  ctx: UploadContext,
  repository: string,
  blob: BlobToPush,
  options: { readonly mountFrom?: string } = {},
): Promise<BlobPushOutcome> {
  const what = blobWhat(ctx, repository, blob.digest);
  if (await blobExists(ctx, repository, blob.digest)) return "present";
  let session: URL | undefined;
  if (options.mountFrom !== undefined && options.mountFrom !== repository) {
    const mounted = await tryMount(ctx, repository, blob, options.mountFrom, what);
    if (mounted === "mounted") return "mounted";
    session = mounted;
  }
  session ??= await startUpload(ctx, repository, what);
  // distribution-spec "Pushing a blob monolithically": PUT <location>?digest=<digest>.
  const target = new URL(session);
  target.searchParams.append("digest", blob.digest.toString());
  const response = await request(ctx, {
    repository,
    method: "PUT",
    url: target,
    headers: {
      "content-type": "application/octet-stream",
      "content-length": String(blob.size),
    },
    body: () => verifiedBody(blob, what),
    what,
  });
  if (response.status !== 201 && response.status !== 204 && response.status !== 200) {
    throw await pushResponseError(response, "blob", what, ctx.registry);
  }
  await discardBody(response);
  const stored = headerValue(response.headers, "docker-content-digest")?.trim();
  if (stored !== undefined && stored !== "" && stored !== blob.digest.toString()) {
    throw new MegaliftError(
      "DIGEST_MISMATCH",
      `${what}: the registry stored the upload as ${stored.slice(0, 100)}`,
    );
  }
  return "uploaded";
}
