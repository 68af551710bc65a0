// SSE/SSE2 floating point on wasm SIMD and scalar f32/f64 (SDM Vol. 1
// §10.4, §11.4): scalar and packed arithmetic, bitwise logic,
// ordered/unordered compares that set ZF/PF/CF (comisd/ucomisd),
// compare-to-mask (cmpsd/cmpss), shuffles and MXCSR access (conversions
// are in sse-convert.ts). Arithmetic results follow MXCSR's mode through
// sse-directed.ts.
import { Mnemonic } from "iced-x86";
import { AF, OF, SF } from "../emit/flags.js";
import type { FunctionContext } from "../emit/function-context.js";
import { f32, f64, v128, type Expr } from "../emit/wasm.js";
import { STATE_MXCSR } from "../guest-layout.js";
import {
  imm8,
  isXmm,
  readV,
  scalar,
  setLow,
  shuffle,
  writeV,
  zeroV,
  type Width,
} from "./sse-operands.js";
import { dazPacked, dazScalar, rounded, roundedPacked, watchFlags } from "./sse-directed.js";
import { SSE_OP, type SseOp } from "./sse-directed-ops.js";
import { raiseInvalidIf, signalingPredicate, unordered } from "./sse-exceptions.js";
import type { SemanticsEntry } from "./types.js";

type ScalarOp = "add" | "sub" | "mul" | "div" | "min" | "max" | "sqrt";

/** The directed-rounding operation of each arithmetic ScalarOp (min and max are exact). */
const ROUNDING_OP: Partial<Record<ScalarOp, SseOp>> = {
  add: SSE_OP.ADD,
  sub: SSE_OP.SUB,
  mul: SSE_OP.MUL,
  div: SSE_OP.DIV,
  sqrt: SSE_OP.SQRT,
};

function scalarOp(op: ScalarOp, width: Width) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const ops = width === "d" ? m.f64 : m.f32;
    const type = width === "d" ? f64 : f32;
    // min and max round nothing: DAZ's denormals-as-zeros is all the mode changes.
    const read = (i: number): Expr =>
      op === "min" || op === "max"
        ? dazScalar(ctx, type, scalar(ctx, i, width))
        : scalar(ctx, i, width);
    const a = ctx.let(read(0), type);
    const b = ctx.let(read(1), type);
    const A = (): Expr => ctx.get(a, type);
    const B = (): Expr => ctx.get(b, type);
    let r: Expr;
    switch (op) {
      case "sqrt":
        r = ops.sqrt(B());
        break;
      // x86 min/max return the second operand when unordered or both zero,
      // and raise IE when either is a NaN.
      case "min":
        raiseInvalidIf(ctx, unordered(ctx, width, A, B));
        r = m.select(ops.lt(A(), B()), A(), B());
        break;
      case "max":
        raiseInvalidIf(ctx, unordered(ctx, width, A, B));
        r = m.select(ops.gt(A(), B()), A(), B());
        break;
      default:
        r = ops[op](A(), B());
    }
    const rounding = ROUNDING_OP[op];
    if (rounding !== undefined) {
      r = rounded(ctx, rounding, width, r, { local: a, type }, { local: b, type });
    }
    setLow(ctx, width, r);
  };
}

function packedOp(op: ScalarOp, width: Width) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const ops = width === "d" ? m.f64x2 : m.f32x4;
    const read = (i: number): Expr =>
      op === "min" || op === "max"
        ? dazPacked(ctx, width === "d" ? "f64" : "f32", readV(ctx, i))
        : readV(ctx, i);
    const a = ctx.let(read(0), v128);
    const b = ctx.let(read(1), v128);
    const A = (): Expr => ctx.get(a, v128);
    const B = (): Expr => ctx.get(b, v128);
    // min and max raise IE when a lane meets a NaN.
    if (op === "min" || op === "max") raiseInvalidIf(ctx, unordered(ctx, width, A, B, true));
    let r: Expr;
    if (op === "sqrt") r = ops.sqrt(B());
    else if (op === "min") r = m.v128.bitselect(A(), B(), ops.lt(A(), B()));
    else if (op === "max") r = m.v128.bitselect(A(), B(), ops.gt(A(), B()));
    else r = ops[op](A(), B());
    const rounding = ROUNDING_OP[op];
    if (rounding !== undefined) {
      const lanes = width === "d" ? "f64" : "f32";
      r = roundedPacked(ctx, rounding, width, r, { local: a, lanes }, { local: b, lanes });
    }
    writeV(ctx, 0, r);
  };
}

