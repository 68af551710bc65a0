// Which register locals may differ from their copy in the state block
// ("dirty"), so a spill stores only those (ARCHITECTURE.md "Lifting" 2).
// Every entry of a lifted function reloads its registers, and so does the
// code after each call and syscall: from there until a register is written,
// its local and the state block agree and a spill would store the same
// value again. Measured on busybox sort: functions that call in a loop spent
// much of their time re-storing registers nobody had changed.
//
// This is the static part: a conservative per-instruction write set and a
// forward data-flow over one wasm function's blocks. FunctionContext tracks
// the exact writes inside a block and checks them against this estimate
// (lift-function.ts falls back to spilling everything on a mismatch).
import { Mnemonic } from "iced-x86";
import { gprIndex, type DecodedInstruction } from "../decode.js";
import { CMOVS, SETS } from "../semantics/conditions.js";
import type { DiscoveredBlock } from "../discover.js";
import { isCall } from "./lift-block.js";
import type { Successors } from "./loops.js";

export interface RegisterMask {
  readonly gpr: number;
  readonly xmm: number;
}

export const EVERY_REGISTER: RegisterMask = { gpr: 0xffff, xmm: 0xffff };

/**
 * The registers a reload after `ins` loads (call-summaries.ts): those its
 * callee can touch for a direct call, all for anything else.
 */
export type ReloadedBy = (ins: DecodedInstruction) => RegisterMask;

const reloadsAll: ReloadedBy = () => EVERY_REGISTER;

/**
 * Instructions whose semantics write no register but a register operand 0
 * (SDM Vol. 2 per mnemonic: none of them has an implicit register
 * destination). Anything else counts as writing every register it uses.
 */
const WRITES_OPERAND_0 = new Set<Mnemonic>([
  Mnemonic.Mov,
  Mnemonic.Movzx,
  Mnemonic.Movsx,
  Mnemonic.Movsxd,
  Mnemonic.Lea,
  Mnemonic.Add,
  Mnemonic.Sub,
  Mnemonic.Adc,
  Mnemonic.Sbb,
  Mnemonic.And,
  Mnemonic.Or,
  Mnemonic.Xor,
  Mnemonic.Inc,
  Mnemonic.Dec,
  Mnemonic.Neg,
  Mnemonic.Not,
  Mnemonic.Shl,
  Mnemonic.Sal,
  Mnemonic.Shr,
  Mnemonic.Sar,
  Mnemonic.Rol,
  Mnemonic.Ror,
  Mnemonic.Bswap,
  Mnemonic.Popcnt,
  Mnemonic.Tzcnt,
  Mnemonic.Lzcnt,
  Mnemonic.Bsf,
  Mnemonic.Bsr,
  ...CMOVS,
  ...SETS,
]);

/** Instructions that write no register at all. */
const WRITES_NOTHING = new Set<Mnemonic>([Mnemonic.Cmp, Mnemonic.Test, Mnemonic.Bt]);

/** A superset of the registers the lifted code of `ins` writes. */
export function registersWritten(ins: DecodedInstruction): RegisterMask {
  const op0 = ins.operands[0];
  // SSE stores (operand 0 in memory) write no XMM register.
  const xmm = op0?.kind === "mem" ? 0 : ins.xmmMask;
  if (ins.xmmMask === 0 && WRITES_NOTHING.has(ins.mnemonic)) return { gpr: 0, xmm };
  if (ins.xmmMask === 0 && WRITES_OPERAND_0.has(ins.mnemonic)) {
    if (op0?.kind !== "reg") return { gpr: 0, xmm };
    const index = gprIndex(op0.reg);
    return { gpr: index >= 0 ? 1 << index : ins.gprMask, xmm };
  }
  return { gpr: ins.gprMask, xmm };
}

/** After these, the lifted code reloads registers (control-flow.ts, semantics/system.ts). */
export function reloadsAfter(ins: DecodedInstruction): boolean {
  return isCall(ins) || ins.mnemonic === Mnemonic.Syscall;
}

/** Dirty registers after `block`, from those dirty at its start. */
export function dirtyAfter(
  block: DiscoveredBlock,
  dirtyIn: RegisterMask,
  reloadedBy: ReloadedBy = reloadsAll,
): RegisterMask {
  let gpr = dirtyIn.gpr;
  let xmm = dirtyIn.xmm;
  for (const ins of block.instructions) {
    if (reloadsAfter(ins)) {
      const reloaded = reloadedBy(ins);
      gpr &= ~reloaded.gpr;
      xmm &= ~reloaded.xmm;
      continue;
    }
    const written = registersWritten(ins);
    gpr |= written.gpr;
    xmm |= written.xmm;
  }
  return { gpr, xmm };
}

/**
 * Registers possibly dirty at the start of each block of one wasm function:
 * the union over its predecessors inside `blocks`; nothing at the function's
 * own entry, whose prologue reloads. A block of `joins` takes only the
 * registers dirty on every edge into it: the edges that bring more store
 * them on the way (lift-function.ts). Measured on busybox sort's
 * comparison function: XMM registers written only on its `-g` path were
 * dirty where that path joined the common one, so every comparison stored
 * and reloaded five of them around each of its calls.
 */
export function dirtyAtEntry(
  blocks: readonly DiscoveredBlock[],
  successors: Successors,
  reloadedBy: ReloadedBy = reloadsAll,
  joins: ReadonlySet<number> = new Set(),
): Map<number, RegisterMask> {
  const predecessors = new Map<number, number[]>(blocks.map((b) => [b.start, []]));
  for (const block of blocks) {
    for (const s of successors.get(block.start) ?? []) predecessors.get(s)?.push(block.start);
  }
  const none: RegisterMask = { gpr: 0, xmm: 0 };
  const dirtyIn = new Map<number, RegisterMask>(blocks.map((b) => [b.start, none]));
  const dirtyOut = new Map<number, RegisterMask>();
  for (const block of blocks) dirtyOut.set(block.start, dirtyAfter(block, none, reloadedBy));
  // Both meets are monotone, so this reaches the least fixed point.
  for (let changed = true; changed;) {
    changed = false;
    for (const block of blocks) {
      const outs = (predecessors.get(block.start) ?? []).map(
        (p) => dirtyOut.get(p) as RegisterMask,
      );
      const meet = joins.has(block.start) && outs.length > 0 ? intersection(outs) : union(outs);
      const seen = dirtyIn.get(block.start) as RegisterMask;
      if (meet.gpr === seen.gpr && meet.xmm === seen.xmm) continue;
      dirtyIn.set(block.start, meet);
      dirtyOut.set(block.start, dirtyAfter(block, meet, reloadedBy));
      changed = true;
    }
  }
  return dirtyIn;
}

function union(masks: readonly RegisterMask[]): RegisterMask {
  return masks.reduce((a, b) => ({ gpr: a.gpr | b.gpr, xmm: a.xmm | b.xmm }), { gpr: 0, xmm: 0 });
}

function intersection(masks: readonly RegisterMask[]): RegisterMask {
  return masks.reduce((a, b) => ({ gpr: a.gpr & b.gpr, xmm: a.xmm & b.xmm }));
}
