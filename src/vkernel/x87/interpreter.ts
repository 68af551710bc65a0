// The x87 hypercall: executes one x87 instruction (decoded from its packed
// id, x87-ops.ts) on the state block and guest memory, and returns what the
// lifted code needs back (EFLAGS bits for FCOMI, the status word for FNSTSW).
// Exceptions take their masked responses (SDM Vol. 1 §8.5); an unmasked
// exception only sets ES and B, since no #MF/SIGFPE is delivered.
import { decodeX87, X87_MEM, X87_OP, type X87Instruction } from "../../lift/semantics/x87-ops.js";
import { add, divide, multiply, sqrt, type Env, type Result } from "./arith.js";
import { compare, conditionBits, eflagsBits, examine } from "./compare.js";
import { loadConstant } from "./constants.js";
import {
  loadBcd,
  loadDouble,
  loadInteger,
  loadSingle,
  storeBcd,
  storeDouble,
  storeInteger,
  storeSingle,
} from "./convert.js";
import {
  fxrstor,
  fxsave,
  loadEnvironment,
  restoreState,
  saveState,
  storeEnvironment,
} from "./environment.js";
import { extract, roundToIntegral, scale } from "./exponent.js";
import { negate, ONE, readFloat80, withSign, writeFloat80, ZERO, type Float80 } from "./float80.js";
import { partialRemainder } from "./remainder.js";
import { SW_C0, SW_C1, SW_C2, SW_C3, X87State } from "./state.js";
import { f2xm1, fpatan, fyl2x, fyl2xp1, trig } from "./transcendental.js";

/** Reads the memory operand as a register value (FLD, FILD, arithmetic sources). */
function loadOperand(s: X87State, mem: DataView, ins: X87Instruction, at: number): Float80 {
  let r: { value: Float80; flags: number };
  switch (ins.mem) {
    case X87_MEM.INT16:
      return loadInteger(BigInt(mem.getInt16(at, true)));
    case X87_MEM.INT32:
      return loadInteger(BigInt(mem.getInt32(at, true)));
    case X87_MEM.INT64:
      return loadInteger(mem.getBigInt64(at, true));
    case X87_MEM.FP32:
      r = loadSingle(mem.getUint32(at, true));
      break;
    case X87_MEM.FP64:
      r = loadDouble(mem.getBigUint64(at, true));
      break;
    case X87_MEM.BCD:
      return loadBcd(new Uint8Array(mem.buffer, mem.byteOffset + at, 10));
    default:
      return readFloat80(mem, at);
  }
  s.raise(r.flags);
  return r.value;
}

/** FST/FSTP to memory: rounds to the destination format with RC. */
function storeOperand(
  s: X87State,
  mem: DataView,
  ins: X87Instruction,
  at: number,
  v: Float80,
): void {
  switch (ins.mem) {
    case X87_MEM.FP32: {
      const r = storeSingle(v, s.rc);
      mem.setUint32(at, r.value, true);
      s.raise(r.flags);
      return s.setC1(r.roundedUp === true);
    }
    case X87_MEM.FP64: {
      const r = storeDouble(v, s.rc);
      mem.setBigUint64(at, r.value, true);
      s.raise(r.flags);
      return s.setC1(r.roundedUp === true);
    }
    default:
      writeFloat80(mem, at, v);
  }
}

function storeIntegerOperand(
  s: X87State,
  mem: DataView,
  ins: X87Instruction,
  at: number,
  truncate: boolean,
): void {
  const bits = ins.mem === X87_MEM.INT16 ? 16 : ins.mem === X87_MEM.INT32 ? 32 : 64;
  const r = storeInteger(s.st(0), bits, truncate ? "truncate" : s.rc);
  if (bits === 16) mem.setUint16(at, Number(r.value), true);
  else if (bits === 32) mem.setUint32(at, Number(r.value), true);
  else mem.setBigUint64(at, r.value, true);
  s.raise(r.flags);
  s.setC1(r.roundedUp === true);
}

/** Writes an arithmetic result to ST(i) with its flags and C1. */
function put(s: X87State, i: number, r: Result): void {
  s.setSt(i, r.value);
  s.raise(r.flags);
  s.setC1(r.roundedUp === true);
}

