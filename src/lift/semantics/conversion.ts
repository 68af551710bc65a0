// Sign-extension conversions of the accumulator (SDM Vol. 2A "CBW/CWDE/CDQE",
// "CWD/CDQ/CQO").
import { Mnemonic, Register } from "iced-x86";
import type { FunctionContext } from "../emit/function-context.js";
import type { Size } from "../emit/wasm.js";
import type { SemanticsEntry } from "./types.js";

function widenAccumulator(from: Size, to: Register) {
  return (ctx: FunctionContext): void => {
    ctx.writeReg(to, ctx.w.signExtend(ctx.gpr(0), from));
  };
}

/** rDX = all sign bits of rAX. */
function signIntoDx(size: Size, dx: Register) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    ctx.writeReg(dx, m.i64.shr_s(ctx.w.signExtend(ctx.gpr(0), size), ctx.w.c64(63)));
  };
}

export const conversionSemantics: readonly SemanticsEntry[] = [
  [Mnemonic.Cbw, widenAccumulator(1, Register.AX)],
  [Mnemonic.Cwde, widenAccumulator(2, Register.EAX)],
  [Mnemonic.Cdqe, widenAccumulator(4, Register.RAX)],
  [Mnemonic.Cwd, signIntoDx(2, Register.DX)],
  [Mnemonic.Cdq, signIntoDx(4, Register.EDX)],
  [Mnemonic.Cqo, signIntoDx(8, Register.RDX)],
];
