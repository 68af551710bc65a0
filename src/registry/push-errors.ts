// Turns a registry's refusal of a push into a MegaliftError. The codes a
// push can earn (distribution-spec "Error Codes": BLOB_UPLOAD_INVALID,
// BLOB_UPLOAD_UNKNOWN, MANIFEST_BLOB_UNKNOWN, SIZE_INVALID, …) are named in
// the message as the registry sent them and mapped onto megalift's closed
// ErrorCode union; everything else is answered as a pull error would be
// (response-errors.ts), with a hint when the refusal is about push access.
import { Readable } from "node:stream";
import { MegaliftError, type ErrorCode } from "../errors.js";
import { readErrorBody, type UpstreamResponse } from "./dispatch.js";
import { parseErrorJson, responseError, type ResourceKind } from "./response-errors.js";

/** distribution-spec push error codes that megalift's ErrorCode lacks, and what they mean to us. */
const PUSH_CODES: Readonly<Record<string, { code: ErrorCode; meaning: string }>> = {
  MANIFEST_BLOB_UNKNOWN: {
    code: "BLOB_UNKNOWN",
    meaning: "the manifest names a blob the registry does not hold",
  },
  MANIFEST_UNVERIFIED: { code: "MANIFEST_INVALID", meaning: "the manifest failed verification" },
  BLOB_UPLOAD_INVALID: { code: "UPSTREAM_UNAVAILABLE", meaning: "the blob upload was refused" },
  BLOB_UPLOAD_UNKNOWN: {
    code: "UPSTREAM_UNAVAILABLE",
    meaning: "the registry forgot the upload session",
  },
  SIZE_INVALID: {
    code: "DIGEST_INVALID",
    meaning: "the registry received a different number of bytes than declared",
  },
};

/** The MegaliftError for a refused push request (the body is consumed). */
export async function pushResponseError(
  response: UpstreamResponse,
  kind: ResourceKind,
  what: string,
  registry: string,
): Promise<MegaliftError> {
  const text = await readErrorBody(response);
  const entry = parseErrorJson(text);
  const said = entry ? ` (${entry.code}${entry.message ? `: ${oneLine(entry.message)}` : ""})` : "";
  const known = entry ? PUSH_CODES[entry.code] : undefined;
  if (known) {
    return new MegaliftError(
      known.code,
      `${what}: registry ${registry} answered ${response.status}: ${known.meaning}${said}`,
    );
  }
  if (response.status === 405) {
    // distribution-spec: a registry that does not take pushes answers 405 UNSUPPORTED.
    return new MegaliftError(
      "UNSUPPORTED",
      `${what}: registry ${registry} does not accept pushes${said}`,
    );
  }
  if (response.status === 413) {
    return new MegaliftError(
      "MANIFEST_INVALID",
      `${what}: registry ${registry} says it is too large${said}`,
    );
  }
  // Hand the already read body to the pull mapping (401, 403, 404, spec codes, the rest).
  const error = await responseError({ ...response, body: bodyOf(text) }, kind, what, registry);
  if (error.code === "UNAUTHORIZED" || error.code === "DENIED") {
    return new MegaliftError(
      error.code,
      `${error.message}; pushing needs credentials with push access (docker login ${registry})`,
      { cause: error },
    );
  }
  return error;
}

function bodyOf(text: string): UpstreamResponse["body"] {
  // responseError reads the body again; give it the text already read.
  return Readable.from([Buffer.from(text)]);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, 200);
}
