// The x87 fast path: common x87 instructions on ordinary values run in wasm
// instead of the kernel.x87 hypercall (x87.ts). Each packed instruction id
// the lifted code uses gets a helper of its own, `megalift_x87_<id>`
// (address) → i32, added to the module on first use: loads, stores, FXCH,
// FCHS, FABS, FCMOVcc, the four basic operations and the comparisons, on
// zeros and normals at 64-bit precision (x87-wasm-arith.ts, -convert.ts).
// Anything else — an empty or full register, a denormal, an infinity or
// NaN, a tiny or overflowing result, precision control below 64 bits —
// calls kernel.x87 with the same id before anything is written, and the
// BigInt soft float answers it. A hypercall costs about half a microsecond
// (musl formats every double through long double: 80× native on printf);
// a helper, a few nanoseconds.
import { i32, type Expr, type Wasm } from "../emit/wasm.js";
import { STATE_X87_CW } from "../guest-layout.js";
import { arithmetic, type ArithOp } from "./x87-wasm-arith.js";
import { loadEnvironment, storeEnvironment } from "./x87-wasm-environment.js";
import {
  FAST_LOADS,
  loadMemory,
  roundToIntegral,
  storeInteger,
  storeMemory,
  type Stored,
} from "./x87-wasm-convert.js";
import { EXP_BIAS, INTEGER_BIT, SW_CC, X87Frame, type Value } from "./x87-wasm-frame.js";
import { decodeX87, X87_CONST, X87_MEM, X87_OP, type X87Instruction } from "./x87-ops.js";

const ARITHMETIC = new Map<number, [ArithOp, boolean]>([
  [X87_OP.ADD, ["add", false]],
  [X87_OP.SUB, ["sub", false]],
  [X87_OP.SUBR, ["sub", true]],
  [X87_OP.MUL, ["mul", false]],
  [X87_OP.DIV, ["div", false]],
  [X87_OP.DIVR, ["div", true]],
]);
const COMPARISONS: ReadonlySet<number> = new Set([
  X87_OP.COM,
  X87_OP.UCOM,
  X87_OP.COMI,
  X87_OP.UCOMI,
  X87_OP.TST,
]);
const STACK: ReadonlySet<number> = new Set([
  X87_OP.XCH,
  X87_OP.CHS,
  X87_OP.ABS,
  X87_OP.MOV,
  X87_OP.STCW,
  X87_OP.LDCW,
  X87_OP.STSW,
  X87_OP.STENV,
  X87_OP.LDENV,
]);
const STORES: ReadonlySet<number> = new Set([
  X87_MEM.NONE,
  X87_MEM.FP32,
  X87_MEM.FP64,
  X87_MEM.FP80,
]);
const INTEGER_BITS = new Map<number, 16 | 32 | 64>([
  [X87_MEM.INT16, 16],
  [X87_MEM.INT32, 32],
  [X87_MEM.INT64, 64],
]);

/** Whether `ins` has a fast path (else the lifted code calls kernel.x87 directly). */
export function hasFastPath(ins: X87Instruction): boolean {
  const source = ins.mem === X87_MEM.NONE || FAST_LOADS.has(ins.mem);
  switch (ins.op) {
    case X87_OP.LD:
      return source;
    case X87_OP.LDCONST:
      return ins.reg === X87_CONST.ONE || ins.reg === X87_CONST.Z;
    case X87_OP.ST:
      return STORES.has(ins.mem);
    case X87_OP.IST:
    case X87_OP.ISTT:
      return INTEGER_BITS.has(ins.mem);
    case X87_OP.RNDINT:
      return true;
    default:
      if (ARITHMETIC.has(ins.op) || COMPARISONS.has(ins.op)) return source;
      return STACK.has(ins.op);
  }
}

/** The helper's name for the packed `id`, added to the module on first use; undefined without a fast path. */
export function x87Helper(w: Wasm, id: number): string | undefined {
  const ins = decodeX87(id);
  if (!hasFastPath(ins)) return undefined;
  const name = `megalift_x87_${id.toString(16)}`;
  if (w.m.getFunction(name) === 0) build(new X87Frame(w), ins, id, name);
  return name;
}

function build(f: X87Frame, ins: X87Instruction, id: number, name: string): void {
  let result: Expr = f.c32(0);
  const arith = ARITHMETIC.get(ins.op);
  if (ins.op === X87_OP.LD || ins.op === X87_OP.LDCONST) load(f, ins);
  else if (ins.op === X87_OP.ST) {
    const v = f.value();
    f.readSt(0, v);
    if (ins.mem === X87_MEM.NONE) {
      f.setC1(f.c32(0));
      f.writeSt(ins.reg, v);
    } else report(f, storeMemory(f, ins.mem, v));
  } else if (ins.op === X87_OP.IST || ins.op === X87_OP.ISTT) {
    const v = f.value();
    f.readSt(0, v);
    report(f, storeInteger(f, INTEGER_BITS.get(ins.mem) ?? 64, ins.op === X87_OP.ISTT, v));
  } else if (ins.op === X87_OP.RNDINT) {
    const v = f.value();
    f.readSt(0, v);
    const r = roundToIntegral(f, v);
    f.writeSt(0, r.value);
    report(f, r);
  } else if (arith !== undefined) {
    const [op, reversed] = arith;
    const fromMemory = ins.mem !== X87_MEM.NONE;
    const dst = !fromMemory && ins.toReg ? ins.reg : 0;
    const a = f.value();
    const b = f.value();
    f.readSt(dst, a);
    if (fromMemory) loadMemory(f, ins.mem, b);
    else f.readSt(ins.toReg ? 0 : ins.reg, b);
    const r = reversed ? arithmetic(f, op, b, a) : arithmetic(f, op, a, b);
    f.writeSt(dst, r.value);
    report(f, { flags: r.flags, up: r.up });
  } else if (COMPARISONS.has(ins.op)) result = comparison(f, ins);
  else {
    const done = stack(f, ins);
    if (done !== undefined) return f.finish(name, id, done);
  }
  for (let i = 0; i < ins.pops; i++) f.pop();
  f.writeStatus();
  f.finish(name, id, result);
}

