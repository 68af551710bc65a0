// SSE float operations in the mode -ffast-math programs run in: MXCSR.FTZ
// and MXCSR.DAZ set, rounding to nearest (crtfastmath.o sets exactly that
// before main). A function lifted in the flush flavour (ctx.flushing,
// rounding-twins.ts) runs only in that mode, so it needs no check of MXCSR
// per operation and no call. Measured on cpu-bench built with -Ofast: the
// checked twin ran its nbody and matmul kernels 8–10 times slower than the
// fast version; this flavour runs the whole benchmark 1.4 times slower
// than the fast version (which ignored FTZ and DAZ).
//
// An operation keeps wasm's result (from the operands as they are) unless
// that result is small or an operand is below the smallest normal; then,
// in a branch with no call, it runs again:
// - DAZ: every float operand that is denormal counts as a zero of its sign
//   (comparisons, min/max and conversions flush theirs always, branch-free);
// - FTZ: a result that is tiny after rounding with an unbounded exponent
//   becomes a zero of its sign. Wasm rounds with gradual underflow, so its
//   result alone does not say: a product just below the smallest normal
//   can round up to it. The operation is done again with one operand scaled
//   by 2^k (k = 600 for doubles, 64 for singles), far from underflow, where
//   wasm's rounding is the unbounded one; the result is tiny when that is
//   below 2^k times the smallest normal. Sums of normal operands are exact
//   in the denormal range, and square roots of normal operands are never
//   tiny, so neither needs the second operation.
//
// Exception flags are not tracked here, as in round-to-nearest elsewhere.
import type { FunctionContext } from "../emit/function-context.js";
import { f32, f64, v128, type Expr } from "../emit/wasm.js";
import type { Operand, PackedOperand } from "./sse-directed.js";
import { SSE_OP, type SseOp } from "./sse-directed-ops.js";
import type { Width } from "./sse-operands.js";

/**
 * Below these, a sum or difference is done again flushed; above, neither
 * FTZ nor DAZ can change it. A denormal d changes x + d (x normal, p-bit
 * significands) only when it is at least half an ulp of x, so
 * |x| <= 2^(p+1)·|d| < 2^(p+1)·min: then |x + d|, rounded, is below
 * 2^(p+2)·min. Both operands normal, a tiny sum is below min itself. One
 * compare for a sum, where a product needs three (its result, and each
 * operand for DAZ).
 */
const SUM_LIMIT_F64 = 2 ** (-1022 + 55);
const SUM_LIMIT_F32 = 2 ** (-126 + 26);
const sumOrDifference = (op: SseOp): boolean => op === SSE_OP.ADD || op === SSE_OP.SUB;

/** Block labels: unique in the module (binary output has none, so it is the same for any order). */
let labels = 0;

const MIN_F64 = 2 ** -1022;
const MIN_F32 = 2 ** -126;
const SCALE_F64 = 2 ** 600;
const SCALE_F32 = 2 ** 64;

/** The scalar `x` (f64 or f32) with a denormal replaced by a zero of its sign. */
export function denormalsAsZero(ctx: FunctionContext, type: number, x: Expr): Expr {
  const m = ctx.m;
  const ops = type === f64 ? m.f64 : m.f32;
  const v = ctx.let(x, type);
  const get = (): Expr => ctx.get(v, type);
  const tiny = ops.lt(ops.abs(get()), ops.const(type === f64 ? MIN_F64 : MIN_F32));
  return m.select(tiny, ops.copysign(ops.const(0), get()), get());
}

/** denormalsAsZero() for each lane of a vector of `lanes` floats. */
export function denormalsAsZeroPacked(ctx: FunctionContext, lanes: "f64" | "f32", x: Expr): Expr {
  const v = ctx.let(x, v128);
  return flushBelow(
    ctx,
    lanes,
    () => ctx.get(v, v128),
    () => ctx.get(v, v128),
    lanes === "f64" ? MIN_F64 : MIN_F32,
  );
}

