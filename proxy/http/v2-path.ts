// Splits a /v2/ request path into the endpoint it addresses and checks the
// name, tag and digest grammars (distribution-spec "Overview": names,
// "Pulling manifests": references). A repository name holds slashes, so the
// endpoint is found from the right: the last /manifests/, /blobs/, /tags/list
// or /referrers/ segment.
import { Digest } from "../../src/oci/digest.js";
import { RegistryError } from "./registry-error.js";

export type V2Endpoint =
  | { readonly kind: "base" }
  | { readonly kind: "manifest"; readonly name: string; readonly reference: string }
  | { readonly kind: "blob"; readonly name: string; readonly reference: string }
  | { readonly kind: "tags"; readonly name: string }
  | { readonly kind: "referrers"; readonly name: string; readonly reference: string }
  | { readonly kind: "upload"; readonly name: string };

/** A manifest reference: a tag or a digest. */
export type ManifestReference =
  | { readonly kind: "tag"; readonly tag: string }
  | { readonly kind: "digest"; readonly digest: Digest };

// distribution-spec: <name> is [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
const NAME_RE =
  /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
// distribution-spec: a tag is [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
// Clients limit host + "/" + name to 255 characters (distribution-spec "Overview").
const MAX_NAME_LENGTH = 255;

const ENDPOINT_RE = /^\/v2\/(.+)\/(manifests|blobs|referrers)\/([^/]+)$/;
const TAGS_RE = /^\/v2\/(.+)\/tags\/list$/;
const UPLOAD_RE = /^\/v2\/(.+)\/blobs\/uploads(?:\/.*)?$/;

/** The endpoint `path` addresses, or undefined when it is none of the pull API's. */
export function parseV2Path(path: string): V2Endpoint | undefined {
  if (path === "/v2" || path === "/v2/") return { kind: "base" };
  const upload = UPLOAD_RE.exec(path);
  if (upload?.[1] !== undefined) return { kind: "upload", name: upload[1] };
  const tags = TAGS_RE.exec(path);
  if (tags?.[1] !== undefined) return { kind: "tags", name: tags[1] };
  const match = ENDPOINT_RE.exec(path);
  if (!match) return undefined;
  const [, name = "", segment = "", reference = ""] = match;
  switch (segment) {
    case "manifests":
      return { kind: "manifest", name, reference };
    case "blobs":
      return { kind: "blob", name, reference };
    default:
      return { kind: "referrers", name, reference };
  }
}

/** Throws 400 NAME_INVALID unless `name` is a repository name. */
export function checkRepositoryName(name: string): void {
  if (name.length > MAX_NAME_LENGTH || !NAME_RE.test(name)) {
    throw new RegistryError(400, "NAME_INVALID", `invalid repository name "${name}"`, {
      detail: { name },
    });
  }
}

/** Throws 400 DIGEST_INVALID unless `text` is a digest megalift verifies. */
export function parseDigestParam(text: string): Digest {
  try {
    return Digest.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new RegistryError(400, "DIGEST_INVALID", message, {
      detail: { digest: text },
      cause: err,
    });
  }
}

/**
 * A manifest reference: a digest when it holds ':' (tags cannot), else a tag.
 * A malformed tag is 400 MANIFEST_INVALID — distribution answers bad tags
 * in manifest requests with the manifest error family (TAG_INVALID is a
 * push-only code and not in the distribution-spec table).
 */
export function parseManifestReference(reference: string): ManifestReference {
  if (reference.includes(":")) return { kind: "digest", digest: parseDigestParam(reference) };
  if (!TAG_RE.test(reference)) {
    throw new RegistryError(400, "MANIFEST_INVALID", `invalid tag "${reference}"`, {
      detail: { tag: reference },
    });
  }
  return { kind: "tag", tag: reference };
}
