// Functions the CPU model makes unreachable, lifted as a one-call trap stub.
// Static glibc carries AVX, AVX2 and AVX-512 (EVEX) variants of its string
// functions; .eh_frame roots make them all discoverable, but the ifunc
// resolvers read CPUID, which reports none of those features (cpu-model.ts),
// so they are never selected. Lifting them cost a third of busybox's lift
// time; a stub keeps the guarantee that reaching one stops with a clear
// message instead of a wrong result.
import binaryen from "binaryen";
import { RESULT_HALT } from "./abi.js";
import type { DiscoveredFunction } from "./discover.js";
import { liftedParams, TRAP_IMPORT } from "./emit/function-context.js";
import { i32, type Wasm } from "./emit/wasm.js";

/**
 * A function counts as unselectable when a fifth of its instructions, and at
 * least MIN_NEEDING of them, need features the model lacks. Measured on
 * static glibc, the split is clean: ifunc variants are at 24–50 %, while the
 * functions that merely test for a feature — init_cpu_features' xgetbv,
 * the elision locks' xtest, the SSE4.2 variants' few pcmpistri — stay below
 * 8 % and are lifted (an unsupported instruction traps only if reached).
 */
const MIN_NEEDING = 4;

export interface SkippedFunctions {
  functions: number;
  instructions: number;
}
const MIN_FRACTION = 0.2;

/** The feature (the one most of its instructions need) that makes `fn` unselectable, if it is. */
export function unselectableFeature(fn: DiscoveredFunction): string | undefined {
  let total = 0;
  let needing = 0;
  const byFeature = new Map<string, number>();
  for (const block of fn.blocks.values()) {
    for (const ins of block.instructions) {
      total++;
      if (ins.requires === undefined) continue;
      needing++;
      byFeature.set(ins.requires, (byFeature.get(ins.requires) ?? 0) + 1);
    }
  }
  if (needing < MIN_NEEDING || needing < total * MIN_FRACTION) return undefined;
  return [...byFeature].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

/** Adds `name` with the lifted-function signature (liftedParams) → result: it traps at `entry`. */
export function addTrapStub(w: Wasm, name: string, entry: number, trapIndex: number): void {
  const m = w.m;
  m.addFunction(
    name,
    liftedParams(),
    i32,
    [],
    m.block(
      null,
      [
        m.call(TRAP_IMPORT, [w.c64(entry), w.c32(trapIndex)], binaryen.none),
        m.return(w.c32(RESULT_HALT)),
      ],
      i32,
    ),
  );
}
