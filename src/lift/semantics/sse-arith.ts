// More SSE2/SSSE3 integer forms on wasm SIMD (SDM Vol. 1 §11.4.4, Vol. 2):
// saturating byte and word add/subtract, psadbw, pmaddwd, pabs*, word
// insert/extract, movnti, maskmovdqu, and the packed conversions to dwords
// (cvt(t)pd2dq, cvt(t)ps2dq), whose out-of-range lanes differ from wasm's
// saturation. sse.ts holds the common moves,
// compares and shuffles; this file the rest that libc and busybox reach.
import { Mnemonic } from "iced-x86";
import type { FunctionContext } from "../emit/function-context.js";
import { f64, i32, v128, type Expr } from "../emit/wasm.js";
import { dazPacked } from "./sse-directed.js";
import { raiseInvalidIf } from "./sse-exceptions.js";
import { imm8, readV, shuffle, writeV, zeroV } from "./sse-operands.js";
import { roundPackedByMxcsr } from "./sse-rounding.js";
import type { SemanticsEntry } from "./types.js";

function binary(op: (ctx: FunctionContext, a: Expr, b: Expr) => Expr) {
  return (ctx: FunctionContext): void => writeV(ctx, 0, op(ctx, readV(ctx, 0), readV(ctx, 1)));
}

function unary(op: (ctx: FunctionContext, a: Expr) => Expr) {
  return (ctx: FunctionContext): void => writeV(ctx, 0, op(ctx, readV(ctx, 1)));
}

/**
 * psadbw: per 64-bit half, the sum of |a − b| over its 8 unsigned bytes, in
 * the low word of that half; the rest is zero (SDM Vol. 2B "PSADBW").
 */
function psadbw(ctx: FunctionContext): void {
  const m = ctx.m;
  const a = ctx.let(readV(ctx, 0), v128);
  const b = ctx.let(readV(ctx, 1), v128);
  const difference = m.v128.or(
    m.i8x16.sub_saturate_u(ctx.get(a, v128), ctx.get(b, v128)),
    m.i8x16.sub_saturate_u(ctx.get(b, v128), ctx.get(a, v128)),
  );
  const quads = ctx.let(
    m.i32x4.extadd_pairwise_i16x8_u(m.i16x8.extadd_pairwise_i8x16_u(difference)),
    v128,
  );
  // Dwords 1 and 3 moved onto 0 and 2, added, and the odd dwords cleared.
  const odd = shuffle(ctx, ctx.get(quads, v128), zeroV(ctx), (i) => (i % 8 < 4 ? i + 4 : 16));
  const sums = m.i32x4.add(m.v128.and(ctx.get(quads, v128), lowDwords(ctx)), odd);
  writeV(ctx, 0, sums);
}

const lowDwords = (ctx: FunctionContext): Expr =>
  ctx.m.v128.const([255, 255, 255, 255, 0, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0]);

/** pmaddwd: signed word products, adjacent pairs added into dwords (SDM Vol. 2B "PMADDWD"). */
function pmaddwd(ctx: FunctionContext): void {
  writeV(ctx, 0, ctx.m.i32x4.dot_i16x8_s(readV(ctx, 0), readV(ctx, 1)));
}

/** pextrw r32/r64/m16, xmm, imm8: word imm8[2:0], zero-extended. */
function pextrw(ctx: FunctionContext): void {
  const word = ctx.m.i64.extend_u(ctx.m.i16x8.extract_lane_u(readV(ctx, 1), imm8(ctx) & 7));
  if (ctx.ins.operands[0]?.kind === "mem")
    ctx.emit(ctx.w.store(2, ctx.pointer(ctx.memory()), word));
  else ctx.write(0, word);
}

/** pinsrw xmm, r32/m16, imm8: replaces word imm8[2:0]. */
function pinsrw(ctx: FunctionContext): void {
  const value = ctx.m.i32.wrap(ctx.read(1, 2));
  writeV(ctx, 0, ctx.m.i16x8.replace_lane(readV(ctx, 0), imm8(ctx) & 7, value));
}

/** movnti: a plain store (the non-temporal hint means nothing here). */
function movnti(ctx: FunctionContext): void {
  ctx.write(0, ctx.read(1));
}

/**
 * cvttpd2dq/cvtpd2dq: two doubles truncated (or rounded as MXCSR.RC says)
 * to int32 in the low dwords, the high quadword zeroed. NaN and
 * out-of-range values give the "integer indefinite" 80000000H (SDM Vol. 1
 * §4.8.3.7), not wasm's saturation, and raise IE.
 */
