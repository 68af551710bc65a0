// The shape of an instruction semantic: a function over the lifting context
// that reads and writes guest state for the current instruction (ctx.ins).
// Families export [Mnemonic, Handler] pairs; table.ts joins them.
import type { Mnemonic } from "iced-x86";
import type { FunctionContext } from "../emit/function-context.js";

export type Handler = (ctx: FunctionContext) => void;
export type SemanticsEntry = readonly [Mnemonic, Handler];
