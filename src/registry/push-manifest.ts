// Manifest pushes (distribution-spec v1.1 "Pushing Manifests"): PUT
// /v2/<name>/manifests/<reference> with the manifest's exact bytes and its
// exact media type as Content-Type, since a manifest's digest is the digest
// of its bytes and the registry keeps the type it was told. The answer's
// Docker-Content-Digest must name the bytes we sent, and its OCI-Subject
// header says whether the registry keeps the referrers list itself
// ("Pushing Manifests with Subject").
import { MegaliftError } from "../errors.js";
import { Digest } from "../oci/digest.js";
import { MANIFEST_ACCEPT } from "../oci/media-types.js";
import { discardBody, headerValue } from "./dispatch.js";
import { pushScope, USER_AGENT } from "./push-dispatch.js";
import { pushResponseError } from "./push-errors.js";
import type { UploadContext } from "./upload.js";

export interface PushedManifest {
  readonly digest: Digest;
  /**
   * The OCI-Subject the registry answered with, for a manifest with a
   * `subject`: present when the registry supports the referrers API.
   */
  readonly subject?: Digest;
}

function manifestWhat(ctx: UploadContext, repository: string, reference: string): string {
  const separator = Digest.isValid(reference) ? "@" : ":";
  return `manifest ${ctx.registry}/${repository}${separator}${reference}`;
}

/** PUT the manifest `bytes` of type `mediaType` at `reference` (a tag, or its own digest). */
export async function pushManifest(
  ctx: UploadContext,
  repository: string,
  reference: string,
  mediaType: string,
  bytes: Uint8Array,
): Promise<PushedManifest> {
  const digest = Digest.of(bytes);
  const what = manifestWhat(ctx, repository, reference);
  if (Digest.isValid(reference) && !Digest.parse(reference).equals(digest)) {
    throw new MegaliftError(
      "DIGEST_MISMATCH",
      `${what}: the manifest's bytes hash to ${digest.toString()}`,
    );
  }
  const response = await ctx.dispatch({
    method: "PUT",
    url: new URL(`${ctx.baseUrl}/v2/${repository}/manifests/${reference}`),
    headers: {
      "user-agent": USER_AGENT,
      "content-type": mediaType,
      "content-length": String(bytes.length),
    },
    body: async () => bytes,
    scope: pushScope(repository),
    what,
    ...(ctx.signal !== undefined ? { signal: ctx.signal } : {}),
  });
  if (response.status < 200 || response.status >= 300) {
    throw await pushResponseError(response, "manifest", what, ctx.registry);
  }
  await discardBody(response);
  const stored = headerValue(response.headers, "docker-content-digest")?.trim();
  if (stored !== undefined && stored !== "" && stored !== digest.toString()) {
    // The registry rewrote or re-encoded the manifest: what we signed is not what it serves.
    throw new MegaliftError(
      "DIGEST_MISMATCH",
      `${what}: the registry stored the manifest as ${stored.slice(0, 100)}, not as the pushed ${digest.toString()}`,
    );
  }
  const subject = headerValue(response.headers, "oci-subject")?.trim();
  return {
    digest,
    ...(subject !== undefined && Digest.isValid(subject) ? { subject: Digest.parse(subject) } : {}),
  };
}

/** HEAD /v2/<name>/manifests/<digest>: true when the repository holds that manifest. */
export async function manifestExists(
  ctx: UploadContext,
  repository: string,
  digest: Digest,
): Promise<boolean> {
  const what = manifestWhat(ctx, repository, digest.toString());
  const response = await ctx.dispatch({
    method: "HEAD",
    url: new URL(`${ctx.baseUrl}/v2/${repository}/manifests/${digest.toString()}`),
    headers: { "user-agent": USER_AGENT, accept: MANIFEST_ACCEPT },
    scope: pushScope(repository),
    what,
    ...(ctx.signal !== undefined ? { signal: ctx.signal } : {}),
  });
  await discardBody(response);
  if (response.status === 200) return true;
  if (response.status === 404) return false;
  throw await pushResponseError(response, "manifest", what, ctx.registry);
}
