// div and idiv (SDM Vol. 2A "DIV", "IDIV"): rDX:rAX (AX for bytes) divided
// by r/m, quotient to rAX (AL), remainder to rDX (AH). A zero divisor or a
// quotient that does not fit the operand size raises #DE, which Linux turns
// into SIGFPE; the lifted code stops there with a clear trap instead of a
// wasm "integer divide by zero" or, worse, a silently truncated quotient.
// The 128-by-64 forms take one wasm division when rDX only extends rAX and
// otherwise call a shared shift-and-subtract routine (udiv128 below).
import binaryen from "binaryen";
import { ALL_FLAGS } from "../emit/flags.js";
import type { FunctionContext } from "../emit/function-context.js";
import { i32, i64, type Expr, type Size, type Wasm } from "../emit/wasm.js";

const UDIV128 = "megalift_udiv128";
const UDIV128_REMAINDER = "megalift_udiv128_remainder";
const INT64_MIN = -(1n << 63n);

/**
 * Adds, once per module, udiv128(hi, lo, d) → quotient of the unsigned
 * 128-bit hi:lo by d, leaving the remainder in a global. Needs hi < d (the
 * callers check it: otherwise the quotient has more than 64 bits, #DE).
 * Knuth's Algorithm D with two 32-bit quotient digits (TAOCP 4.3.1;
 * Warren, "Hacker's Delight", 2nd ed., §9-4 divlu): normalise d so its top
 * bit is set, estimate each digit with one 64-by-32 wasm division, correct
 * the estimate at most twice. It replaced a restoring loop of 64 steps,
 * one quotient bit each: glibc's printf("%f") (mpn division) spent most of
 * its time there.
 */
function ensureUdiv128(w: Wasm): void {
  const m = w.m;
  if (m.getFunction(UDIV128) !== 0) return;
  m.addGlobal(UDIV128_REMAINDER, i64, true, w.c64(0));
  const [hi, lo, d, shift, vn1, vn0, un32, un1, un0, q1, q0, rhat, un21] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
  ];
  const get = (l: number): Expr => m.local.get(l, i64);
  const set = (l: number, v: Expr): Expr => m.local.set(l, v);
  const c64 = (v: number | bigint): Expr => w.c64(v);
  const B = 2n ** 32n;
  const low32 = (v: Expr): Expr => m.i64.and(v, c64(0xffffffffn));
  /**
   * One quotient digit: q = top / vn1 and its remainder rhat, then while
   * q ≥ b or q·vn0 > rhat·b + next, q − 1 (rhat + vn1, until rhat ≥ b).
   */
  const digit = (q: number, top: number, next: number): Expr[] => [
    set(q, m.i64.div_u(get(top), get(vn1))),
    set(rhat, m.i64.rem_u(get(top), get(vn1))),
    m.loop(
      `correct${q}`,
      m.if(
        m.i32.or(
          m.i64.ge_u(get(q), c64(B)),
          m.i64.gt_u(
            m.i64.mul(get(q), get(vn0)),
            m.i64.or(m.i64.shl(get(rhat), c64(32)), get(next)),
          ),
        ),
        m.block(null, [
          set(q, m.i64.sub(get(q), c64(1))),
          set(rhat, m.i64.add(get(rhat), get(vn1))),
          m.br(`correct${q}`, m.i64.lt_u(get(rhat), c64(B))),
        ]),
      ),
    ),
  ];
  const body = m.block(
    null,
    [
      set(shift, m.i64.clz(get(d))),
      set(d, m.i64.shl(get(d), get(shift))),
      set(vn1, m.i64.shr_u(get(d), c64(32))),
      set(vn0, low32(get(d))),
      // hi:lo shifted as far; a shift of 0 takes nothing from lo (wasm shifts are mod 64).
      set(
        un32,
        m.i64.or(
          m.i64.shl(get(hi), get(shift)),
          m.select(
            m.i64.eqz(get(shift)),
            c64(0),
            m.i64.shr_u(get(lo), m.i64.sub(c64(64), get(shift))),
          ),
        ),
      ),
      set(lo, m.i64.shl(get(lo), get(shift))),
      set(un1, m.i64.shr_u(get(lo), c64(32))),
      set(un0, low32(get(lo))),
      ...digit(q1, un32, un1),
      // The partial remainder un32:un1 − q1·d: less than d, so it wraps to its value.
      set(
        un21,
        m.i64.sub(m.i64.or(m.i64.shl(get(un32), c64(32)), get(un1)), m.i64.mul(get(q1), get(d))),
      ),
      ...digit(q0, un21, un0),
      m.global.set(
        UDIV128_REMAINDER,
        m.i64.shr_u(
          m.i64.sub(m.i64.or(m.i64.shl(get(un21), c64(32)), get(un0)), m.i64.mul(get(q0), get(d))),
          get(shift),
        ),
      ),
      m.i64.or(m.i64.shl(get(q1), c64(32)), get(q0)),
    ],
    i64,
  );
  m.addFunction(
    UDIV128,
    binaryen.createType([i64, i64, i64]),
    i64,
    new Array<number>(10).fill(i64),
    body,
  );
}

