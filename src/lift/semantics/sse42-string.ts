// SSE4.2 string compares on wasm SIMD (SDM Vol. 2B §4.1 "Imm8 Control Byte
// Operation for PCMPESTRI / PCMPESTRM / PCMPISTRI / PCMPISTRM"):
//   imm8[1:0] element format: unsigned bytes, unsigned words, signed bytes, signed words;
//   imm8[3:2] aggregation: equal any, ranges, equal each, equal ordered;
//   imm8[5:4] polarity: +, −, masked +, masked − (inverts only valid src2 elements);
//   imm8[6]   output: least/most significant index (…I), bit/expanded mask (…M).
// xmm1 (the set, ranges or needle) is element i, xmm2/m128 (the text) is
// element j. Lengths are implicit (up to the first zero element) or explicit
// (|EAX| and |EDX|, or RAX/RDX with REX.W, saturated to the element count).
// One vector compare per xmm1 element gives row i of the SDM's BoolRes
// matrix; the aggregation folds those rows with the override rules of Table
// 4-7 for invalid elements. Flags (SDM "PCMPISTRI" affected flags): CF =
// IntRes2 ≠ 0, ZF = len2 < n, SF = len1 < n, OF = IntRes2[0], AF = PF = 0.
import { Code, Mnemonic } from "iced-x86";
import { AF, CF, OF, PF, SF, ZF } from "../emit/flags.js";
import type { FunctionContext } from "../emit/function-context.js";
import { i32, v128, type Expr } from "../emit/wasm.js";
import { imm8, readV, shuffle, zeroV } from "./sse-operands.js";
import type { SemanticsEntry } from "./types.js";

interface Format {
  /** Elements per register: 16 bytes or 8 words. */
  readonly n: 16 | 8;
  readonly signed: boolean;
}

const formatOf = (control: number): Format => ({
  n: (control & 1) === 0 ? 16 : 8,
  signed: (control & 2) !== 0,
});

const ones = (ctx: FunctionContext): Expr => ctx.m.v128.const(new Array<number>(16).fill(0xff));

/** Lanewise ops for the element format (a v128 of all-ones or zero lanes). */
function lanes(ctx: FunctionContext, f: Format) {
  const m = ctx.m;
  const ops = f.n === 16 ? m.i8x16 : m.i16x8;
  return {
    eq: (a: Expr, b: Expr): Expr => ops.eq(a, b),
    ge: (a: Expr, b: Expr): Expr => (f.signed ? ops.ge_s(a, b) : ops.ge_u(a, b)),
    le: (a: Expr, b: Expr): Expr => (f.signed ? ops.le_s(a, b) : ops.le_u(a, b)),
    bitmask: (v: Expr): Expr => ops.bitmask(v),
    /** All lanes equal to element `i` of `v`. */
    splat: (v: Expr, i: number): Expr =>
      shuffle(ctx, v, zeroV(ctx), (k) => (f.n === 16 ? i : 2 * i + (k % 2))),
    /** Lanes below `length` (an i32 in [0, n]) set. */
    below: (length: Expr): Expr => {
      // Lane numbers as little-endian bytes or words.
      const index = Array.from({ length: 16 }, (_, k) => (f.n === 16 ? k : k % 2 ? 0 : k / 2));
      return f.n === 16
        ? m.i8x16.lt_u(m.v128.const(index), m.i8x16.splat(length))
        : m.i16x8.lt_u(m.v128.const(index), m.i16x8.splat(length));
    },
  };
}

/** Implicit length: the index of the first zero element, or n. */
function implicitLength(ctx: FunctionContext, f: Format, v: number): number {
  const m = ctx.m;
  const zeros = lanes(ctx, f).bitmask(lanes(ctx, f).eq(ctx.get(v, v128), zeroV(ctx)));
  return ctx.let(m.i32.ctz(m.i32.or(zeros, ctx.w.c32(1 << f.n))), i32);
}