/** movss/movsd (SSE): reg←reg merges the low lane; reg←mem zeroes the rest; mem←reg stores it. */
function movScalar(width: Width) {
  return (ctx: FunctionContext): void => {
    if (!isXmm(ctx, 0)) {
      // As a float (a bit-exact move in wasm): one vmovsd, where an integer
      // lane extract and store were two instructions.
      const v = scalar(ctx, 1, width);
      const ptr = ctx.pointer(ctx.memory());
      ctx.emit(width === "d" ? ctx.m.f64.store(0, 1, ptr, v) : ctx.m.f32.store(0, 1, ptr, v));
      return;
    }
    if (!isXmm(ctx, 1)) return writeV(ctx, 0, readV(ctx, 1));
    setLow(ctx, width, scalar(ctx, 1, width));
  };
}

function bitwise(op: "and" | "andnot" | "or" | "xor") {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const [x, y] = ctx.ins.operands;
    if (op === "xor" && x?.kind === "reg" && y?.kind === "reg" && x.reg === y.reg)
      return writeV(ctx, 0, zeroV(ctx));
    const a = readV(ctx, 0);
    const b = readV(ctx, 1);
    writeV(ctx, 0, op === "andnot" ? m.v128.andnot(b, a) : m.v128[op](a, b));
  };
}

/** comisd/ucomisd/comiss/ucomiss (SDM Vol. 2A "COMISD"): ZF PF CF; OF SF AF cleared. */
function compareFlags(width: Width) {
  return (ctx: FunctionContext): void => {
    const type = width === "d" ? f64 : f32;
    const a = ctx.let(dazScalar(ctx, type, scalar(ctx, 0, width)), type);
    const b = ctx.let(dazScalar(ctx, type, scalar(ctx, 1, width)), type);
    // comisd is the ordered compare: a QNaN raises IE too (ucomisd: only an SNaN, not tracked).
    const ordered = ctx.ins.mnemonic === Mnemonic.Comisd || ctx.ins.mnemonic === Mnemonic.Comiss;
    const get = (x: number) => (): Expr => ctx.get(x, type);
    if (ordered) raiseInvalidIf(ctx, unordered(ctx, width, get(a), get(b)));
    ctx.setFloatCompareFlags(width === "d" ? 8 : 4, a, b);
    ctx.clearFlags(OF | SF | AF);
  };
}

/** The comparisons of one operand shape: scalar (i32 results) or packed (lane masks). */
export interface CompareOps {
  readonly eq: (a: Expr, b: Expr) => Expr;
  readonly lt: (a: Expr, b: Expr) => Expr;
  readonly le: (a: Expr, b: Expr) => Expr;
  readonly ne: (a: Expr, b: Expr) => Expr;
  readonly or: (a: Expr, b: Expr) => Expr;
  readonly not: (a: Expr) => Expr;
}

/**
 * Compare predicate imm8[2:0] of cmpss/cmpsd/cmpps/cmppd (SDM Vol. 2A
 * "CMPPD", Table 3-1): EQ, LT, LE, UNORD, NEQ, NLT, NLE, ORD. Wasm's eq/lt/le
 * are false and ne true on unordered operands, as the x86 predicates are.
 */
export function comparePredicate(
  control: number,
  c: CompareOps,
  A: () => Expr,
  B: () => Expr,
): Expr {
  const unordered = (): Expr => c.or(c.ne(A(), A()), c.ne(B(), B()));
  const predicates = [
    () => c.eq(A(), B()),
    () => c.lt(A(), B()),
    () => c.le(A(), B()),
    unordered,
    () => c.ne(A(), B()),
    () => c.not(c.lt(A(), B())),
    () => c.not(c.le(A(), B())),
    () => c.not(unordered()),
  ];
  return (predicates[control & 7] as () => Expr)();
}

