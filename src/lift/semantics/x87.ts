// x87 floating point as a hypercall (the seam to the vkernel, STYLE.md): the
// 80-bit register stack, control and status words live in the state block
// and a soft-float in src/vkernel/x87/ executes each instruction exactly as
// SDM Vol. 1 ch. 4 and 8 describe — double extended precision, precision
// and rounding control, NaNs and denormals. This file only maps encodings to
// a packed id (x87-ops.ts) and passes the memory operand's address; FCOMI
// and FUCOMI take ZF PF CF from the result, FNSTSW AX writes it, FCMOVcc
// tests its condition here. Common instructions on ordinary values take a
// wasm fast path first (x87-wasm.ts), which calls the kernel for the rest.
import { ConditionCode, MemorySize, Mnemonic, Register } from "iced-x86";
import binaryen from "binaryen";
import { AF, CF, OF, PF, SF, ZF } from "../emit/flags.js";
import type { FunctionContext } from "../emit/function-context.js";
import { i32, type Expr } from "../emit/wasm.js";
import type { Handler, SemanticsEntry } from "./types.js";
import {
  encodeX87,
  X87_CF,
  X87_CONST,
  X87_IMPORT,
  X87_MEM,
  X87_OP,
  X87_PF,
  X87_ZF,
  type X87Mem,
  type X87Op,
} from "./x87-ops.js";
import { x87Helper } from "./x87-wasm.js";

const stIndex = (reg: Register): number => reg - Register.ST0;

const MEMORY_FORMATS = new Map<MemorySize, X87Mem>([
  [MemorySize.Int16, X87_MEM.INT16],
  [MemorySize.Int32, X87_MEM.INT32],
  [MemorySize.Int64, X87_MEM.INT64],
  [MemorySize.Float32, X87_MEM.FP32],
  [MemorySize.Float64, X87_MEM.FP64],
  [MemorySize.Float80, X87_MEM.FP80],
  [MemorySize.Bcd, X87_MEM.BCD],
]);

/** The memory operand's format, or NONE when the instruction has none. */
function memoryFormat(c: FunctionContext): X87Mem {
  if (!c.ins.operands.some((op) => op.kind === "mem")) return X87_MEM.NONE;
  return MEMORY_FORMATS.get(c.memory().memorySize) ?? X87_MEM.IMAGE;
}

interface CallOptions {
  readonly reg?: number;
  readonly toReg?: boolean;
  readonly pops?: number;
}

/** The hypercall for the current instruction; returns its i32 result. */
function x87Call(c: FunctionContext, op: X87Op, o: CallOptions = {}): Expr {
  const mem = memoryFormat(c);
  const hasMemory = c.ins.operands.some((x) => x.kind === "mem");
  const id = encodeX87({ op, reg: o.reg ?? 0, toReg: o.toReg ?? false, pops: o.pops ?? 0, mem });
  const address = hasMemory ? c.pointer(c.memory()) : c.w.c32(0);
  const helper = x87Helper(c.w, id);
  if (helper !== undefined) return c.m.call(helper, [address], i32);
  return c.m.call(X87_IMPORT, [c.w.c32(id), address], i32);
}

const run = (c: FunctionContext, op: X87Op, o?: CallOptions): void =>
  c.emit(c.m.drop(x87Call(c, op, o)));

/** The ST(i) register operand at `index`, if it is one. */
function stOperand(c: FunctionContext, index: number): number | undefined {
  const op = c.ins.operands[index];
  return op?.kind === "reg" && op.reg >= Register.ST0 && op.reg <= Register.ST7
    ? stIndex(op.reg)
    : undefined;
}

/** Instructions whose only operand is ST(i) or memory (FLD, FST, FCOM, FXCH …). */
function simple(op: X87Op, pops = 0, operand = 0): Handler {
  return (c) => run(c, op, { reg: stOperand(c, operand) ?? 1, pops });
}

/** FADD-family: `dst op= src`; two register forms name the destination first. */
function arith(op: X87Op, pops = 0): Handler {
  return (c) => {
    const first = stOperand(c, 0);
    const second = stOperand(c, 1);
    if (first === undefined || second === undefined) return run(c, op, { pops });
    if (first === 0) return run(c, op, { reg: second, pops });
    return run(c, op, { reg: first, toReg: true, pops });
  };
}

/** FCOM-family with an explicit ST(0), ST(i) (or memory, or implicit ST(1)). */
function compare(op: X87Op, pops: number): Handler {
  return (c) => run(c, op, { reg: stOperand(c, 1) ?? stOperand(c, 0) ?? 1, pops });
}

/** FCOMI/FUCOMI: ZF PF CF from the result (SDM Vol. 2A "FCOMI"); OF SF AF cleared. */
function comi(op: X87Op, pops: number): Handler {
  return (c) => {
    const m = c.m;
    const r = c.let(x87Call(c, op, { reg: stOperand(c, 1) ?? 1, pops }), i32);
    const bit = (mask: number): Expr =>
      m.i32.ne(m.i32.and(c.get(r, i32), c.w.c32(mask)), c.w.c32(0));
    c.setFlag(ZF, bit(X87_ZF));
    c.setFlag(PF, bit(X87_PF));
    c.setFlag(CF, bit(X87_CF));
    c.clearFlags(OF | SF | AF);
  };
}