function arithmetic(s: X87State, mem: DataView, ins: X87Instruction, at: number): void {
  const fromMemory = ins.mem !== X87_MEM.NONE;
  const dst = !fromMemory && ins.toReg ? ins.reg : 0;
  const a = s.st(dst);
  const b = fromMemory ? loadOperand(s, mem, ins, at) : s.st(ins.toReg ? 0 : ins.reg);
  const env: Env = { rc: s.rc, fmt: s.precisionFormat };
  let result: Result;
  switch (ins.op) {
    case X87_OP.ADD:
      result = add(a, b, env);
      break;
    case X87_OP.SUB:
      result = add(a, b, env, true);
      break;
    case X87_OP.SUBR:
      result = add(b, a, env, true);
      break;
    case X87_OP.MUL:
      result = multiply(a, b, env);
      break;
    case X87_OP.DIV:
      result = divide(a, b, env);
      break;
    default:
      result = divide(b, a, env);
  }
  put(s, dst, result);
}

function comparison(s: X87State, mem: DataView, ins: X87Instruction, at: number): number {
  const a = s.st(0);
  const b =
    ins.op === X87_OP.TST
      ? ZERO
      : ins.mem !== X87_MEM.NONE
        ? loadOperand(s, mem, ins, at)
        : s.st(ins.reg);
  const ordered = ins.op !== X87_OP.UCOM && ins.op !== X87_OP.UCOMI;
  const { order, flags } = compare(a, b, ordered);
  s.raise(flags);
  s.setC1(false);
  if (ins.op === X87_OP.COMI || ins.op === X87_OP.UCOMI) return eflagsBits(order);
  s.setConditionCodes(conditionBits(order));
  return 0;
}

/** Functions of ST(0) (and ST(1)) that neither load nor store memory. */
function stackFunction(s: X87State, op: number): void {
  const rc = s.rc;
  switch (op) {
    case X87_OP.CHS:
    case X87_OP.ABS: {
      // On stack underflow the result is the indefinite itself, not its negation.
      const empty = s.isEmpty(0);
      const v = s.st(0);
      s.setSt(0, empty ? v : op === X87_OP.CHS ? negate(v) : withSign(v, 0));
      return s.setC1(false);
    }
    case X87_OP.SQRT:
      return put(s, 0, sqrt(s.st(0), { rc, fmt: s.precisionFormat }));
    case X87_OP.RNDINT:
      return put(s, 0, roundToIntegral(s.st(0), rc));
    case X87_OP.SCALE:
      return put(s, 0, scale(s.st(0), s.st(1), rc));
    case X87_OP.F2XM1:
      return put(s, 0, f2xm1(s.st(0), rc));
    case X87_OP.XTRACT: {
      const r = extract(s.st(0));
      s.setSt(0, r.exponent);
      s.raise(r.flags);
      return s.push(r.significand);
    }
    case X87_OP.PREM:
    case X87_OP.PREM1: {
      const r = partialRemainder(s.st(0), s.st(1), op === X87_OP.PREM1);
      s.setSt(0, r.value);
      s.raise(r.flags);
      const q = r.quotientBits;
      return s.setConditionCodes(
        (r.partial ? SW_C2 : 0) | (q & 4 ? SW_C0 : 0) | (q & 2 ? SW_C3 : 0) | (q & 1 ? SW_C1 : 0),
      );
    }
    case X87_OP.YL2X:
    case X87_OP.YL2XP1:
    case X87_OP.PATAN: {
      const f = op === X87_OP.YL2X ? fyl2x : op === X87_OP.YL2XP1 ? fyl2xp1 : fpatan;
      put(s, 1, f(s.st(0), s.st(1), rc));
      return s.pop();
    }
    default:
      return trigonometric(s, op);
  }
}

