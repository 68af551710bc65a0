// Packed float forms beyond plain arithmetic (SDM Vol. 1 §10.4, §11.4,
// §12.4, §12.10): compare-to-mask (cmpps/cmppd), the SSE3 duplicating
// moves and horizontal/alternating add and subtract, the SSE4.1 dot
// products, and the reciprocal approximations rcpps/rsqrtps (and their
// scalar forms). Every result is the same on every host, as a lifted
// program's must be; sums, differences and products round as MXCSR.RC says
// (sse-directed.ts).
import { Mnemonic } from "iced-x86";
import type { FunctionContext } from "../emit/function-context.js";
import { f32, f64, v128, type Expr } from "../emit/wasm.js";
import { dazPacked, rounded, roundedPacked } from "./sse-directed.js";
import { comparePredicate } from "./sse-float.js";
import { SSE_OP, type SseOp } from "./sse-directed-ops.js";
import { raiseInvalidIf, signalingPredicate, unordered } from "./sse-exceptions.js";
import { imm8, readV, scalar, setLow, shuffle, writeV, zeroV, type Width } from "./sse-operands.js";
import type { SemanticsEntry } from "./types.js";

const lanesOf = (width: Width): 2 | 4 => (width === "d" ? 2 : 4);

/** cmpps/cmppd imm8 predicates 0–7 → all-ones or all-zeros per lane (as cmpss/cmpsd). */
function compareMask(width: Width) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const ops = width === "d" ? m.f64x2 : m.f32x4;
    const lanes = width === "d" ? "f64" : "f32";
    const a = ctx.let(dazPacked(ctx, lanes, readV(ctx, 0)), v128);
    const b = ctx.let(dazPacked(ctx, lanes, readV(ctx, 1)), v128);
    const compare = { ...ops, or: m.v128.or, not: m.v128.not };
    if (signalingPredicate(imm8(ctx))) {
      const get = (x: number) => (): Expr => ctx.get(x, v128);
      raiseInvalidIf(ctx, unordered(ctx, width, get(a), get(b), true));
    }
    const mask = comparePredicate(
      imm8(ctx),
      compare,
      () => ctx.get(a, v128),
      () => ctx.get(b, v128),
    );
    writeV(ctx, 0, mask);
  };
}

/** movddup/movsldup/movshdup: the source's lanes picked by `lane(i)` for each destination lane. */
function duplicate(bytes: 4 | 8, lane: (i: number) => number) {
  return (ctx: FunctionContext): void =>
    writeV(
      ctx,
      0,
      shuffle(
        ctx,
        readV(ctx, 1),
        zeroV(ctx),
        (i) => lane(Math.floor(i / bytes)) * bytes + (i % bytes),
      ),
    );
}

/** haddps/haddpd/hsubps/hsubpd: adjacent lane pairs of dst then src, even op odd. */
function horizontal(width: Width, op: "add" | "sub") {
  return (ctx: FunctionContext): void => {
    const bytes = width === "d" ? 8 : 4;
    const half = lanesOf(width) / 2;
    const dst = ctx.let(readV(ctx, 0), v128);
    const src = ctx.let(readV(ctx, 1), v128);
    const pick = (odd: number): Expr =>
      shuffle(ctx, ctx.get(dst, v128), ctx.get(src, v128), (i) => {
        const lane = Math.floor(i / bytes);
        const from = lane < half ? 0 : 16;
        return from + (2 * (lane % half) + odd) * bytes + (i % bytes);
      });
    const ops = width === "d" ? ctx.m.f64x2 : ctx.m.f32x4;
    const even = ctx.let(pick(0), v128);
    const odd = ctx.let(pick(1), v128);
    const nearest = ops[op](ctx.get(even, v128), ctx.get(odd, v128));
    const lanes = width === "d" ? "f64" : "f32";
    const rounding = op === "add" ? SSE_OP.ADD : SSE_OP.SUB;
    writeV(
      ctx,
      0,
      roundedPacked(ctx, rounding, width, nearest, { local: even, lanes }, { local: odd, lanes }),
    );
  };
}

/** addsubps/addsubpd: even lanes a − b, odd lanes a + b. */
function addsub(width: Width) {
  return (ctx: FunctionContext): void => {
    const ops = width === "d" ? ctx.m.f64x2 : ctx.m.f32x4;
    const bytes = width === "d" ? 8 : 4;
    const a = ctx.let(readV(ctx, 0), v128);
    const b = ctx.let(readV(ctx, 1), v128);
    const lanes = width === "d" ? "f64" : "f32";
    const round = (op: SseOp, nearest: Expr): Expr =>
      roundedPacked(ctx, op, width, nearest, { local: a, lanes }, { local: b, lanes });
    const difference = round(SSE_OP.SUB, ops.sub(ctx.get(a, v128), ctx.get(b, v128)));
    const sum = round(SSE_OP.ADD, ops.add(ctx.get(a, v128), ctx.get(b, v128)));
    writeV(
      ctx,
      0,
      shuffle(ctx, difference, sum, (i) => (Math.floor(i / bytes) % 2 === 0 ? i : 16 + i)),
    );
  };
}

/**
 * dpps/dppd: the products of the lanes imm8[7:4] selects (+0.0 for the
 * others) summed pairwise — (p0 + p1) + (p2 + p3) — into the lanes
 * imm8[3:0] selects, +0.0 elsewhere (SDM Vol. 2A "DPPS", in that order, so
 * rounding and NaN propagation match).
 */