/** Lanes of `value()` where |test()| < limit, replaced by zeros of their signs. */
function flushBelow(
  ctx: FunctionContext,
  lanes: "f64" | "f32",
  value: () => Expr,
  test: () => Expr,
  limit: number,
): Expr {
  const m = ctx.m;
  const double = lanes === "f64";
  const ops = double ? m.f64x2 : m.f32x4;
  const bound = double ? m.f64x2.splat(m.f64.const(limit)) : m.f32x4.splat(m.f32.const(limit));
  const signs = double
    ? m.i64x2.splat(ctx.w.c64(-(1n << 63n)))
    : m.i32x4.splat(ctx.w.c32(-(2 ** 31)));
  const small = ops.lt(ops.abs(test()), bound);
  return m.v128.bitselect(m.v128.and(value(), signs), value(), small);
}

/**
 * The scalar result of `op` on `a` and `b` with DAZ and FTZ, from the
 * caller's round-to-nearest result `nearest` (computed from the operands
 * unflushed). Only when that result is small (a sum below SUM_LIMIT; a
 * product or quotient at most the smallest normal) or an operand is below
 * the smallest normal (zeros included: comparing them out costs more than
 * redoing the operation) does it run again flushed: a branch, no call.
 */
export function flushedScalar(
  ctx: FunctionContext,
  op: SseOp,
  width: Width,
  nearest: Expr,
  a: Operand,
  b?: Operand,
): Expr {
  const m = ctx.m;
  if (op === SSE_OP.FROM_INT) return nearest; // an integer is never denormal, its float never tiny
  const type = width === "d" ? f64 : f32;
  const min = width === "d" ? MIN_F64 : MIN_F32;
  const inputs = (op === SSE_OP.SQRT ? [b] : [a, b]).filter((o) => o !== undefined);
  const r = ctx.mutableLocal(nearest, type);
  /** |x| < limit (or <= limit); zeros too, where redoing the operation is merely slower. */
  const small = (local: number, t: number, limit: number, orEqual: boolean): Expr => {
    const o = t === f64 ? m.f64 : m.f32;
    const magnitude = o.abs(ctx.get(local, t));
    return orEqual ? o.le(magnitude, o.const(limit)) : o.lt(magnitude, o.const(limit));
  };
  // One compare and branch per value (br_if), not booleans ORed: V8 materialises those.
  const checks = sumOrDifference(op)
    ? [small(r, type, width === "d" ? SUM_LIMIT_F64 : SUM_LIMIT_F32, false)]
    : [
        ...(op === SSE_OP.SQRT ? [] : [small(r, type, min, true)]),
        ...inputs.map((o) => small(o.local, o.type, o.type === f64 ? MIN_F64 : MIN_F32, false)),
      ];
  const label = `flush${labels++}`;
  ctx.emit(
    m.block(`${label}_done`, [
      m.block(label, [...checks.map((c) => m.br(label, c)), m.br(`${label}_done`)]),
      ...flushedAgain(ctx, op, width, r, a, b),
    ]),
  );
  return ctx.get(r, type);
}

