// How a lift is split (issue 4 item 7): how many shards an ELF gets and
// which functions each lifts. Kept free of binaryen and iced-x86 so the lift
// pool can size a job without loading the lifter.
import { parseElf64 } from "../elf/index.js";
import { MegaliftError } from "../errors.js";
import type { DiscoveredFunction } from "./discover.js";
import { createGuestImage, type GuestImage } from "./guest-image.js";

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

/**
 * The functions of shard `index` of `count`: consecutive runs of the
 * address-ordered list with about the same number of instructions each, so
 * shards take about the same time. Concatenating the shards in index order
 * gives the whole list back, whatever `count` is — what makes the output
 * independent of the split.
 */
export function shardFunctions(
  functions: readonly DiscoveredFunction[],
  index: number,
  count: number,
): DiscoveredFunction[] {
  const weights = functions.map((fn) => {
    let n = 1;
    for (const b of fn.blocks.values()) n += b.instructions.length;
    return n;
  });
  const total = weights.reduce((a, b) => a + b, 0);
  const shard: DiscoveredFunction[] = [];
  let before = 0;
  functions.forEach((fn, k) => {
    if (Math.min(count - 1, Math.floor((before * count) / total)) === index) shard.push(fn);
    before += weights[k] as number;
  });
  return shard;
}