/** Explicit length from GPR `index`: |value| saturated to n (SDM §4.1.3). */
function explicitLength(ctx: FunctionContext, f: Format, index: number, wide: boolean): number {
  const m = ctx.m;
  const w = ctx.w;
  const value = ctx.let(wide ? ctx.gpr(index) : w.signExtend(ctx.gpr(index), 4));
  const negative = m.i64.lt_s(ctx.get(value), w.c64(0));
  const magnitude = ctx.let(
    m.select(negative, m.i64.sub(w.c64(0), ctx.get(value)), ctx.get(value)),
  );
  // As unsigned, |INT64_MIN| = 2^63 saturates like any other large length.
  const saturated = m.select(
    m.i64.gt_u(ctx.get(magnitude), w.c64(f.n)),
    w.c64(f.n),
    ctx.get(magnitude),
  );
  return ctx.let(m.i32.wrap(saturated), i32);
}

/** IntRes1 of the aggregation, as lanes; `len1`/`len2` are i32 locals. */
function aggregate(
  ctx: FunctionContext,
  f: Format,
  control: number,
  a: number,
  b: number,
  len1: number,
  len2: number,
): Expr {
  const m = ctx.m;
  const l = lanes(ctx, f);
  const A = (): Expr => ctx.get(a, v128);
  const B = (): Expr => ctx.get(b, v128);
  const valid2 = ctx.let(l.below(ctx.get(len2, i32)), v128);
  /** Row i kept only when xmm1 element i (or, for ranges, i + 1) is valid. */
  const ifValid = (i: number, row: Expr, otherwise: Expr): Expr =>
    m.select(m.i32.gt_u(ctx.get(len1, i32), ctx.w.c32(i)), row, otherwise);
  const zero = (): Expr => zeroV(ctx);
  switch ((control >> 2) & 3) {
    case 0: {
      // Equal any: text element j is in the set xmm1[0 .. len1).
      let acc: Expr = zero();
      for (let i = 0; i < f.n; i++)
        acc = m.v128.or(acc, ifValid(i, l.eq(l.splat(A(), i), B()), zero()));
      return m.v128.and(acc, ctx.get(valid2, v128));
    }
    case 1: {
      // Ranges: xmm1 holds pairs [low, high]; an unpaired last element counts for nothing.
      let acc: Expr = zero();
      for (let i = 0; i + 1 < f.n; i += 2) {
        const inRange = m.v128.and(l.ge(B(), l.splat(A(), i)), l.le(B(), l.splat(A(), i + 1)));
        acc = m.v128.or(acc, ifValid(i + 1, inRange, zero()));
      }
      return m.v128.and(acc, ctx.get(valid2, v128));
    }
    case 2: {
      // Equal each: both valid → compare; both invalid → true; one invalid → false.
      const valid1 = ctx.let(l.below(ctx.get(len1, i32)), v128);
      const both = m.v128.and(ctx.get(valid1, v128), ctx.get(valid2, v128));
      const neither = m.v128.not(m.v128.or(ctx.get(valid1, v128), ctx.get(valid2, v128)));
      return m.v128.or(m.v128.and(l.eq(A(), B()), both), neither);
    }
    default: {
      // Equal ordered: the needle xmm1[0 .. len1) starts at text element j. Row i
      // (needle element i against every text element, false past the text's end)
      // moves down by i lanes; lanes that would look past the register are true,
      // as is every row past the needle's end.
      const bytes = 16 / f.n;
      let acc: Expr = ones(ctx);
      for (let i = 0; i < f.n; i++) {
        const row = m.v128.and(l.eq(l.splat(A(), i), B()), ctx.get(valid2, v128));
        const moved = shuffle(ctx, row, ones(ctx), (k) =>
          k + i * bytes < 16 ? k + i * bytes : 16,
        );
        acc = m.v128.and(acc, ifValid(i, moved, ones(ctx)));
      }
      return acc;
    }
  }
}

