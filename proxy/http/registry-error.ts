// The proxy's one error type: an OCI distribution-spec error code plus the
// HTTP status it is answered with. Services throw it (or a MegaliftError that
// error-mapping.ts translates); the central handler in error-handler.ts
// renders it as {"errors":[{"code","message","detail"}]}.
// distribution-spec "Error Codes"; UNAVAILABLE and UNKNOWN are the extra codes
// of CNCF distribution's registry/api/errcode package.

export type OciErrorCode =
  | "BLOB_UNKNOWN"
  | "DIGEST_INVALID"
  | "MANIFEST_INVALID"
  | "MANIFEST_UNKNOWN"
  | "NAME_INVALID"
  | "NAME_UNKNOWN"
  | "SIZE_INVALID"
  | "UNAUTHORIZED"
  | "DENIED"
  | "UNSUPPORTED"
  | "TOOMANYREQUESTS"
  | "UNAVAILABLE"
  | "UNKNOWN";

/** Statuses the proxy answers errors with. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 416 | 429 | 500 | 502 | 503;

export class RegistryError extends Error {
  override readonly name = "RegistryError";
  constructor(
    readonly status: ErrorStatus,
    readonly code: OciErrorCode,
    message: string,
    readonly options: {
      readonly detail?: unknown;
      readonly headers?: Readonly<Record<string, string>>;
      readonly cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause });
  }

  get detail(): unknown {
    return this.options.detail;
  }

  get headers(): Readonly<Record<string, string>> {
    return this.options.headers ?? {};
  }
}
