// How a lift is split (issue 4 item 7): how many shards an ELF gets and
// which functions each lifts. Kept free of binaryen and iced-x86 so the lift
// pool can size a job without loading the lifter.
//
// The plan (lift-shard-discover.ts) is made once, in the thread that splits
// the lift; a shard's worker gets its ShardWork, its decoded functions
// packed in typed arrays (lift-shard-wire.ts). Planning busybox in every
// worker cost each of them about 6 s, a fifth of its lift.
import { parseElf64 } from "../elf/index.js";
import { MegaliftError } from "../errors.js";
import type { Touched } from "./call-summaries.js";
import type { DiscoveredFunction } from "./discover.js";
import type { StubCall } from "./ifunc-stubs.js";
import type { Inlinable } from "./inline-calls.js";
import { createGuestImage, type GuestImage } from "./guest-image.js";
import { encodeFunctions, type EncodedFunctions } from "./lift-shard-wire.js";

/**
 * Code bytes per shard: an ELF with less code than this is lifted in one
 * piece, in-process (a worker's start-up — loading binaryen and iced-x86 —
 * costs more than it saves). Busybox (about 700 KB of code) gets several.
 */
export const SHARD_CODE_BYTES = 128 * 1024;

/** How many shards an ELF gets when `workers` threads are free for it. */
export function shardCountFor(
  codeBytes: number,
  workers: number,
  perShard = SHARD_CODE_BYTES,
): number {
  return Math.max(1, Math.min(workers, Math.floor(codeBytes / perShard)));
}

/** parseElf64 with the file's name in the message (issue 4 "Bad input"). */
function parseNamed(name: string, bytes: Uint8Array): ReturnType<typeof parseElf64> {
  try {
    return parseElf64(bytes);
  } catch (err) {
    if (err instanceof MegaliftError)
      throw new MegaliftError(err.code, `${name}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** The guest image alone (no decoding): enough to size the code for shardCountFor. */
export function guestImageOf(name: string, bytes: Uint8Array): GuestImage {
  return createGuestImage(name, parseNamed(name, bytes));
}

export function codeBytesOf(image: GuestImage): number {
  return image.codeRanges.reduce((n, r) => n + r.bytes.length, 0);
}

/** What the worker of one shard needs from the plan (structured-clonable). */
export interface ShardWork {
  readonly index: number;
  /** The shard's functions, in address order (shardFunctions), decoded. */
  readonly functions: EncodedFunctions;
  /** The entry of every function of the ELF: a call to one is a direct call. */
  readonly entries: readonly number[];
  /** What a call to each of `entries` can touch, in the same order (call-summaries.ts). */
  readonly touched: readonly Touched[];
  /** Calls to IFUNC stubs made in place (ifunc-stubs.ts). */
  readonly stubs: readonly (readonly [number, StubCall])[];
  /** The functions callers inline (inline-calls.ts), decoded; their shapes are worked out again. */
  readonly inlinable: EncodedFunctions;
}

/**
 * Shard `index` of `count` of the address-ordered `functions`, as its
 * worker needs it; `touched` is the plan's (touchedByCalls of `functions`).
 */
export function shardWork(
  functions: readonly DiscoveredFunction[],
  touched: ReadonlyMap<number, Touched>,
  stubs: ReadonlyMap<number, StubCall>,
  inlinable: ReadonlyMap<number, Inlinable>,
  index: number,
  count: number,
): ShardWork {
  return {
    index,
    functions: encodeFunctions(shardFunctions(functions, index, count)),
    entries: functions.map((fn) => fn.entry),
    // touchedByCalls has every function of `functions`.
    touched: functions.map((fn) => touched.get(fn.entry) as Touched),
    stubs: [...stubs],
    inlinable: encodeFunctions([...inlinable.values()].map((i) => i.fn)),
  };
}

/**
 * What lifting `fn` costs, in instructions: the passes and the Relooper
 * also work per block. Measured on busybox's passes, instructions alone left
 * one of two shards 13% more work than the other; a block weighing four
 * instructions evens them to 0.3%.
 */
export function liftWeight(fn: DiscoveredFunction): number {
  let n = 1 + 4 * fn.blocks.size;
  for (const b of fn.blocks.values()) n += b.instructions.length;
  return n;
}

/**
 * The functions of shard `index` of `count`: consecutive runs of the
 * address-ordered list with about the same weight (liftWeight) each, so
 * shards take about the same time. Concatenating the shards in index order
 * gives the whole list back, whatever `count` is — what makes the output
 * independent of the split.
 */
export function shardFunctions(
  functions: readonly DiscoveredFunction[],
  index: number,
  count: number,
): DiscoveredFunction[] {
  const weights = functions.map(liftWeight);
  const total = weights.reduce((a, b) => a + b, 0);
  const shard: DiscoveredFunction[] = [];
  let before = 0;
  functions.forEach((fn, k) => {
    if (Math.min(count - 1, Math.floor((before * count) / total)) === index) shard.push(fn);
    before += weights[k] as number;
  });
  return shard;
}