/** Statements that set `r` to `op` on the flushed operands, its result flushed if tiny. */
function flushedAgain(
  ctx: FunctionContext,
  op: SseOp,
  width: Width,
  r: number,
  a: Operand,
  b?: Operand,
): Expr[] {
  const m = ctx.m;
  const type = width === "d" ? f64 : f32;
  const ops = width === "d" ? m.f64 : m.f32;
  const out: Expr[] = [];
  /** A fresh local set (inside the branch) to the operand with DAZ. */
  const operand = (o: Operand | undefined): number => {
    if (o === undefined) return -1;
    const local = ctx.temp(o.type);
    const t = o.type;
    const x = (): Expr => ctx.get(o.local, t);
    const flush = t === f64 ? m.f64 : m.f32;
    const tiny = flush.lt(flush.abs(x()), flush.const(t === f64 ? MIN_F64 : MIN_F32));
    out.push(m.local.set(local, m.select(tiny, flush.copysign(flush.const(0), x()), x())));
    return local;
  };
  const x = operand(a);
  const y = operand(b);
  const X = (): Expr => m.local.get(x, type);
  const Y = (): Expr => m.local.get(y, type);
  const scale = width === "d" ? SCALE_F64 : SCALE_F32;
  let result: Expr;
  let scaled: (() => Expr) | undefined;
  switch (op) {
    case SSE_OP.ADD:
      result = ops.add(X(), Y());
      break;
    case SSE_OP.SUB:
      result = ops.sub(X(), Y());
      break;
    case SSE_OP.MUL: {
      result = ops.mul(X(), Y());
      // The smaller operand scaled: it cannot overflow when the product is small.
      const xSmaller = (): Expr => ops.lt(ops.abs(X()), ops.abs(Y()));
      scaled = () =>
        ops.mul(
          ops.mul(m.select(xSmaller(), X(), Y()), ops.const(scale)),
          m.select(xSmaller(), Y(), X()),
        );
      break;
    }
    case SSE_OP.DIV:
      result = ops.div(X(), Y());
      scaled = () => ops.div(ops.mul(X(), ops.const(scale)), Y());
      break;
    case SSE_OP.SQRT:
      // A square root of a normal operand is never tiny.
      return [...out, m.local.set(r, ops.sqrt(Y()))];
    default: {
      // FROM_F64: cvtsd2ss.
      const source = (): Expr => m.local.get(x, f64);
      result = m.f32.demote(source());
      scaled = () => m.f32.demote(m.f64.mul(source(), m.f64.const(SCALE_F32)));
    }
  }
  out.push(m.local.set(r, result));
  const R = (): Expr => m.local.get(r, type);
  const min = width === "d" ? MIN_F64 : MIN_F32;
  const tiny =
    scaled === undefined
      ? ops.lt(ops.abs(R()), ops.const(min))
      : ops.lt(ops.abs(scaled()), ops.const(min * scale));
  out.push(m.local.set(r, m.select(tiny, ops.copysign(ops.const(0), R()), R())));
  return out;
}

/** flushedScalar() for packed operations: the same check over all lanes at once. */
export function flushedPacked(
  ctx: FunctionContext,
  op: SseOp,
  width: Width,
  nearest: Expr,
  a: PackedOperand,
  b?: PackedOperand,
): Expr {
  const m = ctx.m;
  if (op === SSE_OP.FROM_INT) return nearest;
  const r = ctx.mutableLocal(nearest, v128);
  const again = flushedPackedAgain(ctx, op, width, r, a, b);
  if (op === SSE_OP.FROM_F64) {
    // cvtpd2ps: its zeroed upper lanes would always look tiny; it is rare enough to redo.
    ctx.emit(...again);
    return ctx.get(r, v128);
  }
  const lanes = width === "d" ? "f64" : "f32";
  const ops = width === "d" ? m.f64x2 : m.f32x4;
  const splat = (v: number): Expr =>
    width === "d" ? m.f64x2.splat(m.f64.const(v)) : m.f32x4.splat(m.f32.const(v));
  const min = width === "d" ? MIN_F64 : MIN_F32;
  const inputs = (op === SSE_OP.SQRT ? [b] : [a, b]).filter(
    (o): o is PackedOperand => o !== undefined && o.lanes === lanes,
  );
  /** Lanes with 0 < |x| < min (or <= min): zeros need nothing, and they are common. */
  const tiny = (local: number, orEqual: boolean): Expr => {
    const x = (): Expr => ctx.get(local, v128);
    const small = orEqual ? ops.le(ops.abs(x()), splat(min)) : ops.lt(ops.abs(x()), splat(min));
    return small;
  };
  const suspect = sumOrDifference(op)
    ? ops.lt(ops.abs(ctx.get(r, v128)), splat(width === "d" ? SUM_LIMIT_F64 : SUM_LIMIT_F32))
    : inputs.reduce<Expr>(
        (any, o) => m.v128.or(any, tiny(o.local, false)),
        // A square root of a normal operand is never tiny: only its operand counts.
        op === SSE_OP.SQRT ? m.v128.const(new Array<number>(16).fill(0)) : tiny(r, true),
      );
  ctx.emit(m.if(m.v128.any_true(suspect), m.block(null, again)));
  return ctx.get(r, v128);
}