function dotProduct(width: Width) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const type = width === "d" ? f64 : f32;
    const ops = width === "d" ? m.f64 : m.f32;
    const lanes = lanesOf(width);
    const extract = (v: number, lane: number): Expr =>
      width === "d"
        ? m.f64x2.extract_lane(ctx.get(v, v128), lane)
        : m.f32x4.extract_lane(ctx.get(v, v128), lane);
    const control = imm8(ctx);
    const a = ctx.let(readV(ctx, 0), v128);
    const b = ctx.let(readV(ctx, 1), v128);
    // Each product and sum rounds as MXCSR.RC says, as the CPU's do.
    const local = (e: Expr): number => ctx.let(e, type);
    const operation = (op: SseOp, nearest: Expr, x: number, y: number): number =>
      local(rounded(ctx, op, width, nearest, { local: x, type }, { local: y, type }));
    const products = Array.from({ length: lanes }, (_, lane) => {
      if (((control >> (4 + lane)) & 1) === 0) return local(ops.const(0));
      const x = local(extract(a, lane));
      const y = local(extract(b, lane));
      return operation(SSE_OP.MUL, ops.mul(ctx.get(x, type), ctx.get(y, type)), x, y);
    });
    const add = (x: number, y: number): number =>
      operation(SSE_OP.ADD, ops.add(ctx.get(x, type), ctx.get(y, type)), x, y);
    const [p0, p1, p2, p3] = products as [number, number, number?, number?];
    let sum = add(p0, p1);
    if (p2 !== undefined && p3 !== undefined) sum = add(sum, add(p2, p3));
    const spread =
      width === "d" ? m.f64x2.splat(ctx.get(sum, type)) : m.f32x4.splat(ctx.get(sum, type));
    const bytes = 16 / lanes;
    const keep = Array.from({ length: 16 }, (_, i) =>
      (control >> Math.floor(i / bytes)) & 1 ? 0xff : 0,
    );
    writeV(ctx, 0, m.v128.and(spread, m.v128.const(keep)));
  };
}

const SMALLEST_NORMAL = 2 ** -126;

/**
 * The reciprocal (rcp) or reciprocal square root (rsqrt) of one f32, the
 * way the CPU's approximation treats special values: a denormal source
 * counts as ±0 (→ ±∞), a tiny reciprocal is flushed to ±0, a negative
 * rsqrt source gives the default NaN, a NaN source comes back quiet
 * (SDM Vol. 2B "RCPPS", "RSQRTPS"). The value itself is the correctly
 * rounded result, which is within the architectural relative error of
 * 1.5·2⁻¹²; CPUs differ from each other in the low bits.
 */
function approximate(ctx: FunctionContext, kind: "rcp" | "rsqrt", x: Expr): Expr {
  const m = ctx.m;
  const value = ctx.let(x, f32);
  const v = (): Expr => ctx.get(value, f32);
  const magnitude = ctx.let(m.f32.abs(v()), f32);
  const denormal = m.i32.and(
    m.f32.lt(ctx.get(magnitude, f32), m.f32.const(SMALLEST_NORMAL)),
    m.f32.ne(ctx.get(magnitude, f32), m.f32.const(0)),
  );
  const infinity = m.f32.copysign(m.f32.const(Number.POSITIVE_INFINITY), v());
  if (kind === "rcp") {
    const r = ctx.let(m.f32.div(m.f32.const(1), v()), f32);
    const tiny = m.f32.lt(m.f32.abs(ctx.get(r, f32)), m.f32.const(SMALLEST_NORMAL));
    const flushed = m.select(tiny, m.f32.copysign(m.f32.const(0), v()), ctx.get(r, f32));
    return m.select(denormal, infinity, flushed);
  }
  const r = m.f32.demote(m.f64.div(m.f64.const(1), m.f64.sqrt(m.f64.promote(v()))));
  const negative = m.f32.lt(v(), m.f32.const(0));
  const defaultNaN = m.f32.reinterpret(ctx.w.c32(0xffc00000));
  return m.select(denormal, infinity, m.select(negative, defaultNaN, r));
}

function approximatePacked(kind: "rcp" | "rsqrt") {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const source = ctx.let(readV(ctx, 1), v128);
    let r: Expr = zeroV(ctx);
    for (let lane = 0; lane < 4; lane++) {
      const x = m.f32x4.extract_lane(ctx.get(source, v128), lane);
      r = m.f32x4.replace_lane(r, lane, approximate(ctx, kind, x));
    }
    writeV(ctx, 0, r);
  };
}

function approximateScalar(kind: "rcp" | "rsqrt") {
  return (ctx: FunctionContext): void =>
    setLow(ctx, "s", approximate(ctx, kind, scalar(ctx, 1, "s")));
}

export const sseFloatPackedSemantics: readonly SemanticsEntry[] = [
  [Mnemonic.Cmpps, compareMask("s")],
  [Mnemonic.Cmppd, compareMask("d")],
  [Mnemonic.Movddup, duplicate(8, () => 0)],
  [Mnemonic.Movsldup, duplicate(4, (lane) => lane & ~1)],
  [Mnemonic.Movshdup, duplicate(4, (lane) => lane | 1)],
  [Mnemonic.Haddps, horizontal("s", "add")],
  [Mnemonic.Haddpd, horizontal("d", "add")],
  [Mnemonic.Hsubps, horizontal("s", "sub")],
  [Mnemonic.Hsubpd, horizontal("d", "sub")],
  [Mnemonic.Addsubps, addsub("s")],
  [Mnemonic.Addsubpd, addsub("d")],
  [Mnemonic.Dpps, dotProduct("s")],
  [Mnemonic.Dppd, dotProduct("d")],
  [Mnemonic.Rcpps, approximatePacked("rcp")],
  [Mnemonic.Rcpss, approximateScalar("rcp")],
  [Mnemonic.Rsqrtps, approximatePacked("rsqrt")],
  [Mnemonic.Rsqrtss, approximateScalar("rsqrt")],
];
