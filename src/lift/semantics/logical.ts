// Logical instructions (SDM Vol. 1 §5.1.4): and, or, xor, test, not.
// and/or/xor/test clear CF and OF, set SF ZF PF from the result; AF is undefined.
import { Mnemonic } from "iced-x86";
import { ALL_FLAGS } from "../emit/flags.js";
import type { FunctionContext } from "../emit/function-context.js";
import type { SemanticsEntry } from "./types.js";

function logic(op: "and" | "or" | "xor" | "test") {
  return (ctx: FunctionContext): void => {
    const size = ctx.operandSize(0);
    const [d, s] = ctx.ins.operands;
    // xor r, r: the zero idiom (no read of the register).
    if (op === "xor" && d?.kind === "reg" && s?.kind === "reg" && d.reg === s.reg) {
      ctx.setLazyFlags("logic", size, ctx.w.c64(0), ctx.w.c64(0), ctx.w.c64(0), ALL_FLAGS);
      ctx.write(0, ctx.w.c64(0));
      return;
    }
    const a = ctx.let(ctx.read(0));
    const b = ctx.let(ctx.read(1, size));
    const result = ctx.w.arith(op === "test" ? "and" : op, size, ctx.get(a), ctx.get(b));
    const res = ctx.setLazyFlags("logic", size, ctx.get(a), ctx.get(b), result, ALL_FLAGS);
    if (op !== "test") ctx.write(0, ctx.get(res));
  };
}

function not(ctx: FunctionContext): void {
  const size = ctx.operandSize(0);
  ctx.write(0, ctx.w.arith("xor", size, ctx.read(0), ctx.w.mask(size)));
}

export const logicalSemantics: readonly SemanticsEntry[] = [
  [Mnemonic.And, logic("and")],
  [Mnemonic.Or, logic("or")],
  [Mnemonic.Xor, logic("xor")],
  [Mnemonic.Test, logic("test")],
  [Mnemonic.Not, not],
];
