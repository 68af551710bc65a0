// A shard's functions back from its ShardWork (lift-shard-plan.ts), in the
// worker that lifts them. Instruction text is needed only for the few
// trap messages, so it comes from a decoder made on first use.
import { CodeDecoder } from "./decode.js";
import type { DiscoveredFunction } from "./discover.js";
import { guestImageOf, type ShardWork } from "./lift-shard-plan.js";
import { decodeFunctions } from "./lift-shard-wire.js";
import { inlineShape, type Inlinable } from "./inline-calls.js";

/** A shard's functions; call dispose() when they are lifted (it frees the decoder). */
export interface DecodedShard {
  readonly functions: readonly DiscoveredFunction[];
  /** The functions callers inline, with their shapes (inline-calls.ts). */
  readonly inlinable: ReadonlyMap<number, Inlinable>;
  dispose(): void;
}

/** The functions of `work` for the ELF `bytes` (named `name` in errors). */
export function decodeShard(name: string, bytes: Uint8Array, work: ShardWork): DecodedShard {
  let decoder: CodeDecoder | undefined;
  const textOf = (ip: number): string => {
    decoder ??= new CodeDecoder(guestImageOf(name, bytes).codeRanges);
    return decoder.decodeAt(ip)?.text ?? `(undecodable at 0x${ip.toString(16)})`;
  };
  const entries = new Set(work.entries);
  const inlinable = new Map<number, Inlinable>();
  for (const fn of decodeFunctions(work.inlinable, textOf)) {
    const shape = inlineShape(fn, (a) => entries.has(a));
    if (shape === undefined) throw new Error(`0x${fn.entry.toString(16)} is not inlinable here`);
    inlinable.set(fn.entry, { fn, shape });
  }
  return {
    functions: decodeFunctions(work.functions, textOf),
    inlinable,
    dispose: () => {
      decoder?.dispose();
      decoder = undefined;
    },
  };
}
