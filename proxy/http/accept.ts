// The manifest media types a client accepts, as a set: the union of every
// Accept header line and every comma-separated entry, in any order
// (RFC 9110 §12.5.1; distribution-spec "Pulling manifests": clients send
// the types they understand and registries answer only with one of them).

export interface AcceptSet {
  /** True when a manifest of `mediaType` may be returned to this client. */
  accepts(mediaType: string): boolean;
}

const ACCEPT_ALL: AcceptSet = { accepts: () => true };

/**
 * Parses the (already combined) Accept header value. An absent or empty
 * header accepts everything, as do the wildcards; parameters are dropped
 * except q=0, which excludes the type.
 */
export function parseAccept(header: string | null | undefined): AcceptSet {
  if (header === null || header === undefined || header.trim() === "") return ACCEPT_ALL;
  const types = new Set<string>();
  for (const entry of header.split(",")) {
    const [type = "", ...params] = entry.split(";").map((part) => part.trim());
    if (type === "") continue;
    const excluded = params.some((p) => /^q\s*=\s*0(?:\.0*)?$/i.test(p));
    if (!excluded) types.add(type.toLowerCase());
  }
  if (types.size === 0) return ACCEPT_ALL;
  if (types.has("*/*")) return ACCEPT_ALL;
  return {
    accepts(mediaType) {
      const wanted = mediaType.toLowerCase();
      const slash = wanted.indexOf("/");
      return types.has(wanted) || (slash > 0 && types.has(`${wanted.slice(0, slash)}/*`));
    },
  };
}
