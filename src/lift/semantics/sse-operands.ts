// Operand access shared by the SSE families: XMM registers are v128 locals;
// memory operands are read with the width the instruction names (16 bytes
// for packed forms, 4 or 8 for scalar forms, which zero-extend on load).
import { xmmIndex } from "../decode.js";
import type { FunctionContext } from "../emit/function-context.js";
import { f32, f64, type Expr } from "../emit/wasm.js";

export const zeroV = (ctx: FunctionContext): Expr =>
  ctx.m.v128.const(new Array<number>(16).fill(0));

/** The XMM number of a register operand; MMX and other registers are not lifted (throws). */
export function xmmOf(reg: number): number {
  const x = xmmIndex(reg);
  if (x < 0) throw new Error(`register ${reg} is not XMM0–XMM15 (MMX is not lifted)`);
  return x;
}

export function isXmm(ctx: FunctionContext, index: number): boolean {
  const op = ctx.ins.operands[index];
  return op?.kind === "reg" && xmmIndex(op.reg) >= 0;
}

/** Operand `index` as a v128: an XMM register, or memory of the operand's size (zero-extended). */
export function readV(ctx: FunctionContext, index: number): Expr {
  const op = ctx.ins.operands[index];
  if (op?.kind === "reg") return ctx.xmm(xmmOf(op.reg));
  const mem = ctx.memory();
  const ptr = ctx.pointer(mem);
  const m = ctx.m;
  switch (mem.size) {
    case 2:
      return m.i16x8.replace_lane(zeroV(ctx), 0, m.i32.load16_u(0, 1, ptr));
    case 4:
      return m.v128.load32_zero(0, 1, ptr);
    case 8:
      return m.v128.load64_zero(0, 1, ptr);
    default:
      return ctx.w.loadV128(ptr);
  }
}

export function writeV(ctx: FunctionContext, index: number, value: Expr): void {
  const op = ctx.ins.operands[index];
  if (op?.kind === "reg") return ctx.setXmm(xmmOf(op.reg), value);
  ctx.emit(ctx.w.storeV128(ctx.pointer(ctx.memory()), value));
}

/** i8x16.shuffle with a byte-index list built by `pick(i)` (0–15 first vector, 16–31 second). */
export function shuffle(ctx: FunctionContext, a: Expr, b: Expr, pick: (i: number) => number): Expr {
  return ctx.m.i8x16.shuffle(
    a,
    b,
    Array.from({ length: 16 }, (_, i) => pick(i)),
  );
}

/** The immediate operand (last operand) as a number. */
export function imm8(ctx: FunctionContext): number {
  const op = ctx.ins.operands[ctx.ins.operands.length - 1];
  return op?.kind === "imm" ? Number(op.value & 0xffn) : 0;
}

export type Width = "s" | "d";

/** The low lane of operand `index` as a scalar (memory reads only 4 or 8 bytes). */
export function scalar(ctx: FunctionContext, index: number, width: Width): Expr {
  const m = ctx.m;
  const op = ctx.ins.operands[index];
  if (op?.kind === "reg") return ctx.xmmLowLane(xmmOf(op.reg), width === "d" ? f64 : f32);
  const ptr = ctx.pointer(ctx.memory());
  return width === "d" ? m.f64.load(0, 1, ptr) : m.f32.load(0, 1, ptr);
}

/** Writes `value` into lane 0 of operand 0, the XMM register every scalar form writes. */
export function setLow(ctx: FunctionContext, width: Width, value: Expr): void {
  const op = ctx.ins.operands[0];
  if (op?.kind !== "reg") throw new Error("a scalar SSE destination is an XMM register");
  ctx.setXmmLow(xmmOf(op.reg), width === "d" ? f64 : f32, value);
}
