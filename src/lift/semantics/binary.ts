// Binary arithmetic (SDM Vol. 1 §5.1.2): add, adc, sub, sbb, cmp, inc, dec,
// neg, mul, imul, div, idiv, xadd. Flags are recorded lazily (emit/flags.ts).
import { Mnemonic } from "iced-x86";
import { AF, ALL_FLAGS, CF, OF, PF, SF, ZF } from "../emit/flags.js";
import type { FunctionContext } from "../emit/function-context.js";
import { i32, type Expr, type Size } from "../emit/wasm.js";
import { divide } from "./divide.js";
import type { SemanticsEntry } from "./types.js";

function addSub(op: "add" | "sub" | "cmp" | "adc" | "sbb") {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const w = ctx.w;
    const size = ctx.operandSize(0);
    const a = ctx.let(ctx.read(0));
    const b = ctx.let(ctx.read(1, size));
    let result: Expr;
    let carry: number | undefined;
    if (op === "adc" || op === "sbb") {
      carry = ctx.let(ctx.flag(CF), i32);
      const c = m.i64.extend_u(ctx.get(carry, i32));
      const kind = op === "adc" ? "add" : "sub";
      result = w.arith(kind, size, w.arith(kind, size, ctx.get(a), ctx.get(b)), c);
    } else {
      result = w.arith(op === "add" ? "add" : "sub", size, ctx.get(a), ctx.get(b));
    }
    const lazy = op === "cmp" ? "sub" : op;
    const res = ctx.setLazyFlags(lazy, size, ctx.get(a), ctx.get(b), result, ALL_FLAGS, carry);
    if (op !== "cmp") ctx.write(0, ctx.get(res));
  };
}

function incDec(op: "add" | "sub") {
  return (ctx: FunctionContext): void => {
    const size = ctx.operandSize(0);
    const a = ctx.let(ctx.read(0));
    const result = ctx.w.arith(op, size, ctx.get(a), ctx.w.c64(1));
    // INC/DEC leave CF alone (SDM Vol. 2A "INC").
    const res = ctx.setLazyFlags(
      op,
      size,
      ctx.get(a),
      ctx.w.c64(1),
      result,
      OF | SF | ZF | AF | PF,
    );
    ctx.write(0, ctx.get(res));
  };
}

function neg(ctx: FunctionContext): void {
  const size = ctx.operandSize(0);
  const b = ctx.let(ctx.read(0));
  const res = ctx.setLazyFlags(
    "sub",
    size,
    ctx.w.c64(0),
    ctx.get(b),
    ctx.w.arith("sub", size, ctx.w.c64(0), ctx.get(b)),
    ALL_FLAGS,
  );
  ctx.write(0, ctx.get(res));
}

/** imul with 2 or 3 operands: truncated signed product; CF=OF=overflow (SDM Vol. 2A "IMUL"). */
function imul(ctx: FunctionContext): void {
  const ops = ctx.ins.operands.length;
  if (ops === 1) return widening(ctx, true);
  const m = ctx.m;
  const w = ctx.w;
  const size = ctx.operandSize(0);
  const a = w.signExtend(ctx.read(ops === 3 ? 1 : 0), size);
  const b = w.signExtend(ctx.read(ops === 3 ? 2 : 1, size), size);
  const av = ctx.let(a);
  const bv = ctx.let(b);
  const product = ctx.let(m.i64.mul(ctx.get(av), ctx.get(bv)));
  let overflow: Expr;
  if (size === 8) {
    // Overflow when the high half of the 128-bit product is not the sign of the low half.
    const hi = signedHigh64(ctx, av, bv);
    overflow = m.i64.ne(hi, m.i64.shr_s(ctx.get(product), w.c64(63)));
  } else {
    overflow = m.i64.ne(w.signExtend(ctx.get(product), size), ctx.get(product));
  }
  const o = ctx.let(overflow, i32);
  ctx.setFlag(CF, ctx.get(o, i32));
  ctx.setFlag(OF, ctx.get(o, i32));
  ctx.clearFlags(SF | ZF | AF | PF);
  ctx.write(0, ctx.get(product));
}

/** High 64 bits of an unsigned 64×64 product, from 32-bit halves. */
function unsignedHigh64(ctx: FunctionContext, a: number, b: number): Expr {
  const m = ctx.m;
  const w = ctx.w;
  const lo = (x: Expr): Expr => m.i64.and(x, w.c64(0xffffffffn));
  const hi = (x: Expr): Expr => m.i64.shr_u(x, w.c64(32));
  const aL = ctx.let(lo(ctx.get(a)));
  const aH = ctx.let(hi(ctx.get(a)));
  const bL = ctx.let(lo(ctx.get(b)));
  const bH = ctx.let(hi(ctx.get(b)));
  const ll = ctx.let(m.i64.mul(ctx.get(aL), ctx.get(bL)));
  const lh = ctx.let(m.i64.mul(ctx.get(aL), ctx.get(bH)));
  const hl = ctx.let(m.i64.mul(ctx.get(aH), ctx.get(bL)));
  const hh = ctx.let(m.i64.mul(ctx.get(aH), ctx.get(bH)));
  const mid = ctx.let(m.i64.add(m.i64.add(hi(ctx.get(ll)), lo(ctx.get(lh))), lo(ctx.get(hl))));
  return m.i64.add(
    m.i64.add(m.i64.add(ctx.get(hh), hi(ctx.get(lh))), hi(ctx.get(hl))),
    hi(ctx.get(mid)),
  );
}