/** cmpsd/cmpss imm8 predicates 0–7 → all-ones/all-zeros in the low lane. */
function compareMask(width: Width) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const ops = width === "d" ? m.f64 : m.f32;
    const type = width === "d" ? f64 : f32;
    const a = ctx.let(dazScalar(ctx, type, scalar(ctx, 0, width)), type);
    const b = ctx.let(dazScalar(ctx, type, scalar(ctx, 1, width)), type);
    const compare = { ...ops, or: m.i32.or, not: m.i32.eqz };
    if (signalingPredicate(imm8(ctx))) {
      const get = (x: number) => (): Expr => ctx.get(x, type);
      raiseInvalidIf(ctx, unordered(ctx, width, get(a), get(b)));
    }
    const cond = comparePredicate(
      imm8(ctx),
      compare,
      () => ctx.get(a, type),
      () => ctx.get(b, type),
    );
    const dst = readV(ctx, 0);
    const ones = width === "d" ? ctx.w.c64(-1n) : ctx.w.c32(-1);
    const zero = width === "d" ? ctx.w.c64(0) : ctx.w.c32(0);
    const lane = m.select(cond, ones, zero);
    writeV(
      ctx,
      0,
      width === "d" ? m.i64x2.replace_lane(dst, 0, lane) : m.i32x4.replace_lane(dst, 0, lane),
    );
  };
}

function shufps(ctx: FunctionContext): void {
  const order = imm8(ctx);
  writeV(
    ctx,
    0,
    shuffle(ctx, readV(ctx, 0), readV(ctx, 1), (i) => {
      const lane = Math.floor(i / 4);
      const pick = (order >> (2 * lane)) & 3;
      return (lane < 2 ? 0 : 16) + pick * 4 + (i % 4);
    }),
  );
}

function shufpd(ctx: FunctionContext): void {
  const order = imm8(ctx);
  writeV(
    ctx,
    0,
    shuffle(ctx, readV(ctx, 0), readV(ctx, 1), (i) => {
      const lane = Math.floor(i / 8);
      const pick = (order >> lane) & 1;
      return (lane === 0 ? 0 : 16) + pick * 8 + (i % 8);
    }),
  );
}

export const sseFloatSemantics: readonly SemanticsEntry[] = [
  [Mnemonic.Movss, movScalar("s")],
  [Mnemonic.Movsd, movScalar("d")],
  ...(["add", "sub", "mul", "div", "min", "max", "sqrt"] as const).flatMap((op) => {
    const cap = op[0]?.toUpperCase() + op.slice(1);
    const mn = (suffix: string): Mnemonic => Mnemonic[`${cap}${suffix}` as keyof typeof Mnemonic];
    return [
      [mn("sd"), scalarOp(op, "d")],
      [mn("ss"), scalarOp(op, "s")],
      [mn("pd"), packedOp(op, "d")],
      [mn("ps"), packedOp(op, "s")],
    ] as const;
  }),
  [Mnemonic.Andps, bitwise("and")],
  [Mnemonic.Andpd, bitwise("and")],
  [Mnemonic.Andnps, bitwise("andnot")],
  [Mnemonic.Andnpd, bitwise("andnot")],
  [Mnemonic.Orps, bitwise("or")],
  [Mnemonic.Orpd, bitwise("or")],
  [Mnemonic.Xorps, bitwise("xor")],
  [Mnemonic.Xorpd, bitwise("xor")],
  [Mnemonic.Ucomisd, compareFlags("d")],
  [Mnemonic.Comisd, compareFlags("d")],
  [Mnemonic.Ucomiss, compareFlags("s")],
  [Mnemonic.Comiss, compareFlags("s")],
  [Mnemonic.Cmpsd, compareMask("d")],
  [Mnemonic.Cmpss, compareMask("s")],
  [Mnemonic.Shufps, shufps],
  [Mnemonic.Shufpd, shufpd],
  [
    Mnemonic.Stmxcsr,
    (c) => {
      c.emit(c.m.i32.store(0, 1, c.pointer(c.memory()), c.m.i32.load(0, 4, c.w.c32(STATE_MXCSR))));
      if (c.fenvFunction) watchFlags(c);
    },
  ],
  [
    Mnemonic.Ldmxcsr,
    (c) => {
      c.emit(c.m.i32.store(0, 4, c.w.c32(STATE_MXCSR), c.m.i32.load(0, 1, c.pointer(c.memory()))));
      if (c.fenvFunction) watchFlags(c);
      c.forgetRounding();
    },
  ],
];
