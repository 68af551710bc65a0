// SSE float results as MXCSR says to compute them. Wasm rounds to nearest
// and keeps denormals; MXCSR may ask for another rounding mode (RC), for
// denormal operands to count as zeros (DAZ) or for tiny results to become
// zeros (FTZ; -ffast-math programs set both at start-up). In a function
// lifted with checks (ctx.roundingChecked, see rounding-twins.ts), each
// rounding operation (arithmetic, square root, conversions to a float
// format) computes wasm's result inline, then, only when MXCSR is not in
// its default mode, replaces it with the result in that mode, which also
// raises the operation's MXCSR exception flags — from a shared wasm
// function for add, sub, mul, div and sqrt (sse-directed-wasm.ts), from
// kernel.sse for the rest and for what those leave out
// (sse-directed-ops.ts): always when RC is not nearest, and with FTZ or DAZ alone only when the result is tiny
// (at most the smallest normal) or an operand denormal, the only cases
// where they change anything. A NaN operand's propagation does not depend
// on the mode and stays wasm's (the CPU's). Without checks wasm's result
// stands: the function runs only while MXCSR is in its default mode and
// the program does not watch the flags (below).
//
// Exception flags: a checked function also hands an infinite or NaN result
// to the exact helper in every mode, which raises ZE, OE or IE (and PE) as
// the CPU does: 1/0, overflow, 0/0, ∞ − ∞, √−1. Checked functions run once
// the program has read or written MXCSR in a fenv function — one that reads
// the x87 exception state too, as feclearexcept, fetestexcept and
// feholdexcept do (STATE_FLAG_WATCH) — so flags raised before a program
// first clears or tests them are not seen. Other MXCSR accesses do not
// count: glibc's sin and cos read MXCSR on every call, fesetround and
// -ffast-math's start-up (FTZ and DAZ) write it, and none of them is about
// the flags. The fast versions cannot afford the check: on cpu-bench's
// nbody and matmul every way tried cost 1.7× to 2.5× (sse-exceptions.ts).
import { Mnemonic } from "iced-x86";
import type { FunctionContext } from "../emit/function-context.js";
import { f32, f64, i64, v128, type Expr } from "../emit/wasm.js";
import { FLAG_WATCH, STATE_FLAG_WATCH, STATE_MXCSR } from "../guest-layout.js";
import { encodeSse, SSE_OP, type SseOp } from "./sse-directed-ops.js";
import { directedHelper, SSE_IMPORT } from "./sse-directed-wasm.js";
import {
  denormalsAsZero,
  denormalsAsZeroPacked,
  flushedPacked,
  flushedScalar,
} from "./sse-flush.js";
import type { Width } from "./sse-operands.js";

const RC_MASK = 0x6000;
const DAZ = 0x40;
/** FTZ and DAZ with rounding to nearest: the mode the flush flavour runs in (sse-flush.ts). */
export const FLUSH_MODE = 0x8000 | DAZ;
/** RC, FTZ and DAZ: the MXCSR bits wasm's float operations do not honour. */
const MODE_MASK = RC_MASK | 0x8000 | DAZ;

/**
 * Whether this function checks RC per operation. One that does not must have
 * a checked twin to forward to (rounding-twins.ts picks the flavour from
 * ROUNDING_MNEMONICS): a rounding operation missing from that list would
 * otherwise round to nearest in a directed mode without a word, so it stops
 * the lift of its block instead (reported as unsupported, a trap).
 */
function checks(ctx: FunctionContext): boolean {
  if (!ctx.roundingChecked && !ctx.roundingTwin) {
    throw new Error(`${ctx.ins.text} rounds but is not in ROUNDING_MNEMONICS`);
  }
  return ctx.roundingChecked;
}

/** MXCSR's RC, FTZ and DAZ bits, zero in the default mode: one load, at the first use in a block. */
function floatMode(ctx: FunctionContext): Expr {
  return ctx.floatMode(() =>
    ctx.m.i32.and(ctx.m.i32.load(0, 4, ctx.w.c32(STATE_MXCSR)), ctx.w.c32(MODE_MASK)),
  );
}

/**
 * Non-zero when the float `x()` reads (of `type`; an integer is never) is
 * not zero and at most the smallest normal: a denormal operand DAZ flushes,
 * or a result FTZ may flush (the smallest normal too: the CPU flushes a
 * product that only rounding lifted to it).
 */
