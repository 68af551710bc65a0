// SSE4.1 integer and data movement on wasm SIMD (SDM Vol. 1 §12.10, Vol. 2):
// zero- and sign-extending moves, byte/dword/qword insert and extract,
// insertps/extractps, the immediate and variable blends, pmuldq,
// phminposuw and mpsadbw; pcmpgtq (SSE4.2). Compilers targeting x86-64-v2
// emit these, and the CPU model advertises SSE4.1, so libc ifuncs may pick
// them too. ptest and the SSE4.1 min/max/pack forms are in sse.ts.
import { Mnemonic } from "iced-x86";
import type { FunctionContext } from "../emit/function-context.js";
import { i32, v128, type Expr } from "../emit/wasm.js";
import { imm8, isXmm, readV, shuffle, writeV, zeroV } from "./sse-operands.js";
import type { SemanticsEntry } from "./types.js";

type Extend = "u" | "s";

/** pmovzx*/ /* pmovsx*: the low lanes of the source widened `steps` times (b→w→d→q). */
function widen(from: 8 | 16 | 32, to: 16 | 32 | 64, kind: Extend) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    let v = readV(ctx, 1);
    for (let bits = from; bits < to; bits *= 2) {
      if (bits === 8)
        v = kind === "u" ? m.i16x8.extend_low_i8x16_u(v) : m.i16x8.extend_low_i8x16_s(v);
      else if (bits === 16)
        v = kind === "u" ? m.i32x4.extend_low_i16x8_u(v) : m.i32x4.extend_low_i16x8_s(v);
      else v = kind === "u" ? m.i64x2.extend_low_i32x4_u(v) : m.i64x2.extend_low_i32x4_s(v);
    }
    writeV(ctx, 0, v);
  };
}

/**
 * pextrb/pextrd/pextrq/extractps: lane imm8 (modulo the lane count) into a
 * GPR, zero-extended, or into memory of the lane's size.
 */
function extract(bytes: 1 | 4 | 8) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const v = readV(ctx, 1);
    const lane = imm8(ctx) & (16 / bytes - 1);
    const value =
      bytes === 8
        ? m.i64x2.extract_lane(v, lane)
        : m.i64.extend_u(
            bytes === 1 ? m.i8x16.extract_lane_u(v, lane) : m.i32x4.extract_lane(v, lane),
          );
    if (ctx.ins.operands[0]?.kind === "mem")
      ctx.emit(ctx.w.store(bytes, ctx.pointer(ctx.memory()), value));
    else ctx.write(0, value);
  };
}

/** pinsrb/pinsrd/pinsrq: a GPR's or memory's low bytes into lane imm8 (modulo the lane count). */
function insert(bytes: 1 | 4 | 8) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const lane = imm8(ctx) & (16 / bytes - 1);
    const value = ctx.read(1);
    const dst = readV(ctx, 0);
    let r: Expr;
    if (bytes === 8) r = m.i64x2.replace_lane(dst, lane, value);
    else if (bytes === 4) r = m.i32x4.replace_lane(dst, lane, m.i32.wrap(value));
    else r = m.i8x16.replace_lane(dst, lane, m.i32.wrap(value));
    writeV(ctx, 0, r);
  };
}

/**
 * insertps: dword imm8[7:6] of an XMM source (a memory source is one dword)
 * into dword imm8[5:4] of the destination, then the dwords imm8[3:0] names zeroed.
 */
function insertps(ctx: FunctionContext): void {
  const m = ctx.m;
  const control = imm8(ctx);
  const source = isXmm(ctx, 1)
    ? m.i32x4.extract_lane(readV(ctx, 1), (control >> 6) & 3)
    : m.i32.load(0, 1, ctx.pointer(ctx.memory()));
  const inserted = m.i32x4.replace_lane(readV(ctx, 0), (control >> 4) & 3, source);
  const keep = Array.from({ length: 16 }, (_, i) => ((control >> (i >> 2)) & 1 ? 0 : 0xff));
  writeV(ctx, 0, m.v128.and(inserted, m.v128.const(keep)));
}

/** blendps/blendpd/pblendw: lane i from the source where imm8 bit i is set. */
function blend(bytes: 2 | 4 | 8) {
  return (ctx: FunctionContext): void => {
    const control = imm8(ctx);
    writeV(
      ctx,
      0,
      shuffle(ctx, readV(ctx, 0), readV(ctx, 1), (i) =>
        (control >> Math.floor(i / bytes)) & 1 ? 16 + i : i,
      ),
    );
  };
}

/** pblendvb/blendvps/blendvpd: lane from the source where XMM0's lane has its top bit set. */
function blendVariable(bytes: 1 | 4 | 8) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const selector = ctx.xmm(0);
    const select =
      bytes === 1
        ? m.i8x16.lt_s(selector, zeroV(ctx))
        : bytes === 4
          ? m.i32x4.shr_s(selector, ctx.w.c32(31))
          : m.i64x2.shr_s(selector, ctx.w.c32(63));
    writeV(ctx, 0, m.v128.bitselect(readV(ctx, 1), readV(ctx, 0), select));
  };
}

