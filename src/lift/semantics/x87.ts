// x87 floating point in f64 (ARCHITECTURE.md "Lifting" 4: a documented
// precision difference — 80-bit values are rounded to double when loaded).
// The register stack lives in the state block (SDM Vol. 1 §8.1: eight data
// registers, TOP in the status word, C0–C3 condition codes); x87 code is
// rare and cold, so it is not kept in locals. fcomi/fucomi set ZF PF CF;
// fcom/fucom/ftst/fxam set C0 C2 C3 for fnstsw.
import binaryen from "binaryen";
import { Mnemonic, Register } from "iced-x86";
import { AF, CF, OF, PF, SF, ZF } from "../emit/flags.js";
import type { FunctionContext } from "../emit/function-context.js";
import { f64, i32, i64, type Expr } from "../emit/wasm.js";
import { STATE_X87_CW, STATE_X87_SW, STATE_X87_TOP, stateX87 } from "../guest-layout.js";
import type { SemanticsEntry } from "./types.js";
import { LOAD80, POW2, STORE80 } from "./x87-helpers.js";

const top = (c: FunctionContext): Expr => c.m.i32.load(0, 4, c.w.c32(STATE_X87_TOP));
/** Address of ST(i). */
const slot = (c: FunctionContext, i: number): Expr =>
  c.m.i32.add(
    c.w.c32(stateX87(0)),
    c.m.i32.shl(c.m.i32.and(c.m.i32.add(top(c), c.w.c32(i)), c.w.c32(7)), c.w.c32(3)),
  );
const st = (c: FunctionContext, i: number): Expr => c.m.f64.load(0, 8, slot(c, i));
const setSt = (c: FunctionContext, i: number, v: Expr): void => {
  const value = c.let(v, f64);
  c.emit(c.m.f64.store(0, 8, slot(c, i), c.get(value, f64)));
};
const moveTop = (c: FunctionContext, delta: number): void =>
  c.emit(
    c.m.i32.store(
      0,
      4,
      c.w.c32(STATE_X87_TOP),
      c.m.i32.and(c.m.i32.add(top(c), c.w.c32(delta)), c.w.c32(7)),
    ),
  );
const push = (c: FunctionContext, v: Expr): void => {
  const value = c.let(v, f64);
  moveTop(c, -1);
  c.emit(c.m.f64.store(0, 8, slot(c, 0), c.get(value, f64)));
};
const pop = (c: FunctionContext): void => moveTop(c, 1);

const stIndex = (reg: Register): number => reg - Register.ST0;

/** A floating-point memory operand (m32fp, m64fp, m80fp) as f64. */
function loadFp(c: FunctionContext): Expr {
  const mem = c.memory();
  const ptr = c.pointer(mem);
  if (mem.size === 4) return c.m.f64.promote(c.m.f32.load(0, 1, ptr));
  if (mem.size === 10) return c.m.call(LOAD80, [ptr], f64);
  return c.m.f64.load(0, 1, ptr);
}

function storeFp(c: FunctionContext, v: Expr): void {
  const mem = c.memory();
  const ptr = c.pointer(mem);
  if (mem.size === 4) c.emit(c.m.f32.store(0, 1, ptr, c.m.f32.demote(v)));
  else if (mem.size === 10) c.emit(c.m.call(STORE80, [ptr, v], binaryen.none));
  else c.emit(c.m.f64.store(0, 1, ptr, v));
}

/** The source of a one-operand-or-two form: memory, ST(i), or ST(1) when implicit. */
function source(c: FunctionContext): Expr {
  const ops = c.ins.operands;
  const last = ops[ops.length - 1];
  if (last?.kind === "mem") return loadFp(c);
  if (last?.kind === "reg") return st(c, stIndex(last.reg));
  return st(c, 1);
}

function fld(c: FunctionContext): void {
  const op = c.ins.operands[0];
  push(c, op?.kind === "reg" ? st(c, stIndex(op.reg)) : loadFp(c));
}

function fild(c: FunctionContext): void {
  const size = c.memory().size as 2 | 4 | 8;
  push(c, c.m.f64.convert_s.i64(c.w.signExtend(c.w.load(size, c.pointer(c.memory())), size)));
}

function fst(popAfter: boolean) {
  return (c: FunctionContext): void => {
    const op = c.ins.operands[0];
    if (op?.kind === "reg") setSt(c, stIndex(op.reg), st(c, 0));
    else storeFp(c, st(c, 0));
    if (popAfter) pop(c);
  };
}

