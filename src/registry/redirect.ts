// The redirect layer: registries often answer a blob GET with 307 to object
// storage (distribution-spec "Pulling blobs": "a registry MAY redirect").
// Redirects are followed for GET and HEAD; the Authorization header is only
// ever sent to the origin it was meant for, never to the storage host.
import { MegaliftError } from "../errors.js";
import {
  discardBody,
  headerValue,
  type DispatchLayer,
  type HttpHeaders,
  type UpstreamRequest,
} from "./dispatch.js";

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
export const MAX_REDIRECTS = 10;

export function redirectLayer(maxRedirects = MAX_REDIRECTS): DispatchLayer {
  return (next) => async (first) => {
    let req: UpstreamRequest = first;
    for (let hop = 0; ; hop++) {
      const response = await next(req);
      if (!REDIRECT_STATUSES.has(response.status)) return response;
      const location = headerValue(response.headers, "location");
      await discardBody(response);
      if (location === undefined) {
        throw new MegaliftError(
          "UPSTREAM_UNAVAILABLE",
          `${first.what}: ${req.url.host} answered ${response.status} without a Location`,
        );
      }
      if (hop >= maxRedirects) {
        throw new MegaliftError(
          "UPSTREAM_UNAVAILABLE",
          `${first.what}: more than ${maxRedirects} redirects, last to ${location}`,
        );
      }
      // RFC 9110 §10.2.2: Location may be relative to the URL that answered.
      const target = new URL(location, req.url);
      const headers =
        target.origin === first.url.origin ? first.headers : withoutAuthorization(first.headers);
      // RFC 9110 §15.4.4: 303 means GET; we only send GET and HEAD anyway.
      req = { ...req, url: target, headers };
    }
  };
}

function withoutAuthorization(headers: HttpHeaders): HttpHeaders {
  const rest: Record<string, string | readonly string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name !== "authorization") rest[name] = value;
  }
  return rest;
}
