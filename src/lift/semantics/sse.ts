// SSE/SSE2/SSSE3/SSE4.1 integer and data movement on wasm SIMD (SDM Vol. 1
// ch. 10–12): XMM moves, movd/movq, logic, compares, masks, unpacks,
// shuffles, byte and lane shifts, min/max, add/sub, multiplies, packs,
// pshufb, palignr, ptest. What string and memory routines of musl and glibc
// (SSE2/SSSE3 variants) use. Scalar and packed float live in sse-float.ts.
import { Mnemonic } from "iced-x86";
import { AF, CF, OF, PF, SF, ZF } from "../emit/flags.js";
import type { FunctionContext } from "../emit/function-context.js";
import { v128, type Expr } from "../emit/wasm.js";
import { imm8, isXmm, readV, shuffle, writeV, zeroV } from "./sse-operands.js";
import type { SemanticsEntry } from "./types.js";

function move128(ctx: FunctionContext): void {
  writeV(ctx, 0, readV(ctx, 1));
}

/** movd/movq: GPR/memory ↔ the low lane; a load into an XMM register zeroes the rest. */
function movdq(ctx: FunctionContext): void {
  const m = ctx.m;
  const size = ctx.ins.mnemonic === Mnemonic.Movd ? 4 : 8;
  if (isXmm(ctx, 0)) {
    let low: Expr;
    if (isXmm(ctx, 1)) low = m.i64x2.extract_lane(readV(ctx, 1), 0);
    else if (ctx.ins.operands[1]?.kind === "mem") low = ctx.w.load(size, ctx.pointer(ctx.memory()));
    else low = ctx.read(1);
    writeV(ctx, 0, m.i64x2.replace_lane(zeroV(ctx), 0, ctx.w.truncate(low, size)));
    return;
  }
  const value = m.i64x2.extract_lane(readV(ctx, 1), 0);
  if (ctx.ins.operands[0]?.kind === "mem")
    ctx.emit(ctx.w.store(size, ctx.pointer(ctx.memory()), value));
  else ctx.write(0, value);
}

function binary(op: (ctx: FunctionContext, a: Expr, b: Expr) => Expr) {
  return (ctx: FunctionContext): void => writeV(ctx, 0, op(ctx, readV(ctx, 0), readV(ctx, 1)));
}

/** pxor x,x (and xorps, pcmpeq…) zero/ones idioms must not read an undefined register. */
function xorV(ctx: FunctionContext): void {
  const [a, b] = ctx.ins.operands;
  if (a?.kind === "reg" && b?.kind === "reg" && a.reg === b.reg) return writeV(ctx, 0, zeroV(ctx));
  writeV(ctx, 0, ctx.m.v128.xor(readV(ctx, 0), readV(ctx, 1)));
}

function mask(op: (ctx: FunctionContext, v: Expr) => Expr) {
  return (ctx: FunctionContext): void => ctx.write(0, ctx.m.i64.extend_u(op(ctx, readV(ctx, 1))));
}

/** punpckl*/ /* punpckh*: interleave lanes of `bytes` bytes from the low or high halves. */
function unpack(bytes: number, high: boolean) {
  return binary((ctx, a, b) =>
    shuffle(ctx, a, b, (i) => {
      const lane = Math.floor(i / bytes);
      const within = i % bytes;
      const source = Math.floor(lane / 2) * bytes + within + (high ? 8 : 0);
      return lane % 2 === 0 ? source : 16 + source;
    }),
  );
}

/** pshufd/pshuflw/pshufhw: lanes of the source picked by 2-bit fields of imm8. */
function pshuf(kind: "d" | "lw" | "hw") {
  return (ctx: FunctionContext): void => {
    const order = imm8(ctx);
    const src = readV(ctx, 1);
    const pick = (i: number): number => {
      if (kind === "d") return ((order >> (2 * Math.floor(i / 4))) & 3) * 4 + (i % 4);
      const inHalf = kind === "lw" ? i < 8 : i >= 8;
      if (!inHalf) return i;
      const base = kind === "lw" ? 0 : 8;
      const word = Math.floor((i - base) / 2);
      return base + ((order >> (2 * word)) & 3) * 2 + (i % 2);
    };
    writeV(ctx, 0, shuffle(ctx, src, zeroV(ctx), pick));
  };
}

