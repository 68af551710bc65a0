// Which failures of an HTTP exchange are worth another attempt: a connection
// that was refused, reset or timed out may work the next time; an aborted
// request, a TLS failure or a host that does not exist will not.
import { isMegaliftError } from "../errors.js";

const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  // undici's own: the socket closed or broke, a timeout, a body shorter than its length
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
]);

const RETRYABLE_MESSAGE = /socket hang up|other side closed|ECONNRESET|terminated/i;

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** True when `err` is an abort (the caller's signal), which must never be retried. */
export function isAbortError(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return (
    name === "AbortError" || errorCode(err) === "UND_ERR_ABORTED" || errorCode(err) === "ABORT_ERR"
  );
}

/** True when `err` is a connection-level failure another attempt may cure. */
export function isRetryableNetworkError(err: unknown): boolean {
  if (isMegaliftError(err) || isAbortError(err)) return false;
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    const code = errorCode(e);
    if (code !== undefined && RETRYABLE_CODES.has(code)) return true;
    if (e instanceof Error && RETRYABLE_MESSAGE.test(e.message)) return true;
    e = e instanceof Error ? e.cause : undefined;
  }
  return false;
}

/** A short, one-line description of a network error for messages. */
export function describeNetworkError(err: unknown): string {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  const line = message.split("\n")[0] ?? "";
  return code !== undefined && !line.includes(code) ? `${line} (${code})` : line;
}
