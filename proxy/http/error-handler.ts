// The one place errors become HTTP responses: OCI error JSON
// (distribution-spec "Error Codes": {"errors":[{"code","message","detail"}]})
// with the status the RegistryError carries. Route handlers never build error
// responses themselves.
import type { Context } from "hono";
import { toRegistryError } from "./error-mapping.js";
import type { RegistryError } from "./registry-error.js";

/** The response body for one error. */
export function errorBody(error: RegistryError): string {
  return JSON.stringify({
    errors: [{ code: error.code, message: error.message, detail: error.detail ?? null }],
  });
}

/** hono's onError: renders any thrown value as an OCI error response. */
export function renderError(err: unknown, c: Context): Response {
  const error = toRegistryError(err);
  const body = c.req.method === "HEAD" ? null : errorBody(error);
  const headers = new Headers({ "Content-Type": "application/json; charset=utf-8" });
  for (const [name, value] of Object.entries(error.headers)) headers.set(name, value);
  if (body !== null) headers.set("Content-Length", String(Buffer.byteLength(body)));
  return new Response(body, { status: error.status, headers });
}