/** Rounds per the control word's RC field (SDM Vol. 1 §8.1.5.3). */
function roundByControl(c: FunctionContext, v: Expr): Expr {
  const m = c.m;
  const x = c.let(v, f64);
  const rc = c.let(
    m.i32.and(m.i32.shr_u(m.i32.load(0, 4, c.w.c32(STATE_X87_CW)), c.w.c32(10)), c.w.c32(3)),
    i32,
  );
  const is = (k: number): Expr => m.i32.eq(c.get(rc, i32), c.w.c32(k));
  return m.select(
    is(0),
    m.f64.nearest(c.get(x, f64)),
    m.select(
      is(1),
      m.f64.floor(c.get(x, f64)),
      m.select(is(2), m.f64.ceil(c.get(x, f64)), m.f64.trunc(c.get(x, f64))),
    ),
  );
}

function fist(popAfter: boolean, truncate: boolean) {
  return (c: FunctionContext): void => {
    const m = c.m;
    const size = c.memory().size as 2 | 4 | 8;
    const rounded = c.let(truncate ? m.f64.trunc(st(c, 0)) : roundByControl(c, st(c, 0)), f64);
    const limit = 2 ** (size * 8 - 1);
    const inRange = m.i32.and(
      m.f64.ge(c.get(rounded, f64), m.f64.const(-limit)),
      m.f64.lt(c.get(rounded, f64), m.f64.const(limit)),
    );
    // Out of range: the "integer indefinite" value, the most negative integer.
    const value = m.select(
      inRange,
      m.i64.trunc_s_sat.f64(c.get(rounded, f64)),
      c.w.c64(-(1n << BigInt(size * 8 - 1))),
    );
    c.emit(c.w.store(size, c.pointer(c.memory()), value));
    if (popAfter) pop(c);
  };
}

type Arith = "add" | "sub" | "subr" | "mul" | "div" | "divr";

function arith(op: Arith, popAfter: boolean) {
  return (c: FunctionContext): void => {
    const m = c.m;
    const ops = c.ins.operands;
    // Two-register forms name the destination first; others write ST(0).
    const dst =
      ops.length === 2 && ops[0]?.kind === "reg"
        ? stIndex(ops[0].reg)
        : popAfter && ops.length === 0
          ? 1
          : 0;
    const srcIndex =
      ops.length === 2 && ops[1]?.kind === "reg" ? stIndex(ops[1].reg) : ops.length === 0 ? 0 : -1;
    const a = c.let(st(c, dst), f64);
    const b = c.let(srcIndex >= 0 ? st(c, srcIndex) : source(c), f64);
    const A = (): Expr => c.get(a, f64);
    const B = (): Expr => c.get(b, f64);
    const result = {
      add: () => m.f64.add(A(), B()),
      sub: () => m.f64.sub(A(), B()),
      subr: () => m.f64.sub(B(), A()),
      mul: () => m.f64.mul(A(), B()),
      div: () => m.f64.div(A(), B()),
      divr: () => m.f64.div(B(), A()),
    }[op]();
    setSt(c, dst, result);
    if (popAfter) pop(c);
  };
}

function unary(op: (c: FunctionContext, v: Expr) => Expr) {
  return (c: FunctionContext): void => setSt(c, 0, op(c, st(c, 0)));
}

/** fcomi/fucomi: ZF PF CF like comisd (SDM Vol. 2A "FCOMI"). */
function comi(popAfter: boolean) {
  return (c: FunctionContext): void => {
    const m = c.m;
    const op = c.ins.operands[1];
    const a = c.let(st(c, 0), f64);
    const b = c.let(st(c, op?.kind === "reg" ? stIndex(op.reg) : 1), f64);
    const unordered = c.let(
      m.i32.or(m.f64.ne(c.get(a, f64), c.get(a, f64)), m.f64.ne(c.get(b, f64), c.get(b, f64))),
      i32,
    );
    c.setFlag(ZF, m.i32.or(c.get(unordered, i32), m.f64.eq(c.get(a, f64), c.get(b, f64))));
    c.setFlag(PF, c.get(unordered, i32));
    c.setFlag(CF, m.i32.or(c.get(unordered, i32), m.f64.lt(c.get(a, f64), c.get(b, f64))));
    c.clearFlags(OF | SF | AF);
    if (popAfter) pop(c);
  };
}

