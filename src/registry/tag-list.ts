// One page of a tag list (distribution-spec "Listing Tags": {"name", "tags"}).
import { MegaliftError } from "../errors.js";

/** The name and tags of one page; distribution answers "tags": null for a repository without tags. */
export function parseTagPage(bytes: Uint8Array, what: string): { name?: string; tags: string[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    throw new MegaliftError("UPSTREAM_UNAVAILABLE", `${what}: the tag list is not JSON`, {
      cause: err,
    });
  }
  const fields = (typeof doc === "object" && doc !== null ? doc : {}) as Record<string, unknown>;
  const tags = Array.isArray(fields.tags)
    ? fields.tags.filter((t): t is string => typeof t === "string")
    : [];
  return { ...(typeof fields.name === "string" ? { name: fields.name } : {}), tags };
}
