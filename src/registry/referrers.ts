// The referrers API (distribution-spec v1.1 "Listing Referrers"): GET
// /v2/<name>/referrers/<digest>[?artifactType=…] answers an image index
// listing the manifests whose `subject` is that digest, paged with Link
// headers. A registry that supports it never answers 404 to a valid digest;
// any other answer than 200 means it does not, and the client falls back to
// the referrers tag schema (`sha256-<hex>`), which is the caller's to read.
import { Agent } from "undici";
import { MegaliftError } from "../errors.js";
import type { Digest } from "../oci/digest.js";
import { MediaType } from "../oci/media-types.js";
import type { Descriptor } from "../oci/types.js";
import { pullScope } from "./auth.js";
import { discardBody, readBody } from "./dispatch.js";
import { dockerConfigCredentials } from "./docker-config.js";
import type { DockerReference } from "./docker-transport.js";
import { registryEndpoint } from "./endpoint.js";
import { nextLink } from "./link-header.js";
import { createPushDispatch, USER_AGENT, type PushDispatch } from "./push-dispatch.js";
import type { CredentialsProvider, RegistryEndpoint } from "./types.js";

const MAX_REFERRERS_PAGE_BYTES = 4 * 1024 * 1024;
const MAX_REFERRERS_PAGES = 100;

/** The descriptors of one referrers page; MANIFEST_INVALID if it is not an index. */
function parseReferrersPage(bytes: Uint8Array, what: string): Descriptor[] {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    throw new MegaliftError("MANIFEST_INVALID", `${what}: the answer is not JSON`, { cause: err });
  }
  const manifests = (doc as { manifests?: unknown } | null)?.manifests;
  if (!Array.isArray(manifests)) {
    throw new MegaliftError("MANIFEST_INVALID", `${what}: the answer is not an image index`);
  }
  return manifests.filter(
    (d): d is Descriptor =>
      typeof d === "object" &&
      d !== null &&
      typeof (d as { digest?: unknown }).digest === "string" &&
      typeof (d as { mediaType?: unknown }).mediaType === "string",
  );
}

/**
 * The referrers of `subject` in `repository`, filtered by `artifactType` when
 * given (the registry may ignore the filter: entries are filtered again
 * here); undefined when the registry has no referrers API.
 */
export async function listReferrers(
  dispatch: PushDispatch,
  endpoint: RegistryEndpoint,
  repository: string,
  subject: Digest,
  artifactType?: string,
): Promise<Descriptor[] | undefined> {
  const what = `referrers of ${endpoint.host}/${repository}@${subject.toString()}`;
  const base = endpoint.baseUrl.replace(/\/+$/, "");
  let url = new URL(`${base}/v2/${repository}/referrers/${subject.toString()}`);
  if (artifactType !== undefined) url.searchParams.set("artifactType", artifactType);
  const found: Descriptor[] = [];
  for (let page = 0; page < MAX_REFERRERS_PAGES; page++) {
    const response = await dispatch({
      method: "GET",
      url,
      headers: { "user-agent": USER_AGENT, accept: MediaType.OciIndex },
      scope: pullScope(repository),
      bufferBody: MAX_REFERRERS_PAGE_BYTES,
      what,
    });
    if (response.status !== 200) {
      await discardBody(response);
      if (page === 0) return undefined;
      throw new MegaliftError(
        "UPSTREAM_UNAVAILABLE",
        `${what}: page ${page + 1} answered ${response.status}`,
      );
    }
    const entries = parseReferrersPage(
      await readBody(response, MAX_REFERRERS_PAGE_BYTES, what),
      what,
    );
    found.push(
      ...entries.filter((d) => artifactType === undefined || d.artifactType === artifactType),
    );
    const next = nextLink(response.headers, response.url);
    if (!next) return found;
    // As for tag pages: never let a Link header carry our credentials elsewhere.
    if (next.origin !== url.origin) {
      throw new MegaliftError(
        "UPSTREAM_UNAVAILABLE",
        `${what}: the next page link points to another origin (${next.origin})`,
      );
    }
    url = next;
  }
  throw new MegaliftError(
    "UPSTREAM_UNAVAILABLE",
    `${what}: more than ${MAX_REFERRERS_PAGES} pages`,
  );
}

/**
 * listReferrers for docker://HOST/NAME as the docker transport reaches it
 * (endpoint.ts, docker config.json credentials), on a dispatcher of its own.
 */
export async function listReferrersOf(
  reference: DockerReference,
  subject: Digest,
  artifactType?: string,
  credentials: CredentialsProvider = dockerConfigCredentials(),
): Promise<Descriptor[] | undefined> {
  const endpoint = registryEndpoint(reference.registry);
  const dispatcher = new Agent();
  try {
    const dispatch = createPushDispatch({ endpoint, credentials, dispatcher });
    return await listReferrers(dispatch, endpoint, reference.repository, subject, artifactType);
  } finally {
    await dispatcher.close();
  }
}
