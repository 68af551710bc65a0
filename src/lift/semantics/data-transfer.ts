// Data transfer (SDM Vol. 1 §5.1.1): mov and its zero/sign-extending forms,
// lea, push/pop, xchg, cmpxchg (8b, 16b), enter, leave, bswap, movbe, xlat, cmovcc and setcc
// (conditions come from the lazy flags, fused where possible).
import { Code, Mnemonic, Register } from "iced-x86";
import { ALL_FLAGS, ZF } from "../emit/flags.js";
import { registerSize, type FunctionContext } from "../emit/function-context.js";
import { i32, type Expr, type Size } from "../emit/wasm.js";
import { CMOVS, conditionOf, SETS } from "./conditions.js";
import { specialRegisterMove } from "./privileged.js";
import type { SemanticsEntry } from "./types.js";

const RSP = 4;
const RBP = 5;

function mov(ctx: FunctionContext): void {
  if (specialRegisterMove(ctx)) return;
  const size = ctx.operandSize(0);
  ctx.write(0, ctx.read(1, size));
}

function movzx(ctx: FunctionContext): void {
  ctx.write(0, ctx.read(1));
}

function movsx(ctx: FunctionContext): void {
  ctx.write(0, ctx.w.signExtend(ctx.read(1), ctx.operandSize(1)));
}

function lea(ctx: FunctionContext): void {
  const mem = ctx.memory();
  // A destination of 32 bits or fewer keeps only the address's low bits: the
  // i32 sum of ctx.pointer is that value, in one 32-bit lea.
  if (ctx.operandSize(0) <= 4 && mem.segment === Register.None) {
    ctx.write(0, ctx.m.i64.extend_u(ctx.pointer(mem)));
  } else {
    ctx.write(0, ctx.effectiveAddress(mem));
  }
}

export function push(ctx: FunctionContext, value: Expr, size: Size = 8): void {
  const m = ctx.m;
  const v = ctx.let(value);
  ctx.setGpr(RSP, m.i64.sub(ctx.gpr(RSP), ctx.w.c64(size)));
  ctx.emit(ctx.w.store(size, ctx.w.pointer(ctx.gpr(RSP)), ctx.get(v)));
}

export function pop(ctx: FunctionContext, size: Size = 8): number {
  const v = ctx.let(ctx.w.load(size, ctx.w.pointer(ctx.gpr(RSP))));
  ctx.setGpr(RSP, ctx.m.i64.add(ctx.gpr(RSP), ctx.w.c64(size)));
  return v;
}

function pushHandler(ctx: FunctionContext): void {
  const op = ctx.ins.operands[0];
  const size: Size =
    op?.kind === "reg" ? registerSize(op.reg) : op?.kind === "mem" ? ctx.operandSize(0) : 8;
  push(ctx, op?.kind === "imm" ? ctx.w.c64(BigInt.asIntN(64, op.value)) : ctx.read(0), size);
}

function popHandler(ctx: FunctionContext): void {
  const size = ctx.operandSize(0);
  const v = pop(ctx, size);
  ctx.write(0, ctx.get(v));
}

function xchg(ctx: FunctionContext): void {
  const a = ctx.let(ctx.read(0));
  const b = ctx.let(ctx.read(1));
  ctx.write(0, ctx.get(b));
  ctx.write(1, ctx.get(a));
}

/** cmpxchg: compare rAX with dst; equal → dst = src, else rAX = dst (SDM Vol. 2A "CMPXCHG"). */
function cmpxchg(ctx: FunctionContext): void {
  const m = ctx.m;
  const size = ctx.operandSize(0);
  const dst = ctx.let(ctx.read(0));
  const src = ctx.let(ctx.read(1));
  const acc = ctx.let(ctx.w.truncate(ctx.gpr(0), size));
  ctx.setLazyFlags(
    "sub",
    size,
    ctx.get(acc),
    ctx.get(dst),
    m.i64.sub(ctx.get(acc), ctx.get(dst)),
    ALL_FLAGS,
  );
  const equal = ctx.let(m.i64.eq(ctx.get(acc), ctx.get(dst)), i32);
  // The destination is always written (with its old value when unequal).
  ctx.write(0, m.select(ctx.get(equal, i32), ctx.get(src), ctx.get(dst)));
  // The accumulator is written only when unequal: a successful 32-bit
  // cmpxchg leaves RAX, upper half included, as it was.
  const loaded =
    size >= 4
      ? ctx.get(dst)
      : m.i64.or(m.i64.and(ctx.gpr(0), ctx.w.c64(~((1n << BigInt(size * 8)) - 1n))), ctx.get(dst));
  ctx.setGpr(0, m.select(ctx.get(equal, i32), ctx.gpr(0), loaded));
}

/** xlat: AL = [RBX + AL] (SDM Vol. 2B "XLAT/XLATB"; 64-bit addressing uses RBX). */
function xlat(ctx: FunctionContext): void {
  const m = ctx.m;
  const address = m.i64.add(ctx.gpr(3), m.i64.and(ctx.gpr(0), ctx.w.c64(0xff)));
  ctx.writeReg(Register.AL, ctx.w.load(1, ctx.w.pointer(address)));
}

/**
 * cmpxchg8b/cmpxchg16b (SDM Vol. 2A "CMPXCHG8B/CMPXCHG16B"): compare
 * EDX:EAX (RDX:RAX) with the memory operand; equal → ZF = 1 and store
 * ECX:EBX (RCX:RBX), else ZF = 0 and load it into EDX:EAX (RDX:RAX).
 * Only ZF changes. The 16-byte form's #GP for an unaligned operand is not
 * raised (one thread: atomicity needs no alignment here).
 */
