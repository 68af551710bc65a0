// Control flow (SDM Vol. 1 §6.3 "Calling Procedures Using CALL and RET",
// §6.4 jumps and loops): how a block ends. Direct calls are wasm calls that
// pass the expected return address and the RSP a normal return leaves; `ret`
// compares the popped address and the new RSP with them and returns to the
// dispatcher on a mismatch, so the caller keeps RSP in its local across the
// call instead of reloading it. A call-depth counter sends deep recursion
// back to the dispatcher so the wasm stack stays bounded.
import binaryen from "binaryen";
import type { FunctionContext } from "./function-context.js";
import { PARAM_EXPECTED_RETURN, PARAM_EXPECTED_RSP } from "./function-context.js";
import { RESULT_DISPATCH, RESULT_RETURNED } from "../abi.js";
import { budgetFlush } from "./budget.js";
import type { RegisterMask } from "./dirty-registers.js";
import { i32, i64, type Expr } from "./wasm.js";
import { STATE_RIP } from "../guest-layout.js";

export const DEPTH_GLOBAL = "call_depth";
export const DISPATCH_FUNCTION = "dispatch";
/** Wasm frames allowed before a call goes back to the dispatcher. */
export const CALL_DEPTH_LIMIT = 1000;

const RSP = 4;

/** A direct call built by the caller: given a maker of fresh arguments, the call expression. */
export type InPlaceCall = (args: () => Expr[]) => Expr;

/**
 * A guest call: push the return address, spill, call (a known function
 * directly, anything else through `dispatch`), then reload — or pass a
 * non-zero result (dispatch needed, halt) straight up to our caller.
 * Only the registers in `touched` (what the callee can touch,
 * call-summaries.ts) are spilled before and reloaded after; the others stay
 * in their locals, and are stored only on the way out when the call does not
 * return normally.
 */
export function emitCall(
  ctx: FunctionContext,
  target: Expr,
  returnAddress: number,
  callee: string | InPlaceCall | undefined,
  touched: RegisterMask,
  options: {
    /**
     * The return address is on the stack already (an inlined copy's exit):
     * the RSP from before its push, which a normal return leaves.
     */
    readonly pushed?: () => Expr;
  } = {},
): void {
  const m = ctx.m;
  const w = ctx.w;
  const untouched = { gpr: ~touched.gpr & 0xffff, xmm: ~touched.xmm & 0xffff };
  const t = ctx.let(target);
  const before = ctx.let(options.pushed?.() ?? ctx.gpr(RSP));
  if (options.pushed === undefined) {
    ctx.setGpr(RSP, m.i64.sub(ctx.get(before), w.c64(8)));
    ctx.emit(m.i64.store(0, 1, w.pointer(ctx.gpr(RSP)), w.c64(returnAddress)));
  }
  ctx.emit(...ctx.spill(touched));
  const depth = (): Expr => m.global.get(DEPTH_GLOBAL, i32);
  ctx.emit(
    m.if(
      m.i32.ge_u(depth(), w.c32(CALL_DEPTH_LIMIT)),
      w.block([
        ...ctx.spill(untouched),
        m.i64.store(0, 8, w.c32(STATE_RIP), ctx.get(t)),
        m.return(w.c32(RESULT_DISPATCH)),
      ]),
    ),
  );
  ctx.emit(m.global.set(DEPTH_GLOBAL, m.i32.add(depth(), w.c32(1))));
  const args = (): Expr[] => [w.c64(returnAddress), w.c32(0), ctx.get(before)];
  const call =
    typeof callee === "string"
      ? m.call(callee, args(), i32)
      : callee !== undefined
        ? callee(args)
        : m.call(DISPATCH_FUNCTION, [ctx.get(t), w.c64(returnAddress), ctx.get(before)], i32);
  const result = ctx.let(call, i32);
  ctx.emit(m.global.set(DEPTH_GLOBAL, m.i32.sub(depth(), w.c32(1))));
  ctx.emit(
    m.if(
      m.i32.ne(ctx.get(result, i32), w.c32(RESULT_RETURNED)),
      w.block([...ctx.spill(untouched), m.return(ctx.get(result, i32))]),
    ),
  );
  // A normal return left RSP where it was before the push (emitReturn checks).
  ctx.emit(...ctx.reload(touched, ctx.get(before)));
}

/**
 * ret [imm16]: pop, and return to the wasm caller when the address and the
 * new RSP are the ones it expects; anything else (a longjmp-like stack
 * switch, ret imm16) goes on through the dispatcher.
 */
export function emitReturn(ctx: FunctionContext, extraPop: number): void {
  const m = ctx.m;
  const w = ctx.w;
  const address = ctx.let(w.load(8, w.pointer(ctx.gpr(RSP))));
  ctx.setGpr(RSP, m.i64.add(ctx.gpr(RSP), w.c64(8 + extraPop)));
  ctx.emit(...ctx.spill(), ...budgetFlush(ctx));
  ctx.emit(
    m.if(
      m.i32.and(
        m.i64.eq(ctx.get(address), m.local.get(PARAM_EXPECTED_RETURN, i64)),
        m.i64.eq(ctx.gpr(RSP), m.local.get(PARAM_EXPECTED_RSP, i64)),
      ),
      m.return(w.c32(RESULT_RETURNED)),
    ),
  );
  ctx.emit(m.i64.store(0, 8, w.c32(STATE_RIP), ctx.get(address)), m.return(w.c32(RESULT_DISPATCH)));
}

/** A jump to another function's entry: a tail call that keeps our expected return address and RSP. */
export function tailCall(ctx: FunctionContext, callee: string): Expr {
  const m = ctx.m;
  return ctx.w.block([
    ...ctx.spill(),
    m.return_call(
      callee,
      [m.local.get(PARAM_EXPECTED_RETURN, i64), ctx.w.c32(0), m.local.get(PARAM_EXPECTED_RSP, i64)],
      i32,
    ),
  ]);
}

/** An indirect jump the lifter could not resolve: continue in the dispatcher. */
export function jumpToDispatcher(ctx: FunctionContext, target: Expr): Expr {
  const m = ctx.m;
  const w = ctx.w;
  return w.block([
    ...ctx.spill(),
    m.return_call(
      DISPATCH_FUNCTION,
      [target, m.local.get(PARAM_EXPECTED_RETURN, i64), m.local.get(PARAM_EXPECTED_RSP, i64)],
      i32,
    ),
  ]);
}

export { binaryen };