/**
 * A call of udiv128 (added to the module if needed): hi:lo ÷ d with hi < d,
 * and the remainder, to be read right after the call (x87-wasm-arith.ts).
 */
export function udiv128(
  w: Wasm,
  hi: Expr,
  lo: Expr,
  d: Expr,
): { quotient: Expr; remainder: () => Expr } {
  ensureUdiv128(w);
  return {
    quotient: w.m.call(UDIV128, [hi, lo, d], i64),
    remainder: () => w.m.global.get(UDIV128_REMAINDER, i64),
  };
}

function divideError(ctx: FunctionContext, condition: Expr, why: string): void {
  ctx.emit(ctx.m.if(condition, ctx.trap(`divide error (#DE, SIGFPE on Linux): ${why}`)));
}

/** 128-by-64 unsigned: quotient and remainder locals of hi:lo ÷ d (d ≠ 0, hi < d checked by caller). */
function unsigned128(ctx: FunctionContext, hi: number, lo: number, d: number): [number, number] {
  const m = ctx.m;
  ensureUdiv128(ctx.w);
  const q = ctx.temp(i64);
  const r = ctx.temp(i64);
  ctx.emit(
    m.if(
      m.i64.eqz(ctx.get(hi)),
      ctx.w.block([
        m.local.set(q, m.i64.div_u(ctx.get(lo), ctx.get(d))),
        m.local.set(r, m.i64.rem_u(ctx.get(lo), ctx.get(d))),
      ]),
      ctx.w.block([
        m.local.set(q, m.call(UDIV128, [ctx.get(hi), ctx.get(lo), ctx.get(d)], i64)),
        m.local.set(r, m.global.get(UDIV128_REMAINDER, i64)),
      ]),
    ),
  );
  return [q, r];
}

function divide64(ctx: FunctionContext, signed: boolean): void {
  const m = ctx.m;
  const w = ctx.w;
  const src = ctx.let(ctx.read(0));
  const hi = ctx.let(ctx.gpr(2));
  const lo = ctx.let(ctx.gpr(0));
  divideError(ctx, m.i64.eqz(ctx.get(src)), "division by zero");
  if (!signed) {
    divideError(ctx, m.i64.ge_u(ctx.get(hi), ctx.get(src)), "quotient does not fit 64 bits");
    const [q, r] = unsigned128(ctx, hi, lo, src);
    ctx.setGpr(0, ctx.get(q));
    ctx.setGpr(2, ctx.get(r));
    return;
  }
  // Signed: divide magnitudes, then give the quotient the XOR of the signs
  // and the remainder the dividend's sign (truncation toward zero).
  const negative = ctx.let(m.i64.lt_s(ctx.get(hi), w.c64(0)), i32);
  const divisorNegative = ctx.let(m.i64.lt_s(ctx.get(src), w.c64(0)), i32);
  const absLo = ctx.let(
    m.select(ctx.get(negative, i32), m.i64.sub(w.c64(0), ctx.get(lo)), ctx.get(lo)),
  );
  // −(hi:lo) = (NOT hi + carry):(−lo), the carry being 1 when lo = 0.
  const absHi = ctx.let(
    m.select(
      ctx.get(negative, i32),
      m.i64.add(m.i64.xor(ctx.get(hi), w.c64(-1n)), m.i64.extend_u(m.i64.eqz(ctx.get(lo)))),
      ctx.get(hi),
    ),
  );
  const absD = ctx.let(
    m.select(ctx.get(divisorNegative, i32), m.i64.sub(w.c64(0), ctx.get(src)), ctx.get(src)),
  );
  divideError(ctx, m.i64.ge_u(ctx.get(absHi), ctx.get(absD)), "quotient does not fit 64 bits");
  const [uq, ur] = unsigned128(ctx, absHi, absLo, absD);
  const quotientNegative = ctx.let(
    m.i32.xor(ctx.get(negative, i32), ctx.get(divisorNegative, i32)),
    i32,
  );
  // The magnitude limit is 2^63 for a negative quotient and 2^63 − 1 otherwise.
  const limit = m.select(ctx.get(quotientNegative, i32), w.c64(INT64_MIN), w.c64((1n << 63n) - 1n));
  divideError(ctx, m.i64.gt_u(ctx.get(uq), limit), "quotient does not fit 64 bits");
  const q = m.select(ctx.get(quotientNegative, i32), m.i64.sub(w.c64(0), ctx.get(uq)), ctx.get(uq));
  const r = m.select(ctx.get(negative, i32), m.i64.sub(w.c64(0), ctx.get(ur)), ctx.get(ur));
  const qv = ctx.let(q);
  const rv = ctx.let(r);
  ctx.setGpr(0, ctx.get(qv));
  ctx.setGpr(2, ctx.get(rv));
}