/** FCMOVcc: ST(0) ← ST(i) when the EFLAGS condition holds. */
function fcmov(cc: ConditionCode): Handler {
  return (c) => {
    const call = c.m.drop(x87Call(c, X87_OP.MOV, { reg: stOperand(c, 1) ?? 1 }));
    c.emit(c.m.if(c.condition(cc), call));
  };
}

function fnstsw(c: FunctionContext): void {
  const op = c.ins.operands[0];
  const result = x87Call(c, X87_OP.STSW);
  if (op?.kind === "reg") c.writeReg(op.reg, c.m.i64.extend_u(result));
  else c.emit(c.m.drop(result));
}

/** Environment images: only the 32-bit-operand layouts (28 and 108 bytes, 512 for FXSAVE). */
function image(op: X87Op, bytes: number, xmm: "save" | "restore" | "none" = "none"): Handler {
  return (c) => {
    if (c.memory().size !== bytes) throw new Error(`x87 image size in ${c.ins.text}`);
    // FXSAVE/FXRSTOR read and write XMM registers, which lifted code keeps in locals.
    if (xmm !== "none") c.emit(...c.spill());
    c.emit(c.m.drop(x87Call(c, op)));
    if (xmm === "restore") {
      c.emit(...c.reload());
      c.forgetRounding(); // MXCSR comes from the image too
    }
  };
}

const constant =
  (index: number): Handler =>
  (c) =>
    run(c, X87_OP.LDCONST, { reg: index });
const nothing: Handler = () => undefined;
const plain =
  (op: X87Op): Handler =>
  (c) =>
    run(c, op);

