// SSE/SSE2 conversions between floats and integers and between the float
// formats (SDM Vol. 2A "CVTSI2SD" … "CVTPD2PS"; the packed ones to dwords
// are in sse-arith.ts). Conversions to integers round by MXCSR.RC inline;
// conversions to floats round through sse-directed.ts.
import { Mnemonic } from "iced-x86";
import type { FunctionContext } from "../emit/function-context.js";
import { f32, f64, i32, i64, v128, type Expr } from "../emit/wasm.js";
import { dazPacked, dazScalar, rounded, roundedPacked } from "./sse-directed.js";
import { SSE_OP } from "./sse-directed-ops.js";
import { raiseInvalidIf } from "./sse-exceptions.js";
import { readV, scalar, setLow, writeV, type Width } from "./sse-operands.js";
import { roundByMxcsr } from "./sse-rounding.js";
import type { SemanticsEntry } from "./types.js";

/**
 * cvtsi2sd/cvtsi2ss: integer (32/64-bit GPR or memory) → low lane, rounded
 * as MXCSR.RC says where the integer has more bits than the significand.
 */
function fromInt(width: Width) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const size = ctx.operandSize(1);
    const v = ctx.let(ctx.w.signExtend(ctx.read(1, size), size));
    const nearest =
      width === "d" ? m.f64.convert_s.i64(ctx.get(v)) : m.f32.convert_s.i64(ctx.get(v));
    const exact = width === "d" && size === 4;
    const value = exact
      ? nearest
      : rounded(ctx, SSE_OP.FROM_INT, width, nearest, { local: v, type: i64 });
    setLow(ctx, width, value);
  };
}

/** cvt(t)sd2si/cvt(t)ss2si: out-of-range and NaN give the "integer indefinite" 0x80…0 and IE. */
function toInt(width: Width, truncate: boolean) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const w = ctx.w;
    const size = ctx.operandSize(0);
    let x: Expr = dazScalar(ctx, width === "d" ? f64 : f32, scalar(ctx, 1, width));
    if (!truncate) x = roundByMxcsr(ctx, width, x);
    const v = ctx.let(width === "d" ? x : m.f64.promote(x), f64);
    const limit = size === 8 ? 9223372036854775808 : 2147483648;
    const inRange = ctx.let(
      m.i32.and(
        m.f64.ge(ctx.get(v, f64), m.f64.const(-limit)),
        m.f64.lt(ctx.get(v, f64), m.f64.const(limit)),
      ),
      i32,
    );
    raiseInvalidIf(ctx, m.i32.eqz(ctx.get(inRange, i32)));
    const indefinite = size === 8 ? w.c64(-(1n << 63n)) : w.c64(0x80000000);
    const converted = m.i64.trunc_s_sat.f64(ctx.get(v, f64));
    ctx.write(0, m.select(ctx.get(inRange, i32), converted, indefinite));
  };
}

/** cvtss2sd (exact) and cvtsd2ss (rounded as MXCSR.RC says). */
function cvtScalar(from: Width) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    if (from === "s") {
      return setLow(ctx, "d", m.f64.promote(dazScalar(ctx, f32, scalar(ctx, 1, "s"))));
    }
    const v = ctx.let(scalar(ctx, 1, "d"), f64);
    const nearest = m.f32.demote(ctx.get(v, f64));
    setLow(ctx, "s", rounded(ctx, SSE_OP.FROM_F64, "s", nearest, { local: v, type: f64 }));
  };
}

/** cvtpd2ps: two doubles to the low floats, the high quadword zeroed; cvtdq2ps: four int32s. */
function toPackedSingle(from: "f64" | "i32") {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const source = ctx.let(readV(ctx, 1), v128);
    const v = ctx.get(source, v128);
    const nearest = from === "f64" ? m.f32x4.demote_f64x2_zero(v) : m.f32x4.convert_i32x4_s(v);
    const op = from === "f64" ? SSE_OP.FROM_F64 : SSE_OP.FROM_INT;
    const count = from === "f64" ? 2 : 4;
    writeV(
      ctx,
      0,
      roundedPacked(ctx, op, "s", nearest, { local: source, lanes: from }, undefined, count),
    );
  };
}

export const sseConvertSemantics: readonly SemanticsEntry[] = [
  [Mnemonic.Cvtsi2sd, fromInt("d")],
  [Mnemonic.Cvtsi2ss, fromInt("s")],
  [Mnemonic.Cvttsd2si, toInt("d", true)],
  [Mnemonic.Cvttss2si, toInt("s", true)],
  [Mnemonic.Cvtsd2si, toInt("d", false)],
  [Mnemonic.Cvtss2si, toInt("s", false)],
  [Mnemonic.Cvtsd2ss, cvtScalar("d")],
  [Mnemonic.Cvtss2sd, cvtScalar("s")],
  [Mnemonic.Cvtdq2pd, (c) => writeV(c, 0, c.m.f64x2.convert_low_i32x4_s(readV(c, 1)))],
  [Mnemonic.Cvtdq2ps, toPackedSingle("i32")],
  [
    Mnemonic.Cvtps2pd,
    (c) => writeV(c, 0, c.m.f64x2.promote_low_f32x4(dazPacked(c, "f32", readV(c, 1)))),
  ],
  [Mnemonic.Cvtpd2ps, toPackedSingle("f64")],
];