/** The register of GPR `index` with `size` bytes (16/32-bit forms). */
const sizedGpr = (size: Size, index: number): number => (size === 4 ? 37 : 21) + index;

function divideNarrow(ctx: FunctionContext, signed: boolean, size: 1 | 2 | 4): void {
  const m = ctx.m;
  const w = ctx.w;
  const bits = size * 8;
  const src = ctx.let(signed ? w.signExtend(ctx.read(0), size) : ctx.read(0));
  const dividend =
    size === 1
      ? w.truncate(ctx.gpr(0), 2)
      : m.i64.or(
          w.truncate(ctx.gpr(0), size),
          m.i64.shl(w.truncate(ctx.gpr(2), size), w.c64(bits)),
        );
  const d = ctx.let(signed ? w.signExtend(dividend, (size * 2) as Size) : dividend);
  divideError(ctx, m.i64.eqz(ctx.get(src)), "division by zero");
  if (signed && size === 4) {
    // The one i64 division wasm refuses (it traps): also a #DE here.
    const intMinByMinusOne = m.i32.and(
      m.i64.eq(ctx.get(d), w.c64(INT64_MIN)),
      m.i64.eq(ctx.get(src), w.c64(-1n)),
    );
    divideError(ctx, intMinByMinusOne, `quotient does not fit ${bits} bits`);
  }
  const q = ctx.let(
    signed ? m.i64.div_s(ctx.get(d), ctx.get(src)) : m.i64.div_u(ctx.get(d), ctx.get(src)),
  );
  const r = ctx.let(
    signed ? m.i64.rem_s(ctx.get(d), ctx.get(src)) : m.i64.rem_u(ctx.get(d), ctx.get(src)),
  );
  const fits = signed
    ? m.i64.eq(w.signExtend(ctx.get(q), size), ctx.get(q))
    : m.i64.le_u(ctx.get(q), w.mask(size));
  divideError(ctx, m.i32.eqz(fits), `quotient does not fit ${bits} bits`);
  if (size === 1) {
    const ax = m.i64.or(w.truncate(ctx.get(q), 1), m.i64.shl(w.truncate(ctx.get(r), 1), w.c64(8)));
    ctx.writeReg(sizedGpr(2, 0), ax);
    return;
  }
  ctx.writeReg(sizedGpr(size, 0), ctx.get(q));
  ctx.writeReg(sizedGpr(size, 2), ctx.get(r));
}

/** div/idiv for every operand size; the flags are undefined after it and read as 0 here. */
export function divide(signed: boolean) {
  return (ctx: FunctionContext): void => {
    const size = ctx.operandSize(0);
    if (size === 8) divide64(ctx, signed);
    else divideNarrow(ctx, signed, size);
    ctx.clearFlags(ALL_FLAGS);
  };
}