function tiny(ctx: FunctionContext, x: () => Expr, type: number): Expr {
  const m = ctx.m;
  if (type === f64) {
    const small = m.f64.le(m.f64.abs(x()), m.f64.const(2 ** -1022));
    return m.i32.and(small, m.f64.ne(x(), m.f64.const(0)));
  }
  if (type === f32) {
    const small = m.f32.le(m.f32.abs(x()), m.f32.const(2 ** -126));
    return m.i32.and(small, m.f32.ne(x(), m.f32.const(0)));
  }
  return ctx.w.c32(0);
}

/** Non-zero when the mode changes the result: RC is not nearest, or `suspect` (a tiny value) is. */
function modeMatters(ctx: FunctionContext, suspect: Expr): Expr {
  const m = ctx.m;
  return m.i32.or(m.i32.and(floatMode(ctx), ctx.w.c32(RC_MASK)), suspect);
}

/** A float operand as the i64 bits the hypercall takes (an f32 in the low half). */
function bits(ctx: FunctionContext, value: Expr, type: number): Expr {
  const m = ctx.m;
  if (type === f64) return m.i64.reinterpret(value);
  if (type === f32) return m.i64.extend_u(m.i32.reinterpret(value));
  return value; // an integer source, already i64
}

/**
 * `op` of `width` on `a` and `b` as MXCSR says: add, sub, mul, div and sqrt
 * through the shared wasm helper (sse-directed-wasm.ts), which falls back to
 * kernel.sse; conversions through kernel.sse itself. `float(i)` reads
 * operand i as a `width` float, `bits(i)` as kernel.sse's i64 bits.
 */
function directed(
  ctx: FunctionContext,
  op: SseOp,
  width: Width,
  float: (i: 0 | 1) => Expr,
  bits: (i: 0 | 1) => Expr,
): Expr {
  const m = ctx.m;
  const single = width === "s";
  const id = ctx.w.c32(encodeSse(op, single));
  if (op <= SSE_OP.SQRT) {
    return m.call(directedHelper(ctx.w, single), [id, float(0), float(1)], single ? f32 : f64);
  }
  const r = m.call(SSE_IMPORT, [id, bits(0), bits(1)], i64);
  return single ? m.f32.reinterpret(m.i32.wrap(r)) : m.f64.reinterpret(r);
}

export interface Operand {
  /** A local holding the operand. */
  readonly local: number;
  /** Its type: f64, f32, or i64 for FROM_INT's integer. */
  readonly type: number;
}

/**
 * The scalar `nearest` (of `width`, computed from `a` and `b` by `op`) or,
 * when MXCSR.RC says otherwise, the result rounded that way.
 */
export function rounded(
  ctx: FunctionContext,
  op: SseOp,
  width: Width,
  nearest: Expr,
  a: Operand,
  b?: Operand,
): Expr {
  if (ctx.flushing) return flushedScalar(ctx, op, width, nearest, a, b);
  if (!checks(ctx)) return nearest;
  const m = ctx.m;
  const type = width === "d" ? f64 : f32;
  const ops = width === "d" ? m.f64 : m.f32;
  const r = ctx.mutableLocal(nearest, type);
  const operand = (o: Operand | undefined): Expr =>
    o === undefined ? ctx.w.c64(0) : bits(ctx, ctx.get(o.local, o.type), o.type);
  /** An operand as a `type` float (the other operand of √ is not read). */
  const float = (o: Operand | undefined): Expr =>
    o !== undefined && o.type === type ? ctx.get(o.local, type) : ops.const(0);
  const isNumber = (local: number, t: number): Expr =>
    t === f64
      ? m.f64.eq(m.local.get(local, f64), m.local.get(local, f64))
      : t === f32
        ? m.f32.eq(m.local.get(local, f32), m.local.get(local, f32))
        : ctx.w.c32(1);
  const inputs = (op === SSE_OP.SQRT ? [b] : [a, b]).filter((o) => o !== undefined);
  const noNaNInput = (): Expr =>
    inputs.reduce<Expr>((all, o) => m.i32.and(all, isNumber(o.local, o.type)), ctx.w.c32(1));
  // A NaN result from NaN operands keeps wasm's propagation; one from an
  // invalid operation (0/0, ∞ − ∞, √−1) comes back as the default NaN with IE.
  const exact = (): Expr =>
    directed(
      ctx,
      op,
      width,
      (i) => float(i === 0 ? a : b),
      (i) => operand(i === 0 ? a : b),
    );
  const result = exact();
  const replace = m.local.set(r, result);
  const isRounded = (): Expr => m.i32.or(ops.eq(ctx.get(r, type), ctx.get(r, type)), noNaNInput());
  const rounds = isRounded();
  const suspect = [...inputs, { local: r, type }].reduce<Expr>(
    (any, o) =>
      m.i32.or(
        any,
        tiny(ctx, () => ctx.get(o.local, o.type), o.type),
      ),
    ctx.w.c32(0),
  );
  ctx.emit(m.if(floatMode(ctx), m.if(rounds, m.if(modeMatters(ctx, suspect), replace))));
  // In any mode, an infinite or NaN result gets the exact helper's flags.
  if (op !== SSE_OP.FROM_INT) {
    const special = m.i32.eqz(ops.lt(ops.abs(ctx.get(r, type)), ops.const(Infinity)));
    ctx.emit(m.if(special, m.if(isRounded(), m.local.set(r, exact()))));
  }
  return ctx.get(r, type);
}