/** psrldq/pslldq: whole-register byte shifts by imm8 (≥ 16 gives zero). */
function byteShift(left: boolean) {
  return (ctx: FunctionContext): void => {
    const n = imm8(ctx);
    const src = readV(ctx, 0);
    writeV(
      ctx,
      0,
      shuffle(ctx, src, zeroV(ctx), (i) => {
        const from = left ? i - n : i + n;
        return from >= 0 && from < 16 ? from : 16;
      }),
    );
  };
}

type LaneShift = "shl" | "shr_u" | "shr_s";
/** psll/psrl/psra by imm8 or by the low quadword of an XMM/memory count (≥ width: zero or sign fill). */
function laneShift(bits: 16 | 32 | 64, kind: LaneShift) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const w = ctx.w;
    const ops = { 16: m.i16x8, 32: m.i32x4, 64: m.i64x2 }[bits] as unknown as Record<
      LaneShift,
      (v: Expr, n: Expr) => Expr
    >;
    const value = ctx.let(readV(ctx, 0), v128);
    const countOp = ctx.ins.operands[1];
    const count = ctx.let(
      countOp?.kind === "imm"
        ? w.c64(countOp.value & 0xffn)
        : m.i64x2.extract_lane(readV(ctx, 1), 0),
    );
    const tooBig = m.i64.ge_u(ctx.get(count), w.c64(bits));
    const shifted = (n: Expr): Expr =>
      (ops[kind] as (v: Expr, n: Expr) => Expr)(ctx.get(value, v128), n);
    const big = kind === "shr_s" ? shifted(w.c32(bits - 1)) : zeroV(ctx);
    writeV(ctx, 0, m.select(tooBig, big, shifted(m.i32.wrap(ctx.get(count)))));
  };
}

function pshufb(ctx: FunctionContext): void {
  const m = ctx.m;
  const idx = m.v128.and(readV(ctx, 1), m.v128.const(new Array<number>(16).fill(0x8f)));
  writeV(ctx, 0, m.i8x16.swizzle(readV(ctx, 0), idx));
}

/** palignr: (dst:src) >> imm8 bytes, low 16 bytes. */
function palignr(ctx: FunctionContext): void {
  const n = imm8(ctx);
  const dst = readV(ctx, 0);
  const src = readV(ctx, 1);
  if (n >= 16) {
    writeV(
      ctx,
      0,
      shuffle(ctx, dst, zeroV(ctx), (i) => (i + n - 16 < 16 ? i + n - 16 : 16)),
    );
  } else {
    writeV(
      ctx,
      0,
      shuffle(ctx, src, dst, (i) => i + n),
    );
  }
}

/** ptest (SSE4.1): ZF = (a AND b) = 0, CF = (NOT a AND b) = 0. */
function ptest(ctx: FunctionContext): void {
  const m = ctx.m;
  const a = ctx.let(readV(ctx, 0), v128);
  const b = ctx.let(readV(ctx, 1), v128);
  ctx.setFlag(ZF, m.i32.eqz(m.v128.any_true(m.v128.and(ctx.get(a, v128), ctx.get(b, v128)))));
  ctx.setFlag(CF, m.i32.eqz(m.v128.any_true(m.v128.andnot(ctx.get(b, v128), ctx.get(a, v128)))));
  ctx.clearFlags(OF | SF | AF | PF);
}

/** pmuludq: unsigned 32×32→64 of the even dwords. */
function pmuludq(ctx: FunctionContext): void {
  const m = ctx.m;
  const low = (): Expr =>
    m.v128.const([255, 255, 255, 255, 0, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0]);
  writeV(ctx, 0, m.i64x2.mul(m.v128.and(readV(ctx, 0), low()), m.v128.and(readV(ctx, 1), low())));
}

/** pmulhuw/pmulhw: high 16 bits of each 16×16 product, via 32-bit extended products. */
function pmulh(signed: boolean) {
  return binary((ctx, a, b) => {
    const m = ctx.m;
    const av = ctx.let(a, v128);
    const bv = ctx.let(b, v128);
    const lo = signed
      ? m.i32x4.extmul_low_i16x8_s(ctx.get(av, v128), ctx.get(bv, v128))
      : m.i32x4.extmul_low_i16x8_u(ctx.get(av, v128), ctx.get(bv, v128));
    const hi = signed
      ? m.i32x4.extmul_high_i16x8_s(ctx.get(av, v128), ctx.get(bv, v128))
      : m.i32x4.extmul_high_i16x8_u(ctx.get(av, v128), ctx.get(bv, v128));
    // Word j is bytes 2–3 of 32-bit lane j of lo:hi (indices ≥ 16 address hi).
    return shuffle(ctx, lo, hi, (i) => Math.floor(i / 2) * 4 + 2 + (i % 2));
  });
}

