// The messages between the lift pool (lift-pool.ts) and its workers
// (lift-worker.ts). Everything here crosses threads by structured clone:
// plain data, and errors reduced to their code and message.
import { MegaliftError, type ErrorCode } from "../errors.js";
import type { CachedLift } from "./lift-cache.js";
import type { ShardLayout } from "./lift-shard-layout.js";
import type { ShardWork } from "./lift-shard-plan.js";
import type { ShardOutline } from "./lift-shard.js";

export interface LiftJob {
  readonly kind: "elf";
  readonly id: number;
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly optimize?: number | undefined;
  readonly cacheDir?: string | undefined;
}

export interface ShardJob {
  readonly kind: "shard";
  readonly id: number;
  readonly name: string;
  /** The ELF, for the worker to decode the shard's blocks again. */
  readonly bytes: Uint8Array;
  readonly work: ShardWork;
  readonly optimize: number;
}

/** The answer to a shard's outline: the final module's layout and its trap offset. */
export interface ShardLayoutMessage {
  readonly kind: "layout";
  readonly id: number;
  readonly layout: ShardLayout;
  readonly trapOffset: number;
}

/** Another shard of the same ELF failed: stop waiting. */
export interface ShardAbort {
  readonly kind: "abort";
  readonly id: number;
}

/** Load the lifter now: a sharded lift is coming once this thread has planned it. */
export interface WarmUp {
  readonly kind: "warm";
}

export type ToWorker = LiftJob | ShardJob | ShardLayoutMessage | ShardAbort | WarmUp;

export interface Failure {
  readonly ok: false;
  readonly code: string | undefined;
  readonly message: string;
}

export type LiftJobResult =
  | { readonly id: number; readonly ok: true; readonly lifted: CachedLift }
  | ({ readonly id: number } & Failure);

export type FromWorker =
  | { readonly kind: "elf-done"; readonly result: LiftJobResult }
  | { readonly kind: "outline"; readonly id: number; readonly outline: ShardOutline }
  | ({ readonly kind: "shard-done"; readonly id: number } & (
      { readonly ok: true; readonly wasm: Uint8Array } | Failure
    ));

/** A failure as it crosses threads: the error code survives, the class does not. */
export function describeFailure(err: unknown): Failure {
  const e = err as { code?: unknown; message?: unknown };
  return {
    ok: false,
    code: typeof e.code === "string" ? e.code : undefined,
    message: typeof e.message === "string" ? e.message : String(err),
  };
}

export function failureError(f: Failure): Error {
  return f.code !== undefined
    ? new MegaliftError(f.code as ErrorCode, f.message)
    : new Error(f.message);
}
