// Static liveness of the arithmetic flags over one function's blocks
// (ARCHITECTURE.md "Lifting" 2): a flag is live at a point when some path
// reads it before writing it. Per instruction: live-in = read ∪ (live-out ∖
// written), from iced's rflags info. Calls clobber every flag (SysV psABI
// §3.2.1: flags are not preserved). So does syscall here: Linux restores
// RFLAGS, but compilers treat every x86 asm statement as clobbering the flags,
// and the vkernel resumes a blocked or forked process after the syscall
// without them. Only flags live at a block's end are materialised.
import { FlowControl, Mnemonic } from "iced-x86";
import type { DecodedInstruction } from "./decode.js";
import type { DiscoveredBlock, DiscoveredFunction } from "./discover.js";
import { ALL_FLAGS } from "./emit/flags.js";

export interface FlagEffect {
  readonly read: number;
  readonly written: number;
}

export function flagEffect(ins: DecodedInstruction): FlagEffect {
  if (
    ins.mnemonic === Mnemonic.Syscall ||
    ins.flow === FlowControl.Call ||
    ins.flow === FlowControl.IndirectCall
  ) {
    return { read: 0, written: ALL_FLAGS };
  }
  let read = ins.flagsRead & ALL_FLAGS;
  const written = ins.flagsModified & ALL_FLAGS;
  // Shifts and rotates by CL leave the flags unchanged when the count is 0.
  const count = ins.operands[1];
  if (written !== 0 && count?.kind === "reg" && isShift(ins.mnemonic)) read |= written;
  return { read, written };
}

function isShift(m: Mnemonic): boolean {
  return (
    m === Mnemonic.Shl ||
    m === Mnemonic.Sal ||
    m === Mnemonic.Shr ||
    m === Mnemonic.Sar ||
    m === Mnemonic.Rol ||
    m === Mnemonic.Ror ||
    m === Mnemonic.Shld ||
    m === Mnemonic.Shrd ||
    m === Mnemonic.Rcl ||
    m === Mnemonic.Rcr
  );
}

/** Flags live at the start of `block`, from those live at its end. */
export function flagsLiveAtStart(block: DiscoveredBlock, liveOut: number): number {
  let live = liveOut;
  for (let i = block.instructions.length - 1; i >= 0; i--) {
    const effect = flagEffect(block.instructions[i] as DecodedInstruction);
    live = (live & ~effect.written) | effect.read;
  }
  return live;
}

/** Intra-function successors of a block, by start address. */
export type SuccessorMap = ReadonlyMap<number, readonly number[]>;

/** Flags live at the end of each block. */
export function flagsLiveOut(
  fn: DiscoveredFunction,
  successors: SuccessorMap,
): Map<number, number> {
  const liveIn = new Map<number, number>();
  const liveOut = new Map<number, number>();
  const blocks = [...fn.blocks.values()].reverse();
  for (let changed = true; changed;) {
    changed = false;
    for (const block of blocks) {
      let out = 0;
      for (const s of successors.get(block.start) ?? []) out |= liveIn.get(s) ?? 0;
      liveOut.set(block.start, out);
      const live = flagsLiveAtStart(block, out);
      if (live !== (liveIn.get(block.start) ?? 0)) {
        liveIn.set(block.start, live);
        changed = true;
      }
    }
  }
  return liveOut;
}