function cmpxchgWide(ctx: FunctionContext): void {
  const m = ctx.m;
  const w = ctx.w;
  const half: Size = ctx.ins.mnemonic === Mnemonic.Cmpxchg16b ? 8 : 4;
  const ptr = ctx.let(ctx.pointer(ctx.memory()), i32);
  const at = (offset: number): Expr => m.i32.add(ctx.get(ptr, i32), w.c32(offset));
  const low = ctx.let(w.load(half, ctx.get(ptr, i32)));
  const high = ctx.let(w.load(half, at(half)));
  const equal = ctx.let(
    m.i32.and(
      m.i64.eq(ctx.get(low), w.truncate(ctx.gpr(0), half)),
      m.i64.eq(ctx.get(high), w.truncate(ctx.gpr(2), half)),
    ),
    i32,
  );
  ctx.setFlag(ZF, ctx.get(equal, i32));
  ctx.emit(
    m.if(
      ctx.get(equal, i32),
      w.block([w.store(half, ctx.get(ptr, i32), ctx.gpr(3)), w.store(half, at(half), ctx.gpr(1))]),
    ),
  );
  // Loading EDX:EAX writes 32-bit registers, which zero-extends them.
  ctx.setGpr(0, m.select(ctx.get(equal, i32), ctx.gpr(0), ctx.get(low)));
  ctx.setGpr(2, m.select(ctx.get(equal, i32), ctx.gpr(2), ctx.get(high)));
}

function leave(ctx: FunctionContext): void {
  ctx.setGpr(RSP, ctx.gpr(RBP));
  const v = pop(ctx);
  ctx.setGpr(RBP, ctx.get(v));
}

/**
 * enter imm16, imm8 (64-bit operand size; SDM Vol. 2A "ENTER"): push RBP,
 * copy nesting-level − 1 frame pointers from the old frame, push the new
 * frame pointer when nesting, then RBP = frame and RSP −= imm16.
 */
function enter(ctx: FunctionContext): void {
  const [sizeOp, levelOp] = ctx.ins.operands;
  if (ctx.ins.code !== Code.Enterq_imm16_imm8 || sizeOp?.kind !== "imm" || levelOp?.kind !== "imm")
    throw new Error("enter with a 16-bit or 32-bit operand size");
  const m = ctx.m;
  const w = ctx.w;
  const level = Number(levelOp.value) % 32;
  push(ctx, ctx.gpr(RBP));
  const frame = ctx.let(ctx.gpr(RSP));
  for (let i = 1; i < level; i++) {
    ctx.setGpr(RBP, m.i64.sub(ctx.gpr(RBP), w.c64(8)));
    push(ctx, w.load(8, w.pointer(ctx.gpr(RBP))));
  }
  if (level > 0) push(ctx, ctx.get(frame));
  ctx.setGpr(RBP, ctx.get(frame));
  ctx.setGpr(RSP, m.i64.sub(ctx.gpr(RSP), w.c64(sizeOp.value)));
}

function bswap(ctx: FunctionContext): void {
  const size = ctx.operandSize(0);
  const v = ctx.let(ctx.read(0));
  ctx.write(0, byteSwap(ctx, v, size));
}

export function byteSwap(ctx: FunctionContext, local: number, size: Size): Expr {
  const m = ctx.m;
  let out: Expr = ctx.w.c64(0);
  for (let i = 0; i < size; i++) {
    const byte = m.i64.and(m.i64.shr_u(ctx.get(local), ctx.w.c64(i * 8)), ctx.w.c64(0xff));
    out = m.i64.or(out, m.i64.shl(byte, ctx.w.c64((size - 1 - i) * 8)));
  }
  return out;
}

function movbe(ctx: FunctionContext): void {
  const size = ctx.operandSize(0);
  const v = ctx.let(ctx.read(1));
  ctx.write(0, byteSwap(ctx, v, size));
}

function cmov(ctx: FunctionContext): void {
  const cond = ctx.condition(conditionOf(ctx.ins.mnemonic));
  // A 32-bit cmov zero-extends even when the condition is false (SDM Vol. 2A "CMOVcc").
  ctx.write(0, ctx.m.select(cond, ctx.read(1), ctx.read(0)));
}

function setcc(ctx: FunctionContext): void {
  ctx.write(0, ctx.m.i64.extend_u(ctx.condition(conditionOf(ctx.ins.mnemonic))));
}

export const dataTransferSemantics: readonly SemanticsEntry[] = [
  [Mnemonic.Mov, mov],
  [Mnemonic.Movzx, movzx],
  [Mnemonic.Movsx, movsx],
  [Mnemonic.Movsxd, movsx],
  [Mnemonic.Lea, lea],
  [Mnemonic.Push, pushHandler],
  [Mnemonic.Pop, popHandler],
  [Mnemonic.Xchg, xchg],
  [Mnemonic.Cmpxchg, cmpxchg],
  [Mnemonic.Cmpxchg8b, cmpxchgWide],
  [Mnemonic.Cmpxchg16b, cmpxchgWide],
  [Mnemonic.Enter, enter],
  [Mnemonic.Leave, leave],
  [Mnemonic.Bswap, bswap],
  [Mnemonic.Movbe, movbe],
  [Mnemonic.Xlatb, xlat],
  ...CMOVS.map((mn) => [mn, cmov] as const),
  ...SETS.map((mn) => [mn, setcc] as const),
];