/** FLD, FILD and FLD1/FLDZ: the value, then a push (C1 cleared). */
function load(f: X87Frame, ins: X87Instruction): void {
  const v = f.value();
  if (ins.op === X87_OP.LDCONST) {
    const one = ins.reg === X87_CONST.ONE;
    f.emit(f.set(v.sig, f.c64(one ? INTEGER_BIT : 0n)), f.set(v.se, f.c32(one ? EXP_BIAS : 0)));
  } else if (ins.mem === X87_MEM.NONE) f.readSt(ins.reg, v);
  else loadMemory(f, ins.mem, v);
  f.checkPush();
  f.setC1(f.c32(0));
  f.push(v);
}

/** Raises a store's or an operation's flags and sets C1 to whether it rounded up. */
function report(f: X87Frame, s: Stored): void {
  f.raise(s.flags);
  f.setC1(f.get(s.up));
}

/** FCOM/FUCOM/FTST (C3 C2 C0) and FCOMI/FUCOMI (ZF PF CF as the result) on zeros and normals. */
function comparison(f: X87Frame, ins: X87Instruction): Expr {
  const m = f.m;
  const a = f.value();
  const b = f.value();
  f.readSt(0, a);
  if (ins.op === X87_OP.TST) f.emit(f.set(b.sig, f.c64(0)), f.set(b.se, f.c32(0)));
  else if (ins.mem !== X87_MEM.NONE) loadMemory(f, ins.mem, b);
  else f.readSt(ins.reg, b);
  f.requireOrdinary(a);
  f.requireOrdinary(b);
  const [sa, sb, lt, gt] = [f.local(i32), f.local(i32), f.local(i32), f.local(i32)];
  /** The sign bit, 0 for a zero (+0 = −0). */
  const sign = (v: Value): Expr =>
    m.i32.and(m.i32.shr_u(f.get(v.se), f.c32(15)), m.i32.eqz(f.isZero(v)));
  const magnitude = (x: Value, y: Value): Expr =>
    m.i32.or(
      m.i32.gt_u(f.exponent(x), f.exponent(y)),
      m.i32.and(m.i32.eq(f.exponent(x), f.exponent(y)), m.i64.gt_u(f.get(x.sig), f.get(y.sig))),
    );
  f.emit(
    f.set(sa, sign(a)),
    f.set(sb, sign(b)),
    m.if(
      m.i32.ne(f.get(sa), f.get(sb)),
      m.block(null, [f.set(lt, f.get(sa)), f.set(gt, f.get(sb))]),
      m.block(null, [
        f.set(lt, m.select(f.get(sa), magnitude(a, b), magnitude(b, a))),
        f.set(gt, m.select(f.get(sa), magnitude(b, a), magnitude(a, b))),
      ]),
    ),
  );
  const pick = (gtValue: number, ltValue: number, eqValue: number): Expr =>
    m.select(f.get(gt), f.c32(gtValue), m.select(f.get(lt), f.c32(ltValue), f.c32(eqValue)));
  f.setC1(f.c32(0));
  if (ins.op === X87_OP.COMI || ins.op === X87_OP.UCOMI) return pick(0, 4, 1);
  f.emit(f.set(f.sw, m.i32.or(m.i32.and(f.get(f.sw), f.c32(~SW_CC)), pick(0, 0x0100, 0x4000))));
  return f.c32(0);
}

/**
 * FXCH, FCHS, FABS, FCMOVcc; FNSTCW, FLDCW, FNSTSW, FNSTENV and FLDENV,
 * which write the state themselves (their result, with no status write-back).
 */
function stack(f: X87Frame, ins: X87Instruction): Expr | undefined {
  const m = f.m;
  const a = f.value();
  switch (ins.op) {
    case X87_OP.XCH: {
      const b = f.value();
      f.readSt(0, a);
      f.readSt(ins.reg, b);
      f.writeSt(0, b);
      f.writeSt(ins.reg, a);
      f.setC1(f.c32(0));
      return undefined;
    }
    case X87_OP.CHS:
    case X87_OP.ABS: {
      f.readSt(0, a);
      const se =
        ins.op === X87_OP.CHS
          ? m.i32.xor(f.get(a.se), f.c32(0x8000))
          : m.i32.and(f.get(a.se), f.c32(0x7fff));
      f.emit(f.set(a.se, se));
      f.writeSt(0, a);
      f.setC1(f.c32(0));
      return undefined;
    }
    case X87_OP.MOV:
      f.readSt(ins.reg, a);
      f.writeSt(0, a);
      return undefined;
    case X87_OP.STCW:
      f.emit(m.i32.store16(0, 1, f.get(f.address), f.get(f.cw)));
      return f.c32(0);
    case X87_OP.STENV:
      return storeEnvironment(f);
    case X87_OP.LDENV:
      return loadEnvironment(f);
    case X87_OP.LDCW:
      f.emit(m.i32.store(0, 2, f.c32(STATE_X87_CW), m.i32.load16_u(0, 1, f.get(f.address))));
      return f.c32(0);
    default:
      if (ins.mem !== X87_MEM.NONE) f.emit(m.i32.store16(0, 1, f.get(f.address), f.get(f.sw)));
      return f.get(f.sw);
  }
}