/** pmuldq: signed 32×32→64 products of the even dwords. */
function pmuldq(ctx: FunctionContext): void {
  const m = ctx.m;
  const even = (v: Expr): Expr => m.i64x2.shr_s(m.i64x2.shl(v, ctx.w.c32(32)), ctx.w.c32(32));
  writeV(ctx, 0, m.i64x2.mul(even(readV(ctx, 0)), even(readV(ctx, 1))));
}

/**
 * phminposuw: the smallest unsigned word of the source in word 0, the
 * lowest index holding it in bits 18:16, the rest zero.
 */
function phminposuw(ctx: FunctionContext): void {
  const m = ctx.m;
  const w = ctx.w;
  const v = ctx.let(readV(ctx, 1), v128);
  let min = ctx.let(m.i16x8.extract_lane_u(ctx.get(v, v128), 0), i32);
  let index = ctx.let(w.c32(0), i32);
  for (let lane = 1; lane < 8; lane++) {
    const word = ctx.let(m.i16x8.extract_lane_u(ctx.get(v, v128), lane), i32);
    const less = ctx.let(m.i32.lt_u(ctx.get(word, i32), ctx.get(min, i32)), i32);
    index = ctx.let(m.select(ctx.get(less, i32), w.c32(lane), ctx.get(index, i32)), i32);
    min = ctx.let(m.select(ctx.get(less, i32), ctx.get(word, i32), ctx.get(min, i32)), i32);
  }
  const packed = m.i32.or(ctx.get(min, i32), m.i32.shl(ctx.get(index, i32), w.c32(16)));
  writeV(ctx, 0, m.i32x4.replace_lane(zeroV(ctx), 0, packed));
}

/**
 * mpsadbw: word i = Σ_j |dst[d + i + j] − src[s + j]| over j = 0–3, with
 * d = imm8[2]·4 and s = imm8[1:0]·4 (SDM Vol. 2B "MPSADBW").
 */
function mpsadbw(ctx: FunctionContext): void {
  const m = ctx.m;
  const control = imm8(ctx);
  const d = ((control >> 2) & 1) * 4;
  const s = (control & 3) * 4;
  const dst = ctx.let(readV(ctx, 0), v128);
  const src = ctx.let(readV(ctx, 1), v128);
  // Bytes spread to zero-extended words: index 16 picks a zero byte.
  const words = (v: number, pick: (word: number) => number): Expr =>
    shuffle(ctx, ctx.get(v, v128), zeroV(ctx), (i) => (i % 2 === 0 ? pick(i / 2) : 16));
  let sum: Expr | undefined;
  for (let j = 0; j < 4; j++) {
    const a = words(dst, (i) => d + i + j);
    const b = words(src, () => s + j);
    const term = m.i16x8.abs(m.i16x8.sub(a, b));
    sum = sum === undefined ? term : m.i16x8.add(sum, term);
  }
  writeV(ctx, 0, sum as Expr);
}

export const sse41Semantics: readonly SemanticsEntry[] = [
  [Mnemonic.Pmovzxbw, widen(8, 16, "u")],
  [Mnemonic.Pmovzxbd, widen(8, 32, "u")],
  [Mnemonic.Pmovzxbq, widen(8, 64, "u")],
  [Mnemonic.Pmovzxwd, widen(16, 32, "u")],
  [Mnemonic.Pmovzxwq, widen(16, 64, "u")],
  [Mnemonic.Pmovzxdq, widen(32, 64, "u")],
  [Mnemonic.Pmovsxbw, widen(8, 16, "s")],
  [Mnemonic.Pmovsxbd, widen(8, 32, "s")],
  [Mnemonic.Pmovsxbq, widen(8, 64, "s")],
  [Mnemonic.Pmovsxwd, widen(16, 32, "s")],
  [Mnemonic.Pmovsxwq, widen(16, 64, "s")],
  [Mnemonic.Pmovsxdq, widen(32, 64, "s")],
  [Mnemonic.Pextrb, extract(1)],
  [Mnemonic.Pextrd, extract(4)],
  [Mnemonic.Pextrq, extract(8)],
  [Mnemonic.Extractps, extract(4)],
  [Mnemonic.Pinsrb, insert(1)],
  [Mnemonic.Pinsrd, insert(4)],
  [Mnemonic.Pinsrq, insert(8)],
  [Mnemonic.Insertps, insertps],
  [Mnemonic.Blendps, blend(4)],
  [Mnemonic.Blendpd, blend(8)],
  [Mnemonic.Pblendw, blend(2)],
  [Mnemonic.Pblendvb, blendVariable(1)],
  [Mnemonic.Blendvps, blendVariable(4)],
  [Mnemonic.Blendvpd, blendVariable(8)],
  [Mnemonic.Pmuldq, pmuldq],
  [Mnemonic.Pcmpgtq, (c) => writeV(c, 0, c.m.i64x2.gt_s(readV(c, 0), readV(c, 1)))],
  [Mnemonic.Phminposuw, phminposuw],
  [Mnemonic.Mpsadbw, mpsadbw],
];