/** Statements that set `r` to `op` on the flushed operands, tiny lanes of the result flushed. */
function flushedPackedAgain(
  ctx: FunctionContext,
  op: SseOp,
  width: Width,
  r: number,
  a: PackedOperand,
  b?: PackedOperand,
): Expr[] {
  const m = ctx.m;
  const out: Expr[] = [];
  const operand = (o: PackedOperand | undefined): number => {
    if (o === undefined || o.lanes === "i32") return -1;
    const local = ctx.temp(v128);
    const lanes = o.lanes;
    const v = (): Expr => ctx.get(o.local, v128);
    const min = lanes === "f64" ? MIN_F64 : MIN_F32;
    out.push(m.local.set(local, flushBelow(ctx, lanes, v, v, min)));
    return local;
  };
  const x = operand(a);
  const y = operand(b);
  const X = (): Expr => m.local.get(x, v128);
  const Y = (): Expr => m.local.get(y, v128);
  const lanes = width === "d" ? "f64" : "f32";
  const ops = width === "d" ? m.f64x2 : m.f32x4;
  const splat = (v: number): Expr =>
    width === "d" ? m.f64x2.splat(m.f64.const(v)) : m.f32x4.splat(m.f32.const(v));
  const scale = width === "d" ? SCALE_F64 : SCALE_F32;
  const min = width === "d" ? MIN_F64 : MIN_F32;
  const R = (): Expr => m.local.get(r, v128);
  let scaled: (() => Expr) | undefined;
  switch (op) {
    case SSE_OP.ADD:
      out.push(m.local.set(r, ops.add(X(), Y())));
      break;
    case SSE_OP.SUB:
      out.push(m.local.set(r, ops.sub(X(), Y())));
      break;
    case SSE_OP.MUL: {
      out.push(m.local.set(r, ops.mul(X(), Y())));
      const xSmaller = (): Expr => ops.lt(ops.abs(X()), ops.abs(Y()));
      scaled = () =>
        ops.mul(
          ops.mul(m.v128.bitselect(X(), Y(), xSmaller()), splat(scale)),
          m.v128.bitselect(Y(), X(), xSmaller()),
        );
      break;
    }
    case SSE_OP.DIV:
      out.push(m.local.set(r, ops.div(X(), Y())));
      scaled = () => ops.div(ops.mul(X(), splat(scale)), Y());
      break;
    case SSE_OP.SQRT:
      return [...out, m.local.set(r, ops.sqrt(Y()))];
    default: {
      // FROM_F64: cvtpd2ps, two doubles to the low singles.
      out.push(m.local.set(r, m.f32x4.demote_f64x2_zero(X())));
      const narrowedScaled = (): Expr =>
        m.f32x4.demote_f64x2_zero(m.f64x2.mul(X(), m.f64x2.splat(m.f64.const(SCALE_F32))));
      out.push(m.local.set(r, flushBelow(ctx, "f32", R, narrowedScaled, MIN_F32 * SCALE_F32)));
      return out;
    }
  }
  const test = scaled ?? R;
  out.push(
    m.local.set(r, flushBelow(ctx, lanes, R, test, scaled === undefined ? min : min * scale)),
  );
  return out;
}
