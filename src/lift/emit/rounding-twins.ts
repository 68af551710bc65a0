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
  FLUSH_MODE,
  nonDefaultMode,
} from "../semantics/sse-directed.js";
import { regionExit } from "./budget.js";
import type { FunctionContext } from "./function-context.js";
import { PARAM_ENTRY, PARAM_EXPECTED_RETURN, PARAM_EXPECTED_RSP } from "./function-context.js";
import { i32, i64, type Expr } from "./wasm.js";

/** How one wasm function is lifted with respect to MXCSR's mode. */
export interface RoundingFlavor {
  /** Float operations check the mode (the twin, or a function that writes MXCSR). */
  readonly checked: boolean;
  /** The checked twin a fast version forwards to. */
  readonly twin?: string;
  /** The flush flavour a fast version forwards to in FLUSH_MODE (sse-flush.ts). */
  readonly flushTwin?: string;
  /** In the flush flavour: the fast version to go back to when the mode is another. */
  readonly fast?: string;
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
  const flushTwin = `${name}_fz`;
  return [
    { name, flavor: { checked: false, twin, flushTwin } },
    { name: twin, flavor: { checked: true } },
    { name: flushTwin, flavor: { checked: false, fast: name } },
  ];
}

/**
 * A fast version's first statement: outside the default mode, to the flush
 * flavour in FLUSH_MODE and to the checked twin in any other, at the same entry.
 */
export function forwardToTwin(ctx: FunctionContext, twin: string, flushTwin: string): Expr {
  const m = ctx.m;
  const args = (): Expr[] => [
    m.local.get(PARAM_EXPECTED_RETURN, i64),
    m.local.get(PARAM_ENTRY, i32),
    m.local.get(PARAM_EXPECTED_RSP, i64),
  ];
  return m.if(
    nonDefaultMode(ctx),
    m.block(null, [
      m.if(
        m.i32.eq(nonDefaultMode(ctx), ctx.w.c32(FLUSH_MODE)),
        m.return_call(flushTwin, args(), i32),
      ),
      m.return_call(twin, args(), i32),
    ]),
  );
}

/** The flush flavour's first statement: back to the fast version (which forwards) in any other mode. */
export function forwardToFast(ctx: FunctionContext, fast: string): Expr {
  const m = ctx.m;
  const args = [
    m.local.get(PARAM_EXPECTED_RETURN, i64),
    m.local.get(PARAM_ENTRY, i32),
    m.local.get(PARAM_EXPECTED_RSP, i64),
  ];
  return m.if(m.i32.ne(nonDefaultMode(ctx), ctx.w.c32(FLUSH_MODE)), m.return_call(fast, args, i32));
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
  expected = 0,
): Expr {
  const m = ctx.m;
  const changed = m.i32.ne(nonDefaultMode(ctx), ctx.w.c32(expected));
  return m.if(changed, regionExit(ctx, address, liveFlags));
}