function trigonometric(s: X87State, op: number): void {
  const t = trig(s.st(0), s.rc);
  s.sw = t.outOfRange ? s.sw | SW_C2 : s.sw & ~SW_C2;
  if (t.outOfRange) return;
  if (op === X87_OP.SIN) return put(s, 0, t.sin);
  if (op === X87_OP.COS) return put(s, 0, t.cos);
  if (op === X87_OP.SINCOS) {
    put(s, 0, t.sin);
    s.push(t.cos.value);
    return s.raise(t.cos.flags);
  }
  put(s, 0, t.tan);
  s.push(ONE);
}

/** Executes one x87 instruction; `address` is its memory operand's address. */
export function executeX87(view: DataView, id: number, address: number): number {
  const s = new X87State(view);
  const ins = decodeX87(id);
  const at = address >>> 0;
  let result = 0;
  switch (ins.op) {
    case X87_OP.LD: {
      const v = ins.mem === X87_MEM.NONE ? s.st(ins.reg) : loadOperand(s, view, ins, at);
      s.setC1(false);
      s.push(v);
      break;
    }
    case X87_OP.LDCONST: {
      const c = loadConstant(ins.reg, s.rc);
      s.setC1(false);
      s.push(c.value);
      break;
    }
    case X87_OP.ST: {
      const v = s.st(0);
      s.setC1(false);
      if (ins.mem === X87_MEM.NONE) s.setSt(ins.reg, v);
      else storeOperand(s, view, ins, at, v);
      break;
    }
    case X87_OP.BSTP: {
      const r = storeBcd(s.st(0), s.rc);
      new Uint8Array(view.buffer, view.byteOffset + at, 10).set(r.value);
      s.raise(r.flags);
      s.setC1(r.roundedUp === true);
      break;
    }
    case X87_OP.IST:
    case X87_OP.ISTT:
      s.setC1(false);
      storeIntegerOperand(s, view, ins, at, ins.op === X87_OP.ISTT);
      break;
    case X87_OP.ADD:
    case X87_OP.SUB:
    case X87_OP.SUBR:
    case X87_OP.MUL:
    case X87_OP.DIV:
    case X87_OP.DIVR:
      arithmetic(s, view, ins, at);
      break;
    case X87_OP.COM:
    case X87_OP.UCOM:
    case X87_OP.COMI:
    case X87_OP.UCOMI:
    case X87_OP.TST:
      result = comparison(s, view, ins, at);
      break;
    case X87_OP.XAM:
      s.setConditionCodes(examine(s.peek(0), s.isEmpty(0)));
      break;
    case X87_OP.XCH: {
      const a = s.peek(0);
      const emptyA = s.isEmpty(0);
      const emptyB = s.isEmpty(ins.reg);
      s.setSt(0, emptyB ? s.st(ins.reg) : s.peek(ins.reg));
      s.setSt(ins.reg, emptyA ? s.st(0) : a);
      s.setC1(false);
      break;
    }
    case X87_OP.MOV:
      s.setSt(0, s.st(ins.reg));
      break;
    case X87_OP.FREE:
      s.free(ins.reg);
      break;
    case X87_OP.INCSTP:
    case X87_OP.DECSTP:
      s.top = s.top + (ins.op === X87_OP.INCSTP ? 1 : -1);
      s.setC1(false);
      break;
    case X87_OP.INIT:
      s.init();
      break;
    case X87_OP.CLEX:
      s.sw = s.sw & 0x7f00;
      break;
    case X87_OP.STSW:
      result = s.sw;
      if (ins.mem !== X87_MEM.NONE) view.setUint16(at, result, true);
      break;
    case X87_OP.STCW:
      view.setUint16(at, s.cw, true);
      break;
    case X87_OP.LDCW:
      s.cw = view.getUint16(at, true);
      break;
    case X87_OP.STENV:
      storeEnvironment(s, view, at);
      break;
    case X87_OP.LDENV:
      loadEnvironment(s, view, at);
      break;
    case X87_OP.SAVE:
      saveState(s, view, at);
      break;
    case X87_OP.RSTOR:
      restoreState(s, view, at);
      break;
    case X87_OP.FXSAVE:
      fxsave(s, view, at);
      break;
    case X87_OP.FXRSTOR:
      fxrstor(s, view, at);
      break;
    default:
      stackFunction(s, ins.op);
  }
  for (let i = 0; i < ins.pops; i++) s.pop();
  return result;
}