/** movhps/movlps/movhpd/movlpd: 64 bits between memory and one half. */
function moveHalf(high: boolean) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const lane = high ? 1 : 0;
    if (isXmm(ctx, 0)) {
      const q = ctx.w.load(8, ctx.pointer(ctx.memory()));
      writeV(ctx, 0, m.i64x2.replace_lane(readV(ctx, 0), lane, q));
    } else {
      ctx.emit(
        ctx.w.store(8, ctx.pointer(ctx.memory()), m.i64x2.extract_lane(readV(ctx, 1), lane)),
      );
    }
  };
}

export const sseSemantics: readonly SemanticsEntry[] = [
  ...[
    Mnemonic.Movaps,
    Mnemonic.Movups,
    Mnemonic.Movapd,
    Mnemonic.Movupd,
    Mnemonic.Movdqa,
    Mnemonic.Movdqu,
    Mnemonic.Movntdq,
    Mnemonic.Movntps,
    Mnemonic.Movntpd,
    Mnemonic.Lddqu,
    Mnemonic.Movntdqa,
  ].map((mn) => [mn, move128] as const),
  [Mnemonic.Movd, movdq],
  [Mnemonic.Movq, movdq],
  [Mnemonic.Pxor, xorV],
  [Mnemonic.Por, binary((c, a, b) => c.m.v128.or(a, b))],
  [Mnemonic.Pand, binary((c, a, b) => c.m.v128.and(a, b))],
  [Mnemonic.Pandn, binary((c, a, b) => c.m.v128.andnot(b, a))],
  [Mnemonic.Pcmpeqb, binary((c, a, b) => c.m.i8x16.eq(a, b))],
  [Mnemonic.Pcmpeqw, binary((c, a, b) => c.m.i16x8.eq(a, b))],
  [Mnemonic.Pcmpeqd, binary((c, a, b) => c.m.i32x4.eq(a, b))],
  [Mnemonic.Pcmpeqq, binary((c, a, b) => c.m.i64x2.eq(a, b))],
  [Mnemonic.Pcmpgtb, binary((c, a, b) => c.m.i8x16.gt_s(a, b))],
  [Mnemonic.Pcmpgtw, binary((c, a, b) => c.m.i16x8.gt_s(a, b))],
  [Mnemonic.Pcmpgtd, binary((c, a, b) => c.m.i32x4.gt_s(a, b))],
  [Mnemonic.Pminub, binary((c, a, b) => c.m.i8x16.min_u(a, b))],
  [Mnemonic.Pmaxub, binary((c, a, b) => c.m.i8x16.max_u(a, b))],
  [Mnemonic.Pminsb, binary((c, a, b) => c.m.i8x16.min_s(a, b))],
  [Mnemonic.Pmaxsb, binary((c, a, b) => c.m.i8x16.max_s(a, b))],
  [Mnemonic.Pminuw, binary((c, a, b) => c.m.i16x8.min_u(a, b))],
  [Mnemonic.Pmaxuw, binary((c, a, b) => c.m.i16x8.max_u(a, b))],
  [Mnemonic.Pminsw, binary((c, a, b) => c.m.i16x8.min_s(a, b))],
  [Mnemonic.Pmaxsw, binary((c, a, b) => c.m.i16x8.max_s(a, b))],
  [Mnemonic.Pminud, binary((c, a, b) => c.m.i32x4.min_u(a, b))],
  [Mnemonic.Pmaxud, binary((c, a, b) => c.m.i32x4.max_u(a, b))],
  [Mnemonic.Pminsd, binary((c, a, b) => c.m.i32x4.min_s(a, b))],
  [Mnemonic.Pmaxsd, binary((c, a, b) => c.m.i32x4.max_s(a, b))],
  [Mnemonic.Pavgb, binary((c, a, b) => c.m.i8x16.avgr_u(a, b))],
  [Mnemonic.Pavgw, binary((c, a, b) => c.m.i16x8.avgr_u(a, b))],
  [Mnemonic.Paddb, binary((c, a, b) => c.m.i8x16.add(a, b))],
  [Mnemonic.Paddw, binary((c, a, b) => c.m.i16x8.add(a, b))],
  [Mnemonic.Paddd, binary((c, a, b) => c.m.i32x4.add(a, b))],
  [Mnemonic.Paddq, binary((c, a, b) => c.m.i64x2.add(a, b))],
  [Mnemonic.Paddusb, binary((c, a, b) => c.m.i8x16.add_saturate_u(a, b))],
  [Mnemonic.Psubb, binary((c, a, b) => c.m.i8x16.sub(a, b))],
  [Mnemonic.Psubw, binary((c, a, b) => c.m.i16x8.sub(a, b))],
  [Mnemonic.Psubd, binary((c, a, b) => c.m.i32x4.sub(a, b))],
  [Mnemonic.Psubq, binary((c, a, b) => c.m.i64x2.sub(a, b))],
  [Mnemonic.Psubusb, binary((c, a, b) => c.m.i8x16.sub_saturate_u(a, b))],
  [Mnemonic.Pmullw, binary((c, a, b) => c.m.i16x8.mul(a, b))],
  [Mnemonic.Pmulld, binary((c, a, b) => c.m.i32x4.mul(a, b))],
  [Mnemonic.Pmuludq, pmuludq],
  [Mnemonic.Pmulhuw, pmulh(false)],
  [Mnemonic.Pmulhw, pmulh(true)],
  [Mnemonic.Packuswb, binary((c, a, b) => c.m.i8x16.narrow_i16x8_u(a, b))],
  [Mnemonic.Packsswb, binary((c, a, b) => c.m.i8x16.narrow_i16x8_s(a, b))],
  [Mnemonic.Packssdw, binary((c, a, b) => c.m.i16x8.narrow_i32x4_s(a, b))],
  [Mnemonic.Packusdw, binary((c, a, b) => c.m.i16x8.narrow_i32x4_u(a, b))],
  [Mnemonic.Pmovmskb, mask((c, v) => c.m.i8x16.bitmask(v))],
  [Mnemonic.Movmskps, mask((c, v) => c.m.i32x4.bitmask(v))],
  [Mnemonic.Movmskpd, mask((c, v) => c.m.i64x2.bitmask(v))],
  [Mnemonic.Punpcklbw, unpack(1, false)],
  [Mnemonic.Punpcklwd, unpack(2, false)],
  [Mnemonic.Punpckldq, unpack(4, false)],
  [Mnemonic.Punpcklqdq, unpack(8, false)],
  [Mnemonic.Punpckhbw, unpack(1, true)],
  [Mnemonic.Punpckhwd, unpack(2, true)],
  [Mnemonic.Punpckhdq, unpack(4, true)],
  [Mnemonic.Punpckhqdq, unpack(8, true)],
  [Mnemonic.Unpcklps, unpack(4, false)],
  [Mnemonic.Unpckhps, unpack(4, true)],
  [Mnemonic.Unpcklpd, unpack(8, false)],
  [Mnemonic.Unpckhpd, unpack(8, true)],
  [Mnemonic.Pshufd, pshuf("d")],
  [Mnemonic.Pshuflw, pshuf("lw")],
  [Mnemonic.Pshufhw, pshuf("hw")],
  [Mnemonic.Psrldq, byteShift(false)],
  [Mnemonic.Pslldq, byteShift(true)],
  [Mnemonic.Psllw, laneShift(16, "shl")],
  [Mnemonic.Pslld, laneShift(32, "shl")],
  [Mnemonic.Psllq, laneShift(64, "shl")],
  [Mnemonic.Psrlw, laneShift(16, "shr_u")],
  [Mnemonic.Psrld, laneShift(32, "shr_u")],
  [Mnemonic.Psrlq, laneShift(64, "shr_u")],
  [Mnemonic.Psraw, laneShift(16, "shr_s")],
  [Mnemonic.Psrad, laneShift(32, "shr_s")],
  [Mnemonic.Pshufb, pshufb],
  [Mnemonic.Palignr, palignr],
  [Mnemonic.Ptest, ptest],
  [Mnemonic.Movhps, moveHalf(true)],
  [Mnemonic.Movhpd, moveHalf(true)],
  [Mnemonic.Movlps, moveHalf(false)],
  [Mnemonic.Movlpd, moveHalf(false)],
  [Mnemonic.Movhlps, binary((c, a, b) => shuffle(c, a, b, (i) => (i < 8 ? 16 + 8 + i : i)))],
  [Mnemonic.Movlhps, binary((c, a, b) => shuffle(c, a, b, (i) => (i < 8 ? i : 16 + i - 8)))],
];
