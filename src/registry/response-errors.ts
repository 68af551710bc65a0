// Turns a registry's error answer into a MegaliftError: the status decides,
// refined by the OCI error JSON the registry sends (distribution-spec "Error
// Codes": {"errors":[{"code","message","detail"}]}), so a 404 becomes
// MANIFEST_UNKNOWN, BLOB_UNKNOWN or NAME_UNKNOWN as the registry says.
import { MegaliftError, type ErrorCode } from "../errors.js";
import { readErrorBody, type UpstreamResponse } from "./dispatch.js";

/** What a request was for, which decides the code of a bare 404. */
export type ResourceKind = "ping" | "manifest" | "blob" | "tags";

const NOT_FOUND: Record<ResourceKind, ErrorCode> = {
  ping: "NAME_UNKNOWN",
  manifest: "MANIFEST_UNKNOWN",
  blob: "BLOB_UNKNOWN",
  tags: "NAME_UNKNOWN",
};

const NOT_FOUND_CODES = new Set<ErrorCode>(["MANIFEST_UNKNOWN", "BLOB_UNKNOWN", "NAME_UNKNOWN"]);

// distribution-spec error codes that megalift's ErrorCode also has, for other 4xx answers.
const SPEC_CODES = new Set<ErrorCode>([
  "BLOB_UNKNOWN",
  "DIGEST_INVALID",
  "MANIFEST_INVALID",
  "MANIFEST_UNKNOWN",
  "NAME_INVALID",
  "NAME_UNKNOWN",
  "TAG_INVALID",
  "UNAUTHORIZED",
  "DENIED",
  "UNSUPPORTED",
  "TOO_MANY_REQUESTS",
]);

interface RegistryErrorEntry {
  readonly code: string;
  readonly message?: string;
}

/** errors[0] of an OCI error JSON body, if the body is one. */
export function parseErrorJson(text: string): RegistryErrorEntry | undefined {
  try {
    const doc = JSON.parse(text) as { errors?: unknown };
    const first = Array.isArray(doc.errors) ? (doc.errors[0] as unknown) : undefined;
    if (typeof first !== "object" || first === null) return undefined;
    const { code, message } = first as { code?: unknown; message?: unknown };
    if (typeof code !== "string") return undefined;
    return { code, ...(typeof message === "string" ? { message } : {}) };
  } catch {
    return undefined;
  }
}

function isErrorCode(code: string, allowed: ReadonlySet<ErrorCode>): code is ErrorCode {
  return (allowed as ReadonlySet<string>).has(code);
}

/** The MegaliftError for a non-2xx answer (the body is consumed). */
export async function responseError(
  response: UpstreamResponse,
  kind: ResourceKind,
  what: string,
  registry: string,
): Promise<MegaliftError> {
  const entry = parseErrorJson(await readErrorBody(response));
  const said = entry ? ` (${entry.code}${entry.message ? `: ${oneLine(entry.message)}` : ""})` : "";
  const status = response.status;
  if (status === 404) {
    const code = entry && isErrorCode(entry.code, NOT_FOUND_CODES) ? entry.code : NOT_FOUND[kind];
    return new MegaliftError(code, `${what}: not found on registry ${registry}${said}`);
  }
  if (status === 401) {
    return new MegaliftError(
      "UNAUTHORIZED",
      `${what}: registry ${registry} wants credentials${said}`,
    );
  }
  if (status === 403) {
    return new MegaliftError("DENIED", `${what}: registry ${registry} denied access${said}`);
  }
  if (status === 416) {
    return new MegaliftError(
      "RANGE_NOT_SATISFIABLE",
      `${what}: registry ${registry} cannot serve the requested range${said}`,
    );
  }
  if (status >= 400 && status < 500 && entry && isErrorCode(entry.code, SPEC_CODES)) {
    return new MegaliftError(entry.code, `${what}: registry ${registry} answered ${status}${said}`);
  }
  return new MegaliftError(
    "UPSTREAM_UNAVAILABLE",
    `${what}: registry ${registry} answered an unexpected HTTP ${status}${said}`,
  );
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, 200);
}
