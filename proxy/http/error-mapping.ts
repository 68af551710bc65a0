// Translates errors from the rest of megalift (MegaliftError codes, mostly
// from the upstream client) into the RegistryError the client is answered
// with. Upstream content that fails its digest becomes DIGEST_INVALID with
// 502: the client asked for nothing wrong, the upstream sent wrong bytes.
import { isMegaliftError, type ErrorCode } from "../../src/errors.js";
import { RegistryError, type ErrorStatus, type OciErrorCode } from "./registry-error.js";

const MAPPING: Partial<Record<ErrorCode, readonly [ErrorStatus, OciErrorCode]>> = {
  DIGEST_INVALID: [400, "DIGEST_INVALID"],
  DIGEST_MISMATCH: [502, "DIGEST_INVALID"],
  MANIFEST_INVALID: [502, "MANIFEST_INVALID"],
  MEDIA_TYPE_UNKNOWN: [502, "MANIFEST_INVALID"],
  MANIFEST_UNKNOWN: [404, "MANIFEST_UNKNOWN"],
  BLOB_UNKNOWN: [404, "BLOB_UNKNOWN"],
  NAME_INVALID: [400, "NAME_INVALID"],
  NAME_UNKNOWN: [404, "NAME_UNKNOWN"],
  TAG_INVALID: [400, "MANIFEST_INVALID"],
  UNAUTHORIZED: [401, "UNAUTHORIZED"],
  DENIED: [403, "DENIED"],
  TOO_MANY_REQUESTS: [429, "TOOMANYREQUESTS"],
  UPSTREAM_UNAVAILABLE: [503, "UNAVAILABLE"],
  UNSUPPORTED: [405, "UNSUPPORTED"],
  RANGE_NOT_SATISFIABLE: [416, "SIZE_INVALID"],
};

/** The RegistryError to answer `err` with; unknown errors become 500 UNKNOWN. */
export function toRegistryError(err: unknown): RegistryError {
  if (err instanceof RegistryError) return err;
  if (isMegaliftError(err)) {
    const mapped = MAPPING[err.code];
    if (mapped) return new RegistryError(mapped[0], mapped[1], err.message, { cause: err });
    return new RegistryError(500, "UNKNOWN", err.message, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new RegistryError(500, "UNKNOWN", `internal error: ${message}`, { cause: err });
}

/**
 * True when `err` means the upstream could not answer (down, unreachable,
 * rate limited) rather than answering "no": the cache may then serve what
 * it holds. A definite upstream answer (404, 401, bad digest) is passed on.
 */
export function isUpstreamUnavailable(err: unknown): boolean {
  if (isMegaliftError(err)) {
    return err.code === "UPSTREAM_UNAVAILABLE" || err.code === "TOO_MANY_REQUESTS";
  }
  // Network errors that escaped the client (ECONNREFUSED, socket resets, aborts).
  return !(err instanceof RegistryError);
}
