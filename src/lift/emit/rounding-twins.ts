// How lifted functions honour MXCSR's float mode — RC (directed rounding),
// FTZ and DAZ (flush tiny results and denormal operands to zero) — without
// making default-mode code pay for it. Checking RC at every float operation
// with a hypercall behind the check doubled cpu-bench's nbody and matmul
// kernels (V8 keeps values live across the call on the fast path too), so
// a function with float operations the mode changes (ROUNDING_MNEMONICS,
// DAZ_MNEMONICS) is lifted twice:
//
// - the fast version computes as wasm does. Whenever it is entered (every
//   entry: the function's, a call continuation, a loop header after a
//   yield) it first checks the mode and, when it is not the default,
//   tail-calls its twin with the same entry index. After a call returns (or
//   a syscall), the mode may have changed: on the edge to the call's
//   continuation it checks again and, if so, leaves through the dispatcher
//   to that continuation, whose entry forwards to the twin. (On the edge,
//   not at the continuation's start: that block is often where a loop's
//   fast path joins the call's slow one, as after an inlined sqrtsd.)
// - the twin (`…_rc`) checks the mode at each float operation and hands the
//   operation to kernel.sse when the mode changes its result
//   (semantics/sse-directed.ts).
//
// A function that itself writes MXCSR (ldmxcsr, fxrstor: fesetround
// inlined, glibc's soft fma) is lifted only as the checked version. The
// dispatcher and every call know only the fast names.
import type { DiscoveredBlock } from "../discover.js";
import {
  DAZ_MNEMONICS,
  MXCSR_WRITERS,
  ROUNDING_MNEMONICS,
  nonDefaultMode,
} from "../semantics/sse-directed.js";
import { regionExit } from "./budget.js";
import type { FunctionContext } from "./function-context.js";
import { PARAM_ENTRY, PARAM_EXPECTED_RETURN } from "./function-context.js";
import { i32, i64, type Expr } from "./wasm.js";

/** How one wasm function is lifted with respect to RC. */
export interface RoundingFlavor {
  /** Float operations check RC (the twin, or a function that writes MXCSR). */
  readonly checked: boolean;
  /** The checked twin a fast version forwards to. */
  readonly twin?: string;
}

/** The flavours to emit for `blocks` under `name`: one, or the fast version and its twin. */
export function roundingFlavors(
  name: string,
  blocks: readonly DiscoveredBlock[],
): { name: string; flavor: RoundingFlavor }[] {
  let dependsOnMode = false;
  let writes = false;
  for (const b of blocks) {
    for (const ins of b.instructions) {
      dependsOnMode ||= ROUNDING_MNEMONICS.has(ins.mnemonic) || DAZ_MNEMONICS.has(ins.mnemonic);
      writes ||= MXCSR_WRITERS.has(ins.mnemonic);
    }
  }
  if (!dependsOnMode) return [{ name, flavor: { checked: false } }];
  if (writes) return [{ name, flavor: { checked: true } }];
  const twin = `${name}_rc`;
  return [
    { name, flavor: { checked: false, twin } },
    { name: twin, flavor: { checked: true } },
  ];
}

/** A fast version's first statement: to the twin, at the same entry, outside the default mode. */
export function forwardToTwin(ctx: FunctionContext, twin: string): Expr {
  const m = ctx.m;
  const args = [m.local.get(PARAM_EXPECTED_RETURN, i64), m.local.get(PARAM_ENTRY, i32)];
  return m.if(nonDefaultMode(ctx), m.return_call(twin, args, i32));
}

/**
 * On a fast version's edge from a call to its continuation: when MXCSR's
 * mode is no longer the default, leave through the dispatcher to that
 * address (an entry, which forwards to the twin).
 */
export function leaveInNonDefaultMode(
  ctx: FunctionContext,
  address: number,
  liveFlags: number,
): Expr {
  return ctx.m.if(nonDefaultMode(ctx), regionExit(ctx, address, liveFlags));
}
