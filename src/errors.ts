// One error type for the whole toolchain: a code from a closed union, a
// one-line human message, and the cause kept for debugging. The CLI prints
// `megalift: <message>` and exits non-zero; it never prints a stack trace
// for a MegaliftError.

export type ErrorCode =
  /** A digest string that does not parse (algorithm:hex). */
  | "DIGEST_INVALID"
  /** Content whose bytes do not hash to the digest that names them. */
  | "DIGEST_MISMATCH"
  /** A layer that is truncated, not a tar, or badly compressed. */
  | "LAYER_CORRUPT"
  /** A tar entry or symlink that would leave the root filesystem. */
  | "PATH_ESCAPE"
  /** A media type megalift does not understand. */
  | "MEDIA_TYPE_UNKNOWN"
  /** A manifest, index or config that fails its JSON Schema or does not parse. */
  | "MANIFEST_INVALID"
  /** A tag or digest that the source does not hold. */
  | "MANIFEST_UNKNOWN"
  /** A blob that the source does not hold. */
  | "BLOB_UNKNOWN"
  /** A source or destination reference that does not parse (transport:details). */
  | "REFERENCE_INVALID"
  /** An ELF file whose headers are malformed or truncated. */
  | "ELF_MALFORMED"
  /** A file or directory that could not be read or written. */
  | "IO"
  /** A command-line usage error. */
  | "USAGE"
  /** A repository name that does not match the distribution-spec grammar. */
  | "NAME_INVALID"
  /** A repository the registry does not know. */
  | "NAME_UNKNOWN"
  /** A tag that does not match the distribution-spec grammar. */
  | "TAG_INVALID"
  /** The registry wants credentials we do not have, or rejected them. */
  | "UNAUTHORIZED"
  /** The registry refused access with valid credentials. */
  | "DENIED"
  /** The registry asked us to slow down and we gave up waiting. */
  | "TOO_MANY_REQUESTS"
  /** The upstream registry could not be reached or kept failing. */
  | "UPSTREAM_UNAVAILABLE"
  /** An operation megalift deliberately does not offer (push, delete). */
  | "UNSUPPORTED"
  /** A configuration file or option that is invalid. */
  | "CONFIG_INVALID"
  /** A byte range that starts at or past the end of the blob (HTTP 416). */
  | "RANGE_NOT_SATISFIABLE"
  /** A mapping.json that fails its schema or its consistency rules. */
  | "MAPPING_INVALID"
  /** A signing or verification key that is unreadable or of an unsupported kind. */
  | "KEY_INVALID"
  /** No signature (referrer or cosign .sig tag) was found for an image. */
  | "SIGNATURE_MISSING"
  /** A signature that does not verify: bad signature, other key, malformed bundle. */
  | "SIGNATURE_INVALID"
  /** Signed content (manifest, megabinary, mapping) that differs from what was signed. */
  | "SIGNED_CONTENT_MISMATCH"
  /** A wasm module that is malformed or does not validate. */
  | "WASM_INVALID"
  /** Linking lifted modules into the megabinary failed (wasm-merge). */
  | "LINK_FAILED";

export class MegaliftError extends Error {
  override readonly name = "MegaliftError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `err` is a MegaliftError, optionally with the given code. */
export function isMegaliftError(err: unknown, code?: ErrorCode): err is MegaliftError {
  return err instanceof MegaliftError && (code === undefined || err.code === code);
}
