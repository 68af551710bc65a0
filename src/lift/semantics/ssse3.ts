// SSSE3 integer forms on wasm SIMD (SDM Vol. 1 §12.9, Vol. 2): horizontal
// add and subtract (wrapping and saturating), psign, pmaddubsw and
// pmulhrsw. pshufb, palignr and pabs* are in sse.ts and sse-arith.ts.
import { Mnemonic } from "iced-x86";
import type { FunctionContext } from "../emit/function-context.js";
import { v128, type Expr } from "../emit/wasm.js";
import { readV, shuffle, writeV, zeroV } from "./sse-operands.js";
import type { SemanticsEntry } from "./types.js";

type Lanes = "i16x8" | "i32x4";

/**
 * The even (odd = false) or odd lanes of dst then of src, as one vector:
 * phaddw's operands are these two vectors, lane by lane.
 */
function alternate(
  ctx: FunctionContext,
  dst: number,
  src: number,
  bytes: 2 | 4,
  odd: boolean,
): Expr {
  const half = 8 / bytes; // lanes taken from each source
  return shuffle(ctx, ctx.get(dst, v128), ctx.get(src, v128), (i) => {
    const lane = Math.floor(i / bytes);
    const from = lane < half ? 0 : 16;
    return from + (2 * (lane % half) + (odd ? 1 : 0)) * bytes + (i % bytes);
  });
}

/** phaddw/phaddd/phaddsw/phsubw/phsubd/phsubsw: adjacent lane pairs of dst then src, even op odd. */
function horizontal(lanes: Lanes, op: "add" | "sub" | "add_saturate_s" | "sub_saturate_s") {
  return (ctx: FunctionContext): void => {
    const dst = ctx.let(readV(ctx, 0), v128);
    const src = ctx.let(readV(ctx, 1), v128);
    const bytes = lanes === "i16x8" ? 2 : 4;
    const even = alternate(ctx, dst, src, bytes, false);
    const odd = alternate(ctx, dst, src, bytes, true);
    const ops = ctx.m[lanes] as unknown as Record<typeof op, (a: Expr, b: Expr) => Expr>;
    writeV(ctx, 0, ops[op](even, odd));
  };
}

/** psignb/psignw/psignd: dst lane negated where src's is negative, zeroed where it is zero. */
function psign(lanes: "i8x16" | Lanes) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const ops = m[lanes];
    const dst = ctx.let(readV(ctx, 0), v128);
    const src = ctx.let(readV(ctx, 1), v128);
    const negative = ops.lt_s(ctx.get(src, v128), zeroV(ctx));
    const signed = m.v128.bitselect(ops.neg(ctx.get(dst, v128)), ctx.get(dst, v128), negative);
    writeV(ctx, 0, m.v128.andnot(signed, ops.eq(ctx.get(src, v128), zeroV(ctx))));
  };
}

/**
 * pmaddubsw: unsigned bytes of dst times signed bytes of src, adjacent
 * products added with signed saturation into words.
 */
function pmaddubsw(ctx: FunctionContext): void {
  const m = ctx.m;
  const w = ctx.w;
  const dst = ctx.let(readV(ctx, 0), v128);
  const src = ctx.let(readV(ctx, 1), v128);
  const low = (): Expr => m.v128.const(Array.from({ length: 16 }, (_, i) => (i % 2 ? 0 : 0xff)));
  const evenU = m.v128.and(ctx.get(dst, v128), low());
  const oddU = m.i16x8.shr_u(ctx.get(dst, v128), w.c32(8));
  const evenS = m.i16x8.shr_s(m.i16x8.shl(ctx.get(src, v128), w.c32(8)), w.c32(8));
  const oddS = m.i16x8.shr_s(ctx.get(src, v128), w.c32(8));
  // Each product is within [−32640, 32385]: only the sum can saturate.
  writeV(ctx, 0, m.i16x8.add_saturate_s(m.i16x8.mul(evenU, evenS), m.i16x8.mul(oddU, oddS)));
}

/**
 * pmulhrsw: (a·b + 2^14) >> 15 per signed word. Wasm's q15mulr saturates
 * the one overflowing case, −32768 · −32768, to 7FFFH where the CPU wraps
 * to 8000H.
 */
function pmulhrsw(ctx: FunctionContext): void {
  const m = ctx.m;
  const a = ctx.let(readV(ctx, 0), v128);
  const b = ctx.let(readV(ctx, 1), v128);
  const min = (): Expr => m.i16x8.splat(ctx.w.c32(0x8000));
  const bothMin = m.v128.and(
    m.i16x8.eq(ctx.get(a, v128), min()),
    m.i16x8.eq(ctx.get(b, v128), min()),
  );
  const rounded = m.i16x8.q15mulr_sat_s(ctx.get(a, v128), ctx.get(b, v128));
  writeV(ctx, 0, m.v128.bitselect(min(), rounded, bothMin));
}

export const ssse3Semantics: readonly SemanticsEntry[] = [
  [Mnemonic.Phaddw, horizontal("i16x8", "add")],
  [Mnemonic.Phaddd, horizontal("i32x4", "add")],
  [Mnemonic.Phaddsw, horizontal("i16x8", "add_saturate_s")],
  [Mnemonic.Phsubw, horizontal("i16x8", "sub")],
  [Mnemonic.Phsubd, horizontal("i32x4", "sub")],
  [Mnemonic.Phsubsw, horizontal("i16x8", "sub_saturate_s")],
  [Mnemonic.Psignb, psign("i8x16")],
  [Mnemonic.Psignw, psign("i16x8")],
  [Mnemonic.Psignd, psign("i32x4")],
  [Mnemonic.Pmaddubsw, pmaddubsw],
  [Mnemonic.Pmulhrsw, pmulhrsw],
];
