// What the proxy says about a transform: the status entries of
// GET /megalift/v1/transforms, and the 503 answers a pull gets while one runs
// or after one failed (registry error JSON with Retry-After; the status entry
// is the error's detail, so a client's log shows the stage or the reason).
import type { TransformProgress } from "../../src/pipeline/transform.js";
import { RegistryError } from "../http/registry-error.js";
import type { TransformFailure } from "./transform-runner.js";
import type { StoredTransform } from "./transform-store.js";

/** How soon a client told "still running" should ask again. */
export const RETRY_RUNNING_SECONDS = 10;

/** One entry of GET /megalift/v1/transforms. */
export interface TransformStatus {
  readonly sourceDigest: string;
  readonly repository: string;
  readonly toolchainVersion: string;
  readonly state: "queued" | "running" | "done" | "failed";
  /** "fetch" (source into a layout), then transformImage's stages. */
  readonly stage?: string;
  readonly done?: number;
  readonly total?: number;
  readonly detail?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly indexDigest?: string;
  readonly manifestDigest?: string;
  readonly error?: { readonly code: string; readonly message: string };
  /** After a failure: when the next pull may try again. */
  readonly retryAt?: string;
}

/** A failed transform and when it may be tried again (ms since the epoch). */
export interface FailedTransform {
  readonly error: TransformFailure;
  readonly retryAt: number;
}

/** The status fields transformImage's progress sets. */
export function progressFields(p: TransformProgress): Partial<TransformStatus> {
  return {
    stage: p.stage,
    ...(p.done !== undefined ? { done: p.done } : {}),
    ...(p.total !== undefined ? { total: p.total } : {}),
    ...(p.detail !== undefined ? { detail: p.detail } : {}),
  };
}

/** The status of a transform in the store. */
export function doneStatus(stored: StoredTransform): TransformStatus {
  const r = stored.record;
  return {
    sourceDigest: r.sourceDigest,
    repository: r.repository,
    toolchainVersion: r.toolchainVersion,
    state: "done",
    finishedAt: r.finishedAt,
    indexDigest: r.indexDigest,
    manifestDigest: r.manifestDigest,
  };
}

function subject(status: TransformStatus | undefined): string {
  return `${status?.repository ?? "the image"}@${status?.sourceDigest ?? "?"}`;
}

/** 503 for a pull that waited as long as it may while the transform runs. */
export function runningError(status: TransformStatus | undefined): RegistryError {
  const progress = status?.total !== undefined ? ` ${status.done ?? 0}/${status.total}` : "";
  const where =
    status?.stage !== undefined ? ` (${status.state}, stage ${status.stage}${progress})` : "";
  return new RegistryError(
    503,
    "UNAVAILABLE",
    `the megabinary image of ${subject(status)} is being made${where}; retry in ${RETRY_RUNNING_SECONDS} s`,
    {
      headers: { "Retry-After": String(RETRY_RUNNING_SECONDS) },
      detail: { transform: status ?? null },
    },
  );
}

/** 503 for a pull of an image whose transform failed less than retryFailedAfterSeconds ago. */
export function failedError(
  status: TransformStatus | undefined,
  failure: FailedTransform,
  now: number,
): RegistryError {
  const seconds = Math.max(1, Math.ceil((failure.retryAt - now) / 1000));
  return new RegistryError(
    503,
    "UNAVAILABLE",
    `the transform of ${subject(status)} failed (${failure.error.code}: ${failure.error.message}); it is tried again after ${seconds} s`,
    { headers: { "Retry-After": String(seconds) }, detail: { transform: status ?? null } },
  );
}
