// System instructions and hypercalls (the seam to the vkernel): syscall calls
// the kernel import with registers spilled to the state block; cpuid answers
// from the one CPU model (cpu-model.ts); rdtsc asks the kernel; xgetbv reads
// XCR0; endbr64, nop, pause, fences and prefetches do nothing here; cld/std
// set EFLAGS.DF in the state block.
import binaryen from "binaryen";
import { Mnemonic } from "iced-x86";
import { CPUID_TABLE, XCR0 } from "../cpu-model.js";
import type { FunctionContext } from "../emit/function-context.js";
import { i32, i64, type Expr } from "../emit/wasm.js";
import { STATE_DF, STATE_RIP } from "../guest-layout.js";
import type { SemanticsEntry } from "./types.js";

/** Internal names of the kernel imports these semantics call. */
export const SYSCALL_IMPORT = "kernel_syscall";
export const RDTSC_IMPORT = "kernel_rdtsc";

/** syscall (SDM Vol. 2B "SYSCALL"; Linux x86-64 ABI: rax, rdi, rsi, rdx, r10, r8, r9; clobbers rcx, r11). */
function syscall(ctx: FunctionContext): void {
  const m = ctx.m;
  const w = ctx.w;
  const next = ctx.ins.ip + ctx.ins.length;
  // RCX = return address, R11 = RFLAGS, as the hardware does.
  ctx.setGpr(1, w.c64(next));
  ctx.setGpr(11, w.c64(0x202));
  ctx.emit(...ctx.spill(), m.i64.store(0, 8, w.c32(STATE_RIP), w.c64(next)));
  const result = ctx.let(m.call(SYSCALL_IMPORT, [], i32), i32);
  ctx.emit(m.if(ctx.get(result, i32), m.return(ctx.get(result, i32))));
  ctx.emit(...ctx.reload());
}

function cpuid(ctx: FunctionContext): void {
  const m = ctx.m;
  const w = ctx.w;
  const leaf = ctx.let(m.i32.wrap(ctx.gpr(0)), i32);
  const sub = ctx.let(m.i32.wrap(ctx.gpr(1)), i32);
  const regs = [0, 3, 1, 2]; // eax, ebx, ecx, edx
  const out = regs.map(() => ctx.mutableLocal(w.c64(0)));
  let chain: Expr = m.nop();
  for (const entry of [...CPUID_TABLE].reverse()) {
    let cond = m.i32.eq(ctx.get(leaf, i32), w.c32(entry.leaf));
    if (entry.subleaf >= 0)
      cond = m.i32.and(cond, m.i32.eq(ctx.get(sub, i32), w.c32(entry.subleaf)));
    const values = [entry.result.eax, entry.result.ebx, entry.result.ecx, entry.result.edx];
    const sets = values.map((v, k) => m.local.set(out[k] as number, w.c64(v >>> 0)));
    chain = m.if(cond, m.block(null, sets, binaryen.none), chain);
  }
  ctx.emit(chain);
  regs.forEach((reg, k) => ctx.setGpr(reg, ctx.get(out[k] as number)));
}

function rdtsc(ctx: FunctionContext): void {
  const m = ctx.m;
  const t = ctx.let(m.call(RDTSC_IMPORT, [], i64));
  ctx.setGpr(0, m.i64.and(ctx.get(t), ctx.w.c64(0xffffffffn)));
  ctx.setGpr(2, m.i64.shr_u(ctx.get(t), ctx.w.c64(32)));
}

function xgetbv(ctx: FunctionContext): void {
  ctx.setGpr(0, ctx.w.c64(XCR0));
  ctx.setGpr(2, ctx.w.c64(0));
}

const nothing = (): void => undefined;

function setDirection(value: number) {
  return (ctx: FunctionContext): void => {
    ctx.emit(ctx.m.i32.store(0, 4, ctx.w.c32(STATE_DF), ctx.w.c32(value)));
  };
}

export const systemSemantics: readonly SemanticsEntry[] = [
  [Mnemonic.Syscall, syscall],
  [Mnemonic.Cpuid, cpuid],
  [Mnemonic.Rdtsc, rdtsc],
  [Mnemonic.Xgetbv, xgetbv],
  [Mnemonic.Endbr64, nothing],
  [Mnemonic.Nop, nothing],
  [Mnemonic.Pause, nothing],
  [Mnemonic.Lfence, nothing],
  [Mnemonic.Mfence, nothing],
  [Mnemonic.Sfence, nothing],
  [Mnemonic.Prefetcht0, nothing],
  [Mnemonic.Prefetcht1, nothing],
  [Mnemonic.Prefetcht2, nothing],
  [Mnemonic.Prefetchnta, nothing],
  [Mnemonic.Prefetchw, nothing],
  [Mnemonic.Cld, setDirection(0)],
  [Mnemonic.Std, setDirection(1)],
];
