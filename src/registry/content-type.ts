// The media type of a manifest answer: the manifest's own mediaType field
// when it has one (that is what its digest covers), else the Content-Type the
// registry sent (distribution-spec "Pulling manifests"), else its shape.
import { MediaType } from "../oci/media-types.js";

/** Content-Types that say nothing about which manifest this is. */
const GENERIC_CONTENT_TYPES = new Set([
  "",
  "application/json",
  "text/plain",
  "application/octet-stream",
]);

/** True for a Content-Type that does not name a manifest media type. */
export function isGenericContentType(mediaType: string): boolean {
  return GENERIC_CONTENT_TYPES.has(mediaType);
}

/** The media type of a Content-Type header, without parameters, lower-cased. */
export function mediaTypeOnly(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/**
 * The manifest's media type: its own mediaType field (what the digest covers),
 * else a specific Content-Type, else guessed from its shape (an index lists
 * "manifests", image-index.md; anything else is taken for an image manifest).
 */
export function manifestMediaType(contentType: string | undefined, bytes: Uint8Array): string {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    doc = undefined;
  }
  const fields = (typeof doc === "object" && doc !== null ? doc : {}) as Record<string, unknown>;
  if (typeof fields.mediaType === "string" && fields.mediaType !== "") return fields.mediaType;
  const header = mediaTypeOnly(contentType);
  if (!isGenericContentType(header)) return header;
  return Array.isArray(fields.manifests) ? MediaType.OciIndex : MediaType.OciManifest;
}