/** Sets C3 C2 C0 (bits 14, 10, 8 of the status word). */
function setConditionCodes(c: FunctionContext, c3: Expr, c2: Expr, c0: Expr, c1?: Expr): void {
  const m = c.m;
  const w = c.w;
  let bits = m.i32.or(
    m.i32.or(m.i32.shl(c3, w.c32(14)), m.i32.shl(c2, w.c32(10))),
    m.i32.shl(c0, w.c32(8)),
  );
  if (c1 !== undefined) bits = m.i32.or(bits, m.i32.shl(c1, w.c32(9)));
  const sw = m.i32.and(m.i32.load(0, 4, w.c32(STATE_X87_SW)), w.c32(~0x4700));
  c.emit(m.i32.store(0, 4, w.c32(STATE_X87_SW), m.i32.or(sw, bits)));
}

function fcom(pops: number, withZero = false) {
  return (c: FunctionContext): void => {
    const m = c.m;
    const a = c.let(st(c, 0), f64);
    const b = c.let(withZero ? m.f64.const(0) : source(c), f64);
    const unordered = c.let(
      m.i32.or(m.f64.ne(c.get(a, f64), c.get(a, f64)), m.f64.ne(c.get(b, f64), c.get(b, f64))),
      i32,
    );
    setConditionCodes(
      c,
      m.i32.or(c.get(unordered, i32), m.f64.eq(c.get(a, f64), c.get(b, f64))),
      c.get(unordered, i32),
      m.i32.or(c.get(unordered, i32), m.f64.lt(c.get(a, f64), c.get(b, f64))),
    );
    for (let i = 0; i < pops; i++) pop(c);
  };
}

/** fxam: class in C3 C2 C0, sign in C1 (SDM Vol. 2A "FXAM"); the stack is never tagged empty. */
function fxam(c: FunctionContext): void {
  const m = c.m;
  const w = c.w;
  const bits = c.let(m.i64.reinterpret(st(c, 0)), i64);
  const exp = c.let(
    m.i32.wrap(m.i64.and(m.i64.shr_u(c.get(bits, i64), w.c64(52)), w.c64(0x7ff))),
    i32,
  );
  const frac = c.let(m.i64.and(c.get(bits, i64), w.c64((1n << 52n) - 1n)), i64);
  const isMaxExp = m.i32.eq(c.get(exp, i32), w.c32(0x7ff));
  const isZeroExp = m.i32.eqz(c.get(exp, i32));
  const fracZero = m.i64.eqz(c.get(frac, i64));
  // NaN 001, normal 010, infinity 011, zero 100, denormal 110.
  const nan = c.let(m.i32.and(isMaxExp, m.i32.eqz(fracZero)), i32);
  const zero = c.let(m.i32.and(m.i32.eqz(c.get(exp, i32)), m.i64.eqz(c.get(frac, i64))), i32);
  const c3 = m.i32.or(
    c.get(zero, i32),
    m.i32.and(isZeroExp, m.i32.eqz(m.i64.eqz(c.get(frac, i64)))),
  );
  const c2 = m.i32.and(m.i32.eqz(c.get(nan, i32)), m.i32.eqz(c.get(zero, i32)));
  const c0 = m.i32.and(m.i32.eq(c.get(exp, i32), w.c32(0x7ff)), w.c32(1));
  setConditionCodes(c, c3, c2, c0, m.i32.wrap(m.i64.shr_u(c.get(bits, i64), w.c64(63))));
}

function fnstsw(c: FunctionContext): void {
  const m = c.m;
  const sw = m.i32.or(
    m.i32.and(m.i32.load(0, 4, c.w.c32(STATE_X87_SW)), c.w.c32(~0x3800)),
    m.i32.shl(top(c), c.w.c32(11)),
  );
  const op = c.ins.operands[0];
  if (op?.kind === "reg") c.writeReg(op.reg, m.i64.extend_u(sw));
  else c.emit(m.i32.store16(0, 1, c.pointer(c.memory()), sw));
}

function constant(value: number) {
  return (c: FunctionContext): void => push(c, c.m.f64.const(value));
}