/** A packed operand: a v128 local and the lane type its lanes are read as. */
export interface PackedOperand {
  readonly local: number;
  /** f64 or f32 lanes, or i32 lanes (cvtdq2ps, sign-extended to FROM_INT's i64). */
  readonly lanes: "f64" | "f32" | "i32";
}

/**
 * The packed `nearest` (lanes of `width`, lane i computed from lane i of `a`
 * and `b` by `op`) or, when MXCSR.RC says otherwise, each lane rounded that
 * way. `count` limits the lanes (cvtpd2ps fills two and zeroes the rest).
 */
export function roundedPacked(
  ctx: FunctionContext,
  op: SseOp,
  width: Width,
  nearest: Expr,
  a: PackedOperand,
  b?: PackedOperand,
  count = width === "d" ? 2 : 4,
): Expr {
  if (ctx.flushing) return flushedPacked(ctx, op, width, nearest, a, b);
  if (!checks(ctx)) return nearest;
  const m = ctx.m;
  const ops = width === "d" ? m.f64 : m.f32;
  const r = ctx.mutableLocal(nearest, v128);
  const lane = (o: PackedOperand | undefined, i: number): Expr => {
    if (o === undefined) return ctx.w.c64(0);
    const v = ctx.get(o.local, v128);
    if (o.lanes === "f64") return m.i64.reinterpret(m.f64x2.extract_lane(v, i));
    if (o.lanes === "f32") return m.i64.extend_u(m.i32x4.extract_lane(v, i));
    return m.i64.extend_s(m.i32x4.extract_lane(v, i));
  };
  /** Lane i of `o` as a `width` float (0 when it has none). */
  const laneFloat = (o: PackedOperand | undefined, i: number): Expr => {
    if (o === undefined || o.lanes !== (width === "d" ? "f64" : "f32")) return ops.const(0);
    const v = ctx.get(o.local, v128);
    return width === "d" ? m.f64x2.extract_lane(v, i) : m.f32x4.extract_lane(v, i);
  };
  const isNumber = (o: PackedOperand | undefined, i: number): Expr => {
    if (o === undefined || o.lanes === "i32") return ctx.w.c32(1);
    const v = (): Expr => ctx.get(o.local, v128);
    return o.lanes === "f64"
      ? m.f64.eq(m.f64x2.extract_lane(v(), i), m.f64x2.extract_lane(v(), i))
      : m.f32.eq(m.f32x4.extract_lane(v(), i), m.f32x4.extract_lane(v(), i));
  };
  const inputs = op === SSE_OP.SQRT ? [b] : [a, b];
  const laneType = width === "d" ? f64 : f32;
  /** Lane i of `o` as a float, for tiny(); an integer lane never is. */
  const tinyLane = (o: PackedOperand | undefined, i: number): Expr => {
    if (o === undefined || o.lanes === "i32") return ctx.w.c32(0);
    const t = o.lanes === "f64" ? f64 : f32;
    const v = (): Expr =>
      t === f64
        ? m.f64x2.extract_lane(ctx.get(o.local, v128), i)
        : m.f32x4.extract_lane(ctx.get(o.local, v128), i);
    return tiny(ctx, v, t);
  };
  const lanes: Expr[] = [];
  const specialLanes: Expr[] = [];
  for (let i = 0; i < count; i++) {
    const current = (): Expr =>
      width === "d"
        ? m.f64x2.extract_lane(ctx.get(r, v128), i)
        : m.f32x4.extract_lane(ctx.get(r, v128), i);
    const replaced = (): Expr => {
      const value = directed(
        ctx,
        op,
        width,
        (k) => laneFloat(k === 0 ? a : b, i),
        (k) => lane(k === 0 ? a : b, i),
      );
      return width === "d"
        ? m.f64x2.replace_lane(ctx.get(r, v128), i, value)
        : m.f32x4.replace_lane(ctx.get(r, v128), i, value);
    };
    const noNaNInput = (): Expr =>
      inputs.reduce<Expr>((all, o) => m.i32.and(all, isNumber(o, i)), ctx.w.c32(1));
    // As rounded(): NaN operands keep wasm's propagation, invalid operations go too.
    const rounds = (): Expr => m.i32.or(ops.eq(current(), current()), noNaNInput());
    const suspect = inputs.reduce<Expr>(
      (any, o) => m.i32.or(any, tinyLane(o, i)),
      tiny(ctx, current, laneType),
    );
    lanes.push(m.if(rounds(), m.if(modeMatters(ctx, suspect), m.local.set(r, replaced()))));
    // As rounded(): in any mode, an infinite or NaN lane gets the exact helper's flags.
    if (op !== SSE_OP.FROM_INT) {
      const special = m.i32.eqz(ops.lt(ops.abs(current()), ops.const(Infinity)));
      specialLanes.push(m.if(m.i32.and(special, rounds()), m.local.set(r, replaced())));
    }
  }
  ctx.emit(m.if(floatMode(ctx), m.block(null, lanes)));
  if (specialLanes.length > 0) {
    ctx.emit(m.if(anySpecialLane(ctx, width, ctx.get(r, v128)), m.block(null, specialLanes)));
  }
  return ctx.get(r, v128);
}