export const x87Semantics: readonly SemanticsEntry[] = [
  [Mnemonic.Fld, simple(X87_OP.LD)],
  [Mnemonic.Fild, simple(X87_OP.LD)],
  [Mnemonic.Fst, simple(X87_OP.ST)],
  [Mnemonic.Fstp, simple(X87_OP.ST, 1)],
  [Mnemonic.Fist, plain(X87_OP.IST)],
  [Mnemonic.Fistp, (c) => run(c, X87_OP.IST, { pops: 1 })],
  [Mnemonic.Fisttp, (c) => run(c, X87_OP.ISTT, { pops: 1 })],
  [Mnemonic.Fbld, simple(X87_OP.LD)],
  [Mnemonic.Fbstp, (c) => run(c, X87_OP.BSTP, { pops: 1 })],
  [Mnemonic.Fld1, constant(X87_CONST.ONE)],
  [Mnemonic.Fldl2t, constant(X87_CONST.L2T)],
  [Mnemonic.Fldl2e, constant(X87_CONST.L2E)],
  [Mnemonic.Fldpi, constant(X87_CONST.PI)],
  [Mnemonic.Fldlg2, constant(X87_CONST.LG2)],
  [Mnemonic.Fldln2, constant(X87_CONST.LN2)],
  [Mnemonic.Fldz, constant(X87_CONST.Z)],
  [Mnemonic.Fadd, arith(X87_OP.ADD)],
  [Mnemonic.Faddp, arith(X87_OP.ADD, 1)],
  [Mnemonic.Fiadd, arith(X87_OP.ADD)],
  [Mnemonic.Fsub, arith(X87_OP.SUB)],
  [Mnemonic.Fsubp, arith(X87_OP.SUB, 1)],
  [Mnemonic.Fisub, arith(X87_OP.SUB)],
  [Mnemonic.Fsubr, arith(X87_OP.SUBR)],
  [Mnemonic.Fsubrp, arith(X87_OP.SUBR, 1)],
  [Mnemonic.Fisubr, arith(X87_OP.SUBR)],
  [Mnemonic.Fmul, arith(X87_OP.MUL)],
  [Mnemonic.Fmulp, arith(X87_OP.MUL, 1)],
  [Mnemonic.Fimul, arith(X87_OP.MUL)],
  [Mnemonic.Fdiv, arith(X87_OP.DIV)],
  [Mnemonic.Fdivp, arith(X87_OP.DIV, 1)],
  [Mnemonic.Fidiv, arith(X87_OP.DIV)],
  [Mnemonic.Fdivr, arith(X87_OP.DIVR)],
  [Mnemonic.Fdivrp, arith(X87_OP.DIVR, 1)],
  [Mnemonic.Fidivr, arith(X87_OP.DIVR)],
  [Mnemonic.Fcom, compare(X87_OP.COM, 0)],
  [Mnemonic.Fcomp, compare(X87_OP.COM, 1)],
  [Mnemonic.Fcompp, compare(X87_OP.COM, 2)],
  [Mnemonic.Ficom, compare(X87_OP.COM, 0)],
  [Mnemonic.Ficomp, compare(X87_OP.COM, 1)],
  [Mnemonic.Fucom, compare(X87_OP.UCOM, 0)],
  [Mnemonic.Fucomp, compare(X87_OP.UCOM, 1)],
  [Mnemonic.Fucompp, compare(X87_OP.UCOM, 2)],
  [Mnemonic.Fcomi, comi(X87_OP.COMI, 0)],
  [Mnemonic.Fcomip, comi(X87_OP.COMI, 1)],
  [Mnemonic.Fucomi, comi(X87_OP.UCOMI, 0)],
  [Mnemonic.Fucomip, comi(X87_OP.UCOMI, 1)],
  [Mnemonic.Ftst, plain(X87_OP.TST)],
  [Mnemonic.Fxam, plain(X87_OP.XAM)],
  [Mnemonic.Fchs, plain(X87_OP.CHS)],
  [Mnemonic.Fabs, plain(X87_OP.ABS)],
  [Mnemonic.Fsqrt, plain(X87_OP.SQRT)],
  [Mnemonic.Frndint, plain(X87_OP.RNDINT)],
  [Mnemonic.Fscale, plain(X87_OP.SCALE)],
  [Mnemonic.Fxtract, plain(X87_OP.XTRACT)],
  [Mnemonic.Fprem, plain(X87_OP.PREM)],
  [Mnemonic.Fprem1, plain(X87_OP.PREM1)],
  [Mnemonic.F2xm1, plain(X87_OP.F2XM1)],
  [Mnemonic.Fyl2x, plain(X87_OP.YL2X)],
  [Mnemonic.Fyl2xp1, plain(X87_OP.YL2XP1)],
  [Mnemonic.Fsin, plain(X87_OP.SIN)],
  [Mnemonic.Fcos, plain(X87_OP.COS)],
  [Mnemonic.Fsincos, plain(X87_OP.SINCOS)],
  [Mnemonic.Fptan, plain(X87_OP.PTAN)],
  [Mnemonic.Fpatan, plain(X87_OP.PATAN)],
  [Mnemonic.Fxch, simple(X87_OP.XCH, 0, 1)],
  [Mnemonic.Fcmovb, fcmov(ConditionCode.b)],
  [Mnemonic.Fcmove, fcmov(ConditionCode.e)],
  [Mnemonic.Fcmovbe, fcmov(ConditionCode.be)],
  [Mnemonic.Fcmovu, fcmov(ConditionCode.p)],
  [Mnemonic.Fcmovnb, fcmov(ConditionCode.ae)],
  [Mnemonic.Fcmovne, fcmov(ConditionCode.ne)],
  [Mnemonic.Fcmovnbe, fcmov(ConditionCode.a)],
  [Mnemonic.Fcmovnu, fcmov(ConditionCode.np)],
  [Mnemonic.Ffree, simple(X87_OP.FREE)],
  [Mnemonic.Ffreep, simple(X87_OP.FREE, 1)],
  [Mnemonic.Fincstp, plain(X87_OP.INCSTP)],
  [Mnemonic.Fdecstp, plain(X87_OP.DECSTP)],
  [Mnemonic.Fninit, plain(X87_OP.INIT)],
  [Mnemonic.Finit, plain(X87_OP.INIT)],
  [Mnemonic.Fnclex, plain(X87_OP.CLEX)],
  [Mnemonic.Fclex, plain(X87_OP.CLEX)],
  [Mnemonic.Fnstsw, fnstsw],
  [Mnemonic.Fstsw, fnstsw],
  [Mnemonic.Fnstcw, plain(X87_OP.STCW)],
  [Mnemonic.Fstcw, plain(X87_OP.STCW)],
  [Mnemonic.Fldcw, plain(X87_OP.LDCW)],
  [Mnemonic.Fnstenv, image(X87_OP.STENV, 28)],
  [Mnemonic.Fstenv, image(X87_OP.STENV, 28)],
  [Mnemonic.Fldenv, image(X87_OP.LDENV, 28)],
  [Mnemonic.Fnsave, image(X87_OP.SAVE, 108)],
  [Mnemonic.Fsave, image(X87_OP.SAVE, 108)],
  [Mnemonic.Frstor, image(X87_OP.RSTOR, 108)],
  [Mnemonic.Fxsave, image(X87_OP.FXSAVE, 512, "save")],
  [Mnemonic.Fxsave64, image(X87_OP.FXSAVE, 512, "save")],
  [Mnemonic.Fxrstor, image(X87_OP.FXRSTOR, 512, "restore")],
  [Mnemonic.Fxrstor64, image(X87_OP.FXRSTOR, 512, "restore")],
  // No exceptions are ever pending unmasked (interpreter.ts), so WAIT has nothing to check.
  [Mnemonic.Wait, nothing],
  [Mnemonic.Fnop, nothing],
];

/** Declares the x87 import on a lifted module. */
export function addX87Import(m: binaryen.Module): void {
  m.addFunctionImport(X87_IMPORT, "kernel", "x87", binaryen.createType([i32, i32]), i32);
}