export const x87Semantics: readonly SemanticsEntry[] = [
  [Mnemonic.Fld, fld],
  [Mnemonic.Fild, fild],
  [Mnemonic.Fst, fst(false)],
  [Mnemonic.Fstp, fst(true)],
  [Mnemonic.Fist, fist(false, false)],
  [Mnemonic.Fistp, fist(true, false)],
  [Mnemonic.Fisttp, fist(true, true)],
  [
    Mnemonic.Fxch,
    (c) => {
      const op = c.ins.operands[1] ?? c.ins.operands[0];
      const i = op?.kind === "reg" ? stIndex(op.reg) : 1;
      const a = c.let(st(c, 0), f64);
      setSt(c, 0, st(c, i));
      setSt(c, i, c.get(a, f64));
    },
  ],
  [Mnemonic.Fadd, arith("add", false)],
  [Mnemonic.Faddp, arith("add", true)],
  [Mnemonic.Fsub, arith("sub", false)],
  [Mnemonic.Fsubp, arith("sub", true)],
  [Mnemonic.Fsubr, arith("subr", false)],
  [Mnemonic.Fsubrp, arith("subr", true)],
  [Mnemonic.Fmul, arith("mul", false)],
  [Mnemonic.Fmulp, arith("mul", true)],
  [Mnemonic.Fdiv, arith("div", false)],
  [Mnemonic.Fdivp, arith("div", true)],
  [Mnemonic.Fdivr, arith("divr", false)],
  [Mnemonic.Fdivrp, arith("divr", true)],
  [Mnemonic.Fchs, unary((c, v) => c.m.f64.neg(v))],
  [Mnemonic.Fabs, unary((c, v) => c.m.f64.abs(v))],
  [Mnemonic.Fsqrt, unary((c, v) => c.m.f64.sqrt(v))],
  [Mnemonic.Frndint, unary((c, v) => roundByControl(c, v))],
  [
    Mnemonic.Fscale,
    (c) => setSt(c, 0, c.m.f64.mul(st(c, 0), c.m.call(POW2, [c.m.f64.trunc(st(c, 1))], f64))),
  ],
  [
    Mnemonic.Fprem,
    (c) => {
      const m = c.m;
      const a = c.let(st(c, 0), f64);
      const b = c.let(st(c, 1), f64);
      setSt(
        c,
        0,
        m.f64.sub(
          c.get(a, f64),
          m.f64.mul(m.f64.trunc(m.f64.div(c.get(a, f64), c.get(b, f64))), c.get(b, f64)),
        ),
      );
      setConditionCodes(c, c.w.c32(0), c.w.c32(0), c.w.c32(0));
    },
  ],
  [Mnemonic.Fucomi, comi(false)],
  [Mnemonic.Fucomip, comi(true)],
  [Mnemonic.Fcomi, comi(false)],
  [Mnemonic.Fcomip, comi(true)],
  [Mnemonic.Fucom, fcom(0)],
  [Mnemonic.Fucomp, fcom(1)],
  [Mnemonic.Fucompp, fcom(2)],
  [Mnemonic.Fcom, fcom(0)],
  [Mnemonic.Fcomp, fcom(1)],
  [Mnemonic.Fcompp, fcom(2)],
  [Mnemonic.Ftst, fcom(0, true)],
  [Mnemonic.Fxam, fxam],
  [Mnemonic.Fnstsw, fnstsw],
  [
    Mnemonic.Fnstcw,
    (c) =>
      c.emit(
        c.m.i32.store16(0, 1, c.pointer(c.memory()), c.m.i32.load(0, 4, c.w.c32(STATE_X87_CW))),
      ),
  ],
  [
    Mnemonic.Fldcw,
    (c) =>
      c.emit(
        c.m.i32.store(0, 4, c.w.c32(STATE_X87_CW), c.m.i32.load16_u(0, 1, c.pointer(c.memory()))),
      ),
  ],
  [Mnemonic.Fld1, constant(1)],
  [Mnemonic.Fldz, constant(0)],
  [Mnemonic.Fldpi, constant(Math.PI)],
  [Mnemonic.Fldl2e, constant(Math.LOG2E)],
  [Mnemonic.Fldln2, constant(Math.LN2)],
  [Mnemonic.Fldl2t, constant(Math.log2(10))],
  [Mnemonic.Fldlg2, constant(Math.LOG10E === 0 ? 0 : Math.log10(2))],
  [
    Mnemonic.Fninit,
    (c) => {
      c.emit(c.m.i32.store(0, 4, c.w.c32(STATE_X87_TOP), c.w.c32(0)));
      c.emit(c.m.i32.store(0, 4, c.w.c32(STATE_X87_CW), c.w.c32(0x37f)));
      c.emit(c.m.i32.store(0, 4, c.w.c32(STATE_X87_SW), c.w.c32(0)));
    },
  ],
  [Mnemonic.Ffree, () => undefined],
  [Mnemonic.Fincstp, (c) => moveTop(c, 1)],
  [Mnemonic.Fdecstp, (c) => moveTop(c, -1)],
];