/** Non-zero when a lane of the packed `v` (doubles for "d", singles for "s") is infinite or NaN. */
function anySpecialLane(ctx: FunctionContext, width: Width, v: Expr): Expr {
  const m = ctx.m;
  const finite =
    width === "d"
      ? m.i64x2.all_true(m.f64x2.lt(m.f64x2.abs(v), m.f64x2.splat(m.f64.const(Infinity))))
      : m.i32x4.all_true(m.f32x4.lt(m.f32x4.abs(v), m.f32x4.splat(m.f32.const(Infinity))));
  return m.i32.eqz(finite);
}

/**
 * The scalar float `x` (of `type`) as an operation that rounds nothing
 * reads it (a comparison, min/max, cvtss2sd, a conversion to an integer):
 * with MXCSR.DAZ a denormal is a zero of its sign. Inline, only in a
 * function lifted with checks (DAZ_MNEMONICS give it a twin).
 */
export function dazScalar(ctx: FunctionContext, type: number, x: Expr): Expr {
  if (ctx.flushing) return denormalsAsZero(ctx, type, x);
  if (!checks(ctx)) return x;
  const v = ctx.let(x, type);
  const flushed = denormalsAsZero(ctx, type, ctx.get(v, type));
  return ctx.m.select(dazOn(ctx), flushed, ctx.get(v, type));
}

/** dazScalar() for each lane of a vector of `lanes` floats. */
export function dazPacked(ctx: FunctionContext, lanes: "f64" | "f32", x: Expr): Expr {
  if (ctx.flushing) return denormalsAsZeroPacked(ctx, lanes, x);
  if (!checks(ctx)) return x;
  const v = ctx.let(x, v128);
  const flushed = denormalsAsZeroPacked(ctx, lanes, ctx.get(v, v128));
  return ctx.m.select(dazOn(ctx), flushed, ctx.get(v, v128));
}

/** 1 when MXCSR.DAZ is set, else 0 (from the block's cached mode). */
function dazOn(ctx: FunctionContext): Expr {
  const m = ctx.m;
  return m.i32.ne(m.i32.and(floatMode(ctx), ctx.w.c32(DAZ)), ctx.w.c32(0));
}