/** Runs the comparison; returns the IntRes2 lanes local and its bit mask (i32 local). */
function compareStrings(
  ctx: FunctionContext,
  explicit: boolean,
): { res2: number; bits: number; f: Format } {
  const m = ctx.m;
  const control = imm8(ctx);
  const f = formatOf(control);
  const a = ctx.let(readV(ctx, 0), v128);
  const b = ctx.let(readV(ctx, 1), v128);
  const wide = WIDE_CODES.has(ctx.ins.code);
  const len1 = explicit ? explicitLength(ctx, f, 0, wide) : implicitLength(ctx, f, a);
  const len2 = explicit ? explicitLength(ctx, f, 2, wide) : implicitLength(ctx, f, b);
  const res1 = ctx.let(aggregate(ctx, f, control, a, b, len1, len2), v128);
  const l = lanes(ctx, f);
  let res2: Expr = ctx.get(res1, v128);
  switch ((control >> 4) & 3) {
    case 1:
      res2 = m.v128.not(res2);
      break;
    case 3:
      // Masked negative: only elements inside the text are inverted.
      res2 = m.v128.xor(res2, l.below(ctx.get(len2, i32)));
      break;
  }
  const res2Local = ctx.let(res2, v128);
  const bits = ctx.let(l.bitmask(ctx.get(res2Local, v128)), i32);
  ctx.setFlag(CF, m.i32.ne(ctx.get(bits, i32), ctx.w.c32(0)));
  ctx.setFlag(ZF, m.i32.lt_u(ctx.get(len2, i32), ctx.w.c32(f.n)));
  ctx.setFlag(SF, m.i32.lt_u(ctx.get(len1, i32), ctx.w.c32(f.n)));
  ctx.setFlag(OF, m.i32.and(ctx.get(bits, i32), ctx.w.c32(1)));
  ctx.clearFlags(AF | PF);
  return { res2: res2Local, bits, f };
}

/** REX.W forms take RAX/RDX as 64-bit lengths. */
const WIDE_CODES: ReadonlySet<Code> = new Set([
  Code.Pcmpestri64_xmm_xmmm128_imm8,
  Code.Pcmpestrm64_xmm_xmmm128_imm8,
]);

/** pcmpXstri: ECX = least or most significant set bit of IntRes2, n when none. */
function stringIndex(explicit: boolean) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const w = ctx.w;
    const { bits, f } = compareStrings(ctx, explicit);
    const most = (imm8(ctx) & 0x40) !== 0;
    const index = most
      ? m.select(
          ctx.get(bits, i32),
          m.i32.sub(w.c32(31), m.i32.clz(ctx.get(bits, i32))),
          w.c32(f.n),
        )
      : m.i32.ctz(m.i32.or(ctx.get(bits, i32), w.c32(1 << f.n)));
    // A 32-bit destination: the upper half of RCX is cleared.
    ctx.setGpr(1, m.i64.extend_u(index));
  };
}

/** pcmpXstrm: XMM0 = IntRes2 as a bit mask (zero-extended) or expanded to elements. */
function stringMask(explicit: boolean) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const { res2, bits } = compareStrings(ctx, explicit);
    const expanded = (imm8(ctx) & 0x40) !== 0;
    ctx.setXmm(
      0,
      expanded ? ctx.get(res2, v128) : m.i32x4.replace_lane(zeroV(ctx), 0, ctx.get(bits, i32)),
    );
  };
}

export const sse42StringSemantics: readonly SemanticsEntry[] = [
  [Mnemonic.Pcmpistri, stringIndex(false)],
  [Mnemonic.Pcmpestri, stringIndex(true)],
  [Mnemonic.Pcmpestri64, stringIndex(true)],
  [Mnemonic.Pcmpistrm, stringMask(false)],
  [Mnemonic.Pcmpestrm, stringMask(true)],
  [Mnemonic.Pcmpestrm64, stringMask(true)],
];
