// What every lift of one ELF starts with, sharded or not (issue 4 item 7):
// parse, decode and discover, and order the functions by address. A
// sharded lift does this once, in the pool's thread, and sends each worker
// its shard's functions packed in typed arrays (lift-shard-wire.ts).
import { MegaliftError } from "../errors.js";
import { touchedByCalls, type Touched } from "./call-summaries.js";
import { CodeDecoder } from "./decode.js";
import { discover, type DiscoveredFunction, type Discovery } from "./discover.js";
import type { GuestImage } from "./guest-image.js";
import { resolveIfuncStubs, stubCalls, type StubCall } from "./ifunc-stubs.js";
import { unselectableFeature } from "./feature-skip.js";
import { inlinableFunctions, type Inlinable } from "./inline-calls.js";
import { guestImageOf } from "./lift-shard-plan.js";

/**
 * Function starts a stripped binary still records (ARCHITECTURE.md "Lifting"
 * 5): every .eh_frame FDE's initial location, DT_INIT/DT_FINI and the
 * (pre)init/fini arrays — so functions reached only through pointers (an
 * applet table, a callback) are lifted too. A table that does not parse adds
 * nothing: discovery still has the entry point, symbols and call targets.
 */
function discoveryRoots(image: GuestImage): number[] {
  const roots: number[] = [];
  const add = (address: bigint | undefined): void => {
    if (address !== undefined && address !== 0n) roots.push(Number(address) + image.base);
  };
  const tolerant = (read: () => void): void => {
    try {
      read();
    } catch (err) {
      if (!(err instanceof MegaliftError)) throw err;
    }
  };
  tolerant(() => {
    for (const fde of image.elf.ehFrame()?.fdes ?? []) add(fde.initialLocation);
  });
  tolerant(() => {
    const tables = image.elf.initFini();
    add(tables.init);
    add(tables.fini);
    for (const a of [...tables.preinitArray, ...tables.initArray, ...tables.finiArray]) add(a);
  });
  return roots;
}

/** Code addresses stored in data words (e.g. busybox's applet_main table), rebased. */
function pointerRoots(image: GuestImage): number[] {
  try {
    return image.elf
      .codePointers()
      .filter((p) => p.source === "data")
      .map((p) => Number(p.target) + image.base);
  } catch (err) {
    if (err instanceof MegaliftError) return [];
    throw err;
  }
}

/** A decoded, discovered ELF; call dispose() to free the decoder. */
export interface LiftPlan {
  readonly image: GuestImage;
  readonly discovery: Discovery;
  /** Every function, by entry address: the order of the output module. */
  readonly functions: readonly DiscoveredFunction[];
  /** What a direct call to each function can touch (call-summaries.ts), for every shard. */
  readonly touched: ReadonlyMap<number, Touched>;
  /** Calls to IFUNC stubs that callers make in place (ifunc-stubs.ts), for every shard. */
  readonly stubs: ReadonlyMap<number, StubCall>;
  /** Functions callers inline (inline-calls.ts), for every shard. */
  readonly inlinable: ReadonlyMap<number, Inlinable>;
  dispose(): void;
}

export function planLift(name: string, bytes: Uint8Array): LiftPlan {
  const image = guestImageOf(name, bytes);
  const decoder = new CodeDecoder(image.codeRanges);
  try {
    const discovery = resolveIfuncStubs(
      image,
      discover(image, decoder, discoveryRoots(image), pointerRoots(image)),
    );
    const functions = [...discovery.functions.values()].sort((a, b) => a.entry - b.entry);
    const touched = touchedByCalls(functions);
    const selectable = (fn: DiscoveredFunction): boolean => unselectableFeature(fn) === undefined;
    const stubs = stubCalls(discovery.functions, selectable);
    const inlinable = inlinableFunctions(functions, selectable);
    return {
      image,
      discovery,
      functions,
      touched,
      stubs,
      inlinable,
      dispose: () => decoder.dispose(),
    };
  } catch (err) {
    decoder.dispose();
    throw err;
  }
}
