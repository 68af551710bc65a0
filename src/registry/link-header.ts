// Finds the rel="next" target in Link headers (RFC 8288 §3), which
// distribution paginates tag lists with (distribution-spec "Listing Tags":
// `Link: <url>; rel="next"`).
import { headerValues, type ResponseHeaders } from "./dispatch.js";

const LINK_VALUE_RE = /<([^>]*)>((?:\s*;\s*[^;,]*(?:"[^"]*")?)*)/g;
const REL_RE = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i;

/** The URL of the next page, resolved against `base`, or undefined if there is none. */
export function nextLink(headers: ResponseHeaders, base: URL): URL | undefined {
  for (const value of headerValues(headers, "link")) {
    for (const match of value.matchAll(LINK_VALUE_RE)) {
      const rel = REL_RE.exec(match[2] ?? "");
      // RFC 8288 §3.3: rel may hold several space-separated relation types.
      const types = (rel?.[1] ?? rel?.[2] ?? "").toLowerCase().split(/\s+/);
      if (types.includes("next")) {
        try {
          return new URL(match[1] ?? "", base);
        } catch {
          return undefined;
        }
      }
    }
  }
  return undefined;
}