/** High 64 bits of a signed 64×64 product: unsigned high minus corrections. */
function signedHigh64(ctx: FunctionContext, a: number, b: number): Expr {
  const m = ctx.m;
  const w = ctx.w;
  const uh = unsignedHigh64(ctx, a, b);
  const negA = m.i64.and(m.i64.shr_s(ctx.get(a), w.c64(63)), ctx.get(b));
  const negB = m.i64.and(m.i64.shr_s(ctx.get(b), w.c64(63)), ctx.get(a));
  return m.i64.sub(m.i64.sub(uh, negA), negB);
}

/** One-operand mul/imul: rDX:rAX = rAX × src (SDM Vol. 2B "MUL"). */
function widening(ctx: FunctionContext, signed: boolean): void {
  const m = ctx.m;
  const w = ctx.w;
  const size = ctx.operandSize(0);
  const ext = (e: Expr): Expr => (signed ? w.signExtend(e, size) : e);
  const src = ctx.let(ext(ctx.read(0)));
  const rax = ctx.let(ext(w.truncate(ctx.gpr(0), size)));
  let low: Expr;
  let high: Expr;
  if (size === 8) {
    low = m.i64.mul(ctx.get(rax), ctx.get(src));
    high = signed ? signedHigh64(ctx, rax, src) : unsignedHigh64(ctx, rax, src);
  } else {
    const p = ctx.let(m.i64.mul(ctx.get(rax), ctx.get(src)));
    low = ctx.get(p);
    high = m.i64.shr_u(ctx.get(p), w.c64(size * 8));
  }
  const lo = ctx.let(low);
  const hi = ctx.let(high);
  const overflow = signed
    ? m.i64.ne(
        w.truncate(ctx.get(hi), size),
        w.truncate(m.i64.shr_s(w.signExtend(ctx.get(lo), size), w.c64(63)), size),
      )
    : m.i64.ne(w.truncate(ctx.get(hi), size), w.c64(0));
  const o = ctx.let(overflow, i32);
  ctx.setFlag(CF, ctx.get(o, i32));
  ctx.setFlag(OF, ctx.get(o, i32));
  ctx.clearFlags(SF | ZF | AF | PF);
  writeAxDx(ctx, size, lo, hi);
}

function writeAxDx(ctx: FunctionContext, size: Size, lo: number, hi: number): void {
  const w = ctx.w;
  if (size === 1) {
    // AX = AH:AL
    const ax = ctx.m.i64.or(
      w.truncate(ctx.get(lo), 1),
      ctx.m.i64.shl(w.truncate(ctx.get(hi), 1), w.c64(8)),
    );
    ctx.writeReg(21 /* AX */, ax);
    return;
  }
  ctx.writeReg(axOf(size, 0), ctx.get(lo));
  ctx.writeReg(axOf(size, 2), ctx.get(hi));
}

/** The register of GPR `index` with `size` bytes (16/32/64-bit forms). */
function axOf(size: Size, index: number): number {
  if (size === 8) return 53 + index;
  if (size === 4) return 37 + index;
  return 21 + index;
}

function xadd(ctx: FunctionContext): void {
  const size = ctx.operandSize(0);
  const a = ctx.let(ctx.read(0));
  const b = ctx.let(ctx.read(1));
  const res = ctx.setLazyFlags(
    "add",
    size,
    ctx.get(a),
    ctx.get(b),
    ctx.m.i64.add(ctx.get(a), ctx.get(b)),
    ALL_FLAGS,
  );
  ctx.write(1, ctx.get(a));
  ctx.write(0, ctx.get(res));
}

export const binarySemantics: readonly SemanticsEntry[] = [
  [Mnemonic.Add, addSub("add")],
  [Mnemonic.Sub, addSub("sub")],
  [Mnemonic.Cmp, addSub("cmp")],
  [Mnemonic.Adc, addSub("adc")],
  [Mnemonic.Sbb, addSub("sbb")],
  [Mnemonic.Inc, incDec("add")],
  [Mnemonic.Dec, incDec("sub")],
  [Mnemonic.Neg, neg],
  [Mnemonic.Imul, imul],
  [Mnemonic.Mul, (ctx) => widening(ctx, false)],
  [Mnemonic.Div, divide(false)],
  [Mnemonic.Idiv, divide(true)],
  [Mnemonic.Xadd, xadd],
];
