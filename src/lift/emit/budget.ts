// The CPU-budget exit (ARCHITECTURE.md "Lifting" 1 and "vkernel"): a global
// counter decremented on every loop back-edge; when it runs out the code
// spills, stores the loop header's guest PC and returns RESULT_YIELD to the
// dispatcher loop, which hands control to the host. Two reasons: V8 has no
// on-stack replacement for wasm, so a long loop stays in the baseline tier
// until its function is entered again; and the vkernel schedules guest
// processes cooperatively at exactly these points. Every loop header a check
// names is a dispatcher entry — of its function or of a loop variant
// (loops.ts) — so the re-entry continues the loop.
import { BUDGET_EXPORT, RESULT_DISPATCH, RESULT_YIELD } from "../abi.js";
import { STATE_RIP, stateFlag } from "../guest-layout.js";
import { FLAG_BITS } from "./flags.js";
import type { FunctionContext } from "./function-context.js";
import { i32, type Expr } from "./wasm.js";

/** Exported as BUDGET_EXPORT (abi.ts) so the host can reset it (or set it to 0 to preempt). */
export const BUDGET_GLOBAL = "cpu_budget";
export { BUDGET_EXPORT };

/**
 * Back edges count down a local and charge the global budget once per
 * BUDGET_CHUNK of them: a global read-modify-write on every iteration made
 * byte loops like malloc-stress's fill() measurably slower in TurboFan code,
 * a local decrement stays in a register. `ret` charges what is left over
 * (budgetFlush), so work in short calls still counts.
 */
export const BUDGET_CHUNK = 256;

/** Function prologue of a function with budget checks. */
export function budgetPrologue(ctx: FunctionContext): Expr[] {
  if (ctx.budgetTicks === undefined) return [];
  return [ctx.m.local.set(ctx.budgetTicks, ctx.w.c32(BUDGET_CHUNK))];
}

/** Charges the back edges counted since the last charge (before `ret`). */
export function budgetFlush(ctx: FunctionContext): Expr[] {
  const m = ctx.m;
  const ticks = ctx.budgetTicks;
  if (ticks === undefined) return [];
  const used = m.i32.sub(ctx.w.c32(BUDGET_CHUNK), m.local.get(ticks, i32));
  return [m.global.set(BUDGET_GLOBAL, m.i32.sub(m.global.get(BUDGET_GLOBAL, i32), used))];
}

/**
 * Code on a back edge into `header`: count, and when the budget is spent,
 * leave with the registers and the flags in `liveFlags` in the state block
 * so the header's dispatcher entry can continue. Needs ctx.budgetTicks.
 */
export function budgetCheck(ctx: FunctionContext, header: number, liveFlags: number): Expr {
  const m = ctx.m;
  const w = ctx.w;
  const ticks = ctx.budgetTicks as number;
  const budget = (): Expr => m.global.get(BUDGET_GLOBAL, i32);
  return w.block([
    m.local.set(ticks, m.i32.sub(m.local.get(ticks, i32), w.c32(1))),
    m.if(
      m.i32.eqz(m.local.get(ticks, i32)),
      w.block([
        m.local.set(ticks, w.c32(BUDGET_CHUNK)),
        m.global.set(BUDGET_GLOBAL, m.i32.sub(budget(), w.c32(BUDGET_CHUNK))),
        m.if(
          m.i32.lt_s(budget(), w.c32(0)),
          w.block([
            ...ctx.spill(),
            ...spillFlags(ctx, liveFlags),
            m.i64.store(0, 8, w.c32(STATE_RIP), w.c64(header)),
            m.return(w.c32(RESULT_YIELD)),
          ]),
        ),
      ]),
    ),
  ]);
}

/**
 * Leaving a loop variant for a block outside its region: continue through the
 * dispatcher, with the flags live there in the state block (the function's
 * entry at `target` reloads them).
 */
export function regionExit(ctx: FunctionContext, target: number, liveFlags: number): Expr {
  const w = ctx.w;
  return w.block([
    ...ctx.spill(),
    ...spillFlags(ctx, liveFlags),
    ctx.m.i64.store(0, 8, w.c32(STATE_RIP), w.c64(target)),
    ctx.m.return(w.c32(RESULT_DISPATCH)),
  ]);
}

/**
 * Stores the canonical locals of the flags in `mask`. Edge code runs after
 * the source block's materializeFlags, so the live flags are in those locals
 * (never in the lazy records of whichever block was lifted last).
 */
function spillFlags(ctx: FunctionContext, mask: number): Expr[] {
  const out: Expr[] = [];
  FLAG_BITS.forEach((bit, k) => {
    if ((mask & bit) === 0) return;
    const value = ctx.m.local.get(ctx.canonicalFlagLocal(k), i32);
    out.push(ctx.m.i32.store(0, 4, ctx.w.c32(stateFlag(k)), value));
  });
  return out;
}

/** Loads the flags in `mask` back into their canonical locals (a header's re-entry). */
export function reloadFlags(ctx: FunctionContext, mask: number): Expr[] {
  const out: Expr[] = [];
  FLAG_BITS.forEach((bit, k) => {
    if ((mask & bit) === 0) return;
    const value = ctx.m.i32.load(0, 4, ctx.w.c32(stateFlag(k)));
    out.push(ctx.m.local.set(ctx.canonicalFlagLocal(k), value));
  });
  return out;
}
