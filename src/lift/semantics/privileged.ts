// Instructions a Linux user process cannot complete, and the few system
// instructions it can. At CPL 3 with IOPL 0, port I/O, cli/sti, descriptor
// table and control register access raise #GP (SDM Vol. 3A §6.15, "Interrupt
// 13"), and sldt/str/sgdt/sidt/smsw with UMIP on (SDM Vol. 3A §2.5, CR4.UMIP)
// — Linux answers both with SIGSEGV. Extensions the CPU model does not report
// (XSAVE, RTM, shadow stacks: cpu-model.ts) raise #UD — SIGILL. These stop
// the process with a trap that says which; they are not "unsupported".
// rdssp is in the NOP space while shadow stacks are off (SDM Vol. 1 §18.2):
// the destination is left as it was, which is how glibc detects them.
// Segment registers read as the selectors Linux loads for a 64-bit process.
import { Mnemonic, Register } from "iced-x86";
import type { FunctionContext } from "../emit/function-context.js";
import type { SemanticsEntry } from "./types.js";

function generalProtection(what: string) {
  return (ctx: FunctionContext): void => {
    ctx.emit(ctx.trap(`general protection fault (#GP, SIGSEGV on Linux): ${what} at CPL 3`));
  };
}

function invalidOpcode(what: string) {
  return (ctx: FunctionContext): void => {
    ctx.emit(ctx.trap(`invalid opcode (#UD, SIGILL on Linux): ${what} is not in the CPU model`));
  };
}

/** Selectors of a 64-bit Linux process: __USER_CS, __USER_DS in SS, null elsewhere (arch/x86/include/asm/segment.h). */
const SELECTORS: ReadonlyMap<Register, number> = new Map([
  [Register.CS, 0x33],
  [Register.SS, 0x2b],
  [Register.DS, 0],
  [Register.ES, 0],
  [Register.FS, 0],
  [Register.GS, 0],
]);

const isControlOrDebug = (reg: Register): boolean =>
  (reg >= Register.CR0 && reg <= Register.CR15) || (reg >= Register.DR0 && reg <= Register.DR15);

/**
 * mov forms with a segment, control or debug register: true when handled.
 * Reading a segment register gives its selector (zero-extended into a
 * register, 16 bits to memory; SDM Vol. 2B "MOV"); loading one is not
 * modelled and traps; control and debug registers are #GP at CPL 3.
 */
export function specialRegisterMove(ctx: FunctionContext): boolean {
  const [dst, src] = ctx.ins.operands;
  const reg = (op: typeof dst): Register | undefined => (op?.kind === "reg" ? op.reg : undefined);
  const d = reg(dst);
  const s = reg(src);
  if ((d !== undefined && isControlOrDebug(d)) || (s !== undefined && isControlOrDebug(s))) {
    generalProtection("mov to or from a control or debug register")(ctx);
    return true;
  }
  if (d !== undefined && SELECTORS.has(d)) {
    ctx.emit(ctx.trap(`segment register load ${ctx.ins.text} is not modelled`));
    return true;
  }
  const selector = s === undefined ? undefined : SELECTORS.get(s);
  if (selector === undefined) return false;
  if (dst?.kind === "mem") ctx.emit(ctx.w.store(2, ctx.pointer(ctx.memory()), ctx.w.c64(selector)));
  else ctx.write(0, ctx.w.c64(selector));
  return true;
}

const nothing = (): void => undefined;

const GP_AT_CPL3: readonly (readonly [Mnemonic, string])[] = [
  [Mnemonic.In, "in"],
  [Mnemonic.Out, "out"],
  [Mnemonic.Insb, "ins"],
  [Mnemonic.Insw, "ins"],
  [Mnemonic.Insd, "ins"],
  [Mnemonic.Outsb, "outs"],
  [Mnemonic.Outsw, "outs"],
  [Mnemonic.Outsd, "outs"],
  [Mnemonic.Cli, "cli"],
  [Mnemonic.Sti, "sti"],
  [Mnemonic.Lgdt, "lgdt"],
  [Mnemonic.Lidt, "lidt"],
  [Mnemonic.Lldt, "lldt"],
  [Mnemonic.Ltr, "ltr"],
  [Mnemonic.Lmsw, "lmsw"],
  [Mnemonic.Clts, "clts"],
  [Mnemonic.Invd, "invd"],
  [Mnemonic.Wbinvd, "wbinvd"],
  [Mnemonic.Invlpg, "invlpg"],
  [Mnemonic.Rdmsr, "rdmsr"],
  [Mnemonic.Wrmsr, "wrmsr"],
  [Mnemonic.Rdpmc, "rdpmc (CR4.PCE clear)"],
  [Mnemonic.Swapgs, "swapgs"],
  [Mnemonic.Sldt, "sldt (UMIP)"],
  [Mnemonic.Str, "str (UMIP)"],
  [Mnemonic.Sgdt, "sgdt (UMIP)"],
  [Mnemonic.Sidt, "sidt (UMIP)"],
  [Mnemonic.Smsw, "smsw (UMIP)"],
];

const UD_NOT_IN_MODEL: readonly (readonly [Mnemonic, string])[] = [
  [Mnemonic.Xsave, "xsave"],
  [Mnemonic.Xsave64, "xsave"],
  [Mnemonic.Xsavec, "xsavec"],
  [Mnemonic.Xsavec64, "xsavec"],
  [Mnemonic.Xsaveopt, "xsaveopt"],
  [Mnemonic.Xsaveopt64, "xsaveopt"],
  [Mnemonic.Xrstor, "xrstor"],
  [Mnemonic.Xrstor64, "xrstor"],
  [Mnemonic.Xsaves, "xsaves"],
  [Mnemonic.Xrstors, "xrstors"],
  [Mnemonic.Xtest, "xtest (RTM/HLE)"],
  [Mnemonic.Incsspd, "incssp (shadow stacks)"],
  [Mnemonic.Incsspq, "incssp (shadow stacks)"],
];

export const privilegedSemantics: readonly SemanticsEntry[] = [
  ...GP_AT_CPL3.map(([mn, what]) => [mn, generalProtection(what)] as const),
  ...UD_NOT_IN_MODEL.map(([mn, what]) => [mn, invalidOpcode(what)] as const),
  [Mnemonic.Rdsspd, nothing],
  [Mnemonic.Rdsspq, nothing],
];