/**
 * Non-zero when a function must run its checked flavour (a fresh load):
 * MXCSR is not in its default mode (RC not nearest, FTZ or DAZ: those
 * bits), or the program has written MXCSR (FLAG_WATCH).
 */
export function nonDefaultMode(ctx: FunctionContext): Expr {
  const m = ctx.m;
  const mode = m.i32.and(m.i32.load(0, 4, ctx.w.c32(STATE_MXCSR)), ctx.w.c32(MODE_MASK));
  return m.i32.or(mode, m.i32.load(0, 4, ctx.w.c32(STATE_FLAG_WATCH)));
}

/** Marks that the program watches MXCSR's flags (a fenv function's stmxcsr or ldmxcsr): they count from now on. */
export function watchFlags(ctx: FunctionContext): void {
  ctx.emit(ctx.m.i32.store(0, 4, ctx.w.c32(STATE_FLAG_WATCH), ctx.w.c32(FLAG_WATCH)));
}

/** The mnemonics whose results round (to a float format) through rounded()/roundedPacked(). */
export const ROUNDING_MNEMONICS: ReadonlySet<Mnemonic> = new Set([
  ...["Add", "Sub", "Mul", "Div", "Sqrt"].flatMap((op) =>
    ["sd", "ss", "pd", "ps"].map((w) => Mnemonic[`${op}${w}` as keyof typeof Mnemonic]),
  ),
  Mnemonic.Cvtsi2sd,
  Mnemonic.Cvtsi2ss,
  Mnemonic.Cvtsd2ss,
  Mnemonic.Cvtpd2ps,
  Mnemonic.Cvtdq2ps,
  Mnemonic.Haddps,
  Mnemonic.Haddpd,
  Mnemonic.Hsubps,
  Mnemonic.Hsubpd,
  Mnemonic.Addsubps,
  Mnemonic.Addsubpd,
  Mnemonic.Dpps,
  Mnemonic.Dppd,
]);

/**
 * The mnemonics that read float operands DAZ flushes but round nothing
 * (dazScalar()/dazPacked()): a function with them needs the checked twin
 * too. cmpsd also names the string compare, which merely gets a twin.
 */
export const DAZ_MNEMONICS: ReadonlySet<Mnemonic> = new Set([
  Mnemonic.Ucomisd,
  Mnemonic.Ucomiss,
  Mnemonic.Comisd,
  Mnemonic.Comiss,
  Mnemonic.Cmpsd,
  Mnemonic.Cmpss,
  Mnemonic.Cmppd,
  Mnemonic.Cmpps,
  Mnemonic.Minsd,
  Mnemonic.Minss,
  Mnemonic.Minpd,
  Mnemonic.Minps,
  Mnemonic.Maxsd,
  Mnemonic.Maxss,
  Mnemonic.Maxpd,
  Mnemonic.Maxps,
  Mnemonic.Cvtss2sd,
  Mnemonic.Cvtps2pd,
  Mnemonic.Cvtsd2si,
  Mnemonic.Cvtss2si,
  Mnemonic.Cvttsd2si,
  Mnemonic.Cvttss2si,
  Mnemonic.Cvtpd2dq,
  Mnemonic.Cvttpd2dq,
  Mnemonic.Cvtps2dq,
  Mnemonic.Cvttps2dq,
  Mnemonic.Roundsd,
  Mnemonic.Roundss,
  Mnemonic.Roundpd,
  Mnemonic.Roundps,
]);

/** Instructions that read the x87 exception flags: with stmxcsr, the mark of a fenv function. */
export const X87_STATUS_READERS: ReadonlySet<Mnemonic> = new Set([
  Mnemonic.Fnstsw,
  Mnemonic.Fstsw,
  Mnemonic.Fnstenv,
  Mnemonic.Fstenv,
]);

/** Instructions that write MXCSR, so RC may change inside a function. */
export const MXCSR_WRITERS: ReadonlySet<Mnemonic> = new Set([
  Mnemonic.Ldmxcsr,
  Mnemonic.Fxrstor,
  Mnemonic.Fxrstor64,
  Mnemonic.Xrstor,
  Mnemonic.Xrstor64,
]);
