// Flag control and transfer (SDM Vol. 1 §7.3.13 "Flag Control (EFLAG)
// Instructions"): clc, stc, cmc, lahf, sahf, pushf/pushfq, popf/popfq.
// EFLAGS bit positions follow SDM Vol. 1 §3.4.3 (Figure 3-8): CF 0, PF 2,
// AF 4, ZF 6, SF 7, DF 10, OF 11; bit 1 always reads 1 and IF (bit 9) is 1
// in a Linux process. cld/std live in system.ts (DF is kept in the state block).
import { Mnemonic } from "iced-x86";
import { AF, CF, OF, PF, SF, ZF } from "../emit/flags.js";
import type { FunctionContext } from "../emit/function-context.js";
import { i32, type Expr } from "../emit/wasm.js";
import { STATE_DF } from "../guest-layout.js";
import { pop, push } from "./data-transfer.js";
import type { SemanticsEntry } from "./types.js";

/** Our flag bits and their EFLAGS positions. */
const EFLAGS_POSITIONS: readonly (readonly [number, number])[] = [
  [CF, 0],
  [PF, 2],
  [AF, 4],
  [ZF, 6],
  [SF, 7],
  [OF, 11],
];
/** Bit 1 (reserved, reads 1) and IF (bit 9): what a user process always sees. */
const FIXED_ONES = 0x202;
const DF_POSITION = 10;

/** EFLAGS as an i64 from the current flag values, DF and the fixed bits. */
export function composeEflags(ctx: FunctionContext, positions = EFLAGS_POSITIONS): Expr {
  const m = ctx.m;
  let value: Expr = ctx.w.c32(FIXED_ONES);
  for (const [bit, pos] of positions)
    value = m.i32.or(value, m.i32.shl(ctx.flag(bit), ctx.w.c32(pos)));
  const df = m.i32.shl(m.i32.load(0, 4, ctx.w.c32(STATE_DF)), ctx.w.c32(DF_POSITION));
  return m.i64.extend_u(m.i32.or(value, df));
}

/** Sets each listed flag from its EFLAGS bit of an i64 local. */
function loadFlags(ctx: FunctionContext, source: number, positions = EFLAGS_POSITIONS): void {
  for (const [bit, pos] of positions) ctx.setFlag(bit, ctx.w.bit(ctx.get(source), pos));
}

function setCarry(value: 0 | 1) {
  return (ctx: FunctionContext): void => ctx.setFlag(CF, ctx.w.c32(value));
}

/** cmc: CF = NOT CF (SDM Vol. 2A "CMC"). */
function cmc(ctx: FunctionContext): void {
  ctx.setFlag(CF, ctx.m.i32.eqz(ctx.flag(CF)));
}

/** The flags lahf/sahf move: AH = SF:ZF:0:AF:0:PF:1:CF (SDM Vol. 2A "LAHF"). */
const LOW_BYTE_POSITIONS = EFLAGS_POSITIONS.filter(([bit]) => bit !== OF);

function lahf(ctx: FunctionContext): void {
  const m = ctx.m;
  const w = ctx.w;
  let ah: Expr = w.c32(0x02);
  for (const [bit, pos] of LOW_BYTE_POSITIONS)
    ah = m.i32.or(ah, m.i32.shl(ctx.flag(bit), w.c32(pos)));
  const value = ctx.let(m.i64.extend_u(ah));
  const rax = ctx.gpr(0);
  ctx.setGpr(0, m.i64.or(m.i64.and(rax, w.c64(~0xff00n)), m.i64.shl(ctx.get(value), w.c64(8))));
}

/** sahf: SF ZF AF PF CF from AH; OF is left alone (SDM Vol. 2B "SAHF"). */
function sahf(ctx: FunctionContext): void {
  const ah = ctx.let(ctx.m.i64.shr_u(ctx.gpr(0), ctx.w.c64(8)));
  loadFlags(ctx, ah, LOW_BYTE_POSITIONS);
}

/** pushf/pushfq: the 16- or 64-bit EFLAGS image (RF and VM read as 0, SDM Vol. 2B "PUSHF"). */
function pushf(ctx: FunctionContext): void {
  const size = ctx.ins.mnemonic === Mnemonic.Pushf ? 2 : 8;
  push(ctx, composeEflags(ctx), size);
}

/**
 * popf/popfq: the arithmetic flags and DF are taken; IF and IOPL are ignored
 * at CPL 3 (SDM Vol. 2B "POPF" operation, CPL > 0 case). TF, AC and ID are
 * not modelled (single-stepping and alignment checks do not exist here).
 */
function popf(ctx: FunctionContext): void {
  const size = ctx.ins.mnemonic === Mnemonic.Popf ? 2 : 8;
  const value = pop(ctx, size);
  loadFlags(ctx, value);
  const df = ctx.let(ctx.w.bit(ctx.get(value), DF_POSITION), i32);
  ctx.emit(ctx.m.i32.store(0, 4, ctx.w.c32(STATE_DF), ctx.get(df, i32)));
}

export const flagControlSemantics: readonly SemanticsEntry[] = [
  [Mnemonic.Clc, setCarry(0)],
  [Mnemonic.Stc, setCarry(1)],
  [Mnemonic.Cmc, cmc],
  [Mnemonic.Lahf, lahf],
  [Mnemonic.Sahf, sahf],
  [Mnemonic.Pushf, pushf],
  [Mnemonic.Pushfq, pushf],
  [Mnemonic.Popf, popf],
  [Mnemonic.Popfq, popf],
];