function pd2dq(truncate: boolean) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const w = ctx.w;
    let source = dazPacked(ctx, "f64", readV(ctx, 1));
    if (!truncate) source = roundPackedByMxcsr(ctx, "d", source);
    const lanes = ctx.let(source, v128);
    let result: Expr = zeroV(ctx);
    let outside: Expr = w.c32(0);
    for (const lane of [0, 1]) {
      const x = ctx.let(m.f64x2.extract_lane(ctx.get(lanes, v128), lane), f64);
      const inRange = ctx.let(
        m.i32.and(
          m.f64.gt(ctx.get(x, f64), m.f64.const(-2147483649)),
          m.f64.lt(ctx.get(x, f64), m.f64.const(2147483648)),
        ),
        i32,
      );
      const converted = m.select(
        ctx.get(inRange, i32),
        m.i32.trunc_s_sat.f64(ctx.get(x, f64)),
        w.c32(0x80000000),
      );
      result = m.i32x4.replace_lane(result, lane, converted);
      outside = m.i32.or(outside, m.i32.eqz(ctx.get(inRange, i32)));
    }
    raiseInvalidIf(ctx, outside);
    writeV(ctx, 0, result);
  };
}

/**
 * cvttps2dq/cvtps2dq: a NaN or out-of-range lane gives the "integer
 * indefinite" 0x80000000 (SDM Vol. 2A "CVTTPS2DQ") and IE, where wasm's
 * saturating truncation gives 0 for NaN and 0x7fffffff above the range.
 */
function ps2dq(truncate: boolean) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    let source = dazPacked(ctx, "f32", readV(ctx, 1));
    if (!truncate) source = roundPackedByMxcsr(ctx, "s", source);
    const x = ctx.let(source, v128);
    const limit = (v: number): Expr => m.f32x4.splat(m.f32.const(v));
    const inRange = ctx.let(
      m.v128.and(
        m.f32x4.ge(ctx.get(x, v128), limit(-2147483648)),
        m.f32x4.lt(ctx.get(x, v128), limit(2147483648)),
      ),
      v128,
    );
    raiseInvalidIf(ctx, m.i32.eqz(m.i32x4.all_true(ctx.get(inRange, v128))));
    const indefinite = m.i32x4.splat(ctx.w.c32(0x80000000));
    const converted = m.i32x4.trunc_sat_f32x4_s(ctx.get(x, v128));
    writeV(ctx, 0, m.v128.bitselect(converted, indefinite, ctx.get(inRange, v128)));
  };
}

/**
 * maskmovdqu: the bytes of the first operand whose mask byte (second
 * operand) has its top bit set, stored at [RDI]; the other bytes are
 * rewritten with what they held.
 */
function maskmovdqu(ctx: FunctionContext): void {
  const m = ctx.m;
  const ptr = ctx.let(ctx.pointer(ctx.memory()), i32);
  const select = m.i8x16.lt_s(readV(ctx, 2), zeroV(ctx));
  const merged = m.v128.bitselect(readV(ctx, 1), ctx.w.loadV128(ctx.get(ptr, i32)), select);
  ctx.emit(ctx.w.storeV128(ctx.get(ptr, i32), merged));
}

export const sseArithSemantics: readonly SemanticsEntry[] = [
  [Mnemonic.Paddsb, binary((c, a, b) => c.m.i8x16.add_saturate_s(a, b))],
  [Mnemonic.Paddsw, binary((c, a, b) => c.m.i16x8.add_saturate_s(a, b))],
  [Mnemonic.Paddusw, binary((c, a, b) => c.m.i16x8.add_saturate_u(a, b))],
  [Mnemonic.Psubsb, binary((c, a, b) => c.m.i8x16.sub_saturate_s(a, b))],
  [Mnemonic.Psubsw, binary((c, a, b) => c.m.i16x8.sub_saturate_s(a, b))],
  [Mnemonic.Psubusw, binary((c, a, b) => c.m.i16x8.sub_saturate_u(a, b))],
  [Mnemonic.Pabsb, unary((c, a) => c.m.i8x16.abs(a))],
  [Mnemonic.Pabsw, unary((c, a) => c.m.i16x8.abs(a))],
  [Mnemonic.Pabsd, unary((c, a) => c.m.i32x4.abs(a))],
  [Mnemonic.Psadbw, psadbw],
  [Mnemonic.Pmaddwd, pmaddwd],
  [Mnemonic.Pextrw, pextrw],
  [Mnemonic.Pinsrw, pinsrw],
  [Mnemonic.Movnti, movnti],
  [Mnemonic.Cvttpd2dq, pd2dq(true)],
  [Mnemonic.Cvtpd2dq, pd2dq(false)],
  [Mnemonic.Cvttps2dq, ps2dq(true)],
  [Mnemonic.Cvtps2dq, ps2dq(false)],
  [Mnemonic.Maskmovdqu, maskmovdqu],
];
