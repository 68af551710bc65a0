// MXCSR.IE raised inline where an SSE operation that rounds nothing meets
// an invalid operand (SDM Vol. 1 §11.5.2.1): a conversion to an integer
// whose source is NaN or out of range, an ordered compare (comisd, or
// cmpsd/cmppd with LT, LE, NLT or NLE) or min/max meeting a NaN. With IE
// masked, as in every program that does not unmask it, the flag is all
// that changes: the result is the masked response. Each costs one branch,
// rarely taken.
//
// Arithmetic raises ZE, OE and IE (1/0, overflow, 0/0, ∞ − ∞, √−1) only
// in its checked flavour (sse-directed.ts), which runs in a directed mode
// and once the program watches the flags. The fast versions cannot afford
// any check: on cpu-bench's nbody and matmul every way tried cost far too
// much — the exact helper called after each infinite or NaN result 2.5×
// slower (V8 spills the floats live across a call even on a path not
// taken), a branch computing the flags after each operation 1.9×, one
// branch per block on the results 1.9–2×, a residue sum (x − x) per
// operation with the flags worked out at the block's end about 1.7×
// (operands kept live to the end). PE, UE, DE and IE from a signalling NaN
// are not tracked in the default mode.
import type { FunctionContext } from "../emit/function-context.js";
import type { Expr } from "../emit/wasm.js";
import { STATE_MXCSR } from "../guest-layout.js";

const IE = 0x1;

/** Sets MXCSR.IE when `condition` (i32) is non-zero. */
export function raiseInvalidIf(ctx: FunctionContext, condition: Expr): void {
  const m = ctx.m;
  const mxcsr = m.i32.load(0, 4, ctx.w.c32(STATE_MXCSR));
  const raised = m.i32.store(0, 4, ctx.w.c32(STATE_MXCSR), m.i32.or(mxcsr, ctx.w.c32(IE)));
  ctx.emit(m.if(condition, raised));
}

/**
 * Non-zero when `a` or `b` (doubles for "d", singles for "s") is NaN: the
 * scalars, or with `packed` any lane of the vectors.
 */
export function unordered(
  ctx: FunctionContext,
  width: "d" | "s",
  a: () => Expr,
  b: () => Expr,
  packed = false,
): Expr {
  const m = ctx.m;
  if (!packed) {
    const ops = width === "d" ? m.f64 : m.f32;
    return m.i32.or(ops.ne(a(), a()), ops.ne(b(), b()));
  }
  const lanes = width === "d" ? m.f64x2 : m.f32x4;
  return m.v128.any_true(m.v128.or(lanes.ne(a(), a()), lanes.ne(b(), b())));
}

/** Whether cmpsd/cmppd's predicate (imm8 0–7) signals on a QNaN: LT, LE, NLT, NLE. */
export function signalingPredicate(imm: number): boolean {
  return [1, 2, 5, 6].includes(imm & 7);
}
