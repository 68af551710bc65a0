// The straight-line path that leads to an indirect jump, for jump-table
// recovery: walking back from the jump through the instructions that fall
// through to it and, where a block is entered only by one branch (gcc's
// `cmp $5,%al; jbe .Ltable` ahead of an unrelated fall-through), through
// that branch. The bound check and the table base are usually on it.
import { FlowControl, Mnemonic } from "iced-x86";
import type { DecodedInstruction } from "./decode.js";

const MAX_PATH = 32;

export class JumpPaths {
  /** Instruction by the address just after it. */
  private readonly byEnd = new Map<number, DecodedInstruction>();
  /** Direct jumps and conditional branches by target. */
  private readonly branchesTo = new Map<number, DecodedInstruction[]>();

  record(ins: DecodedInstruction): void {
    this.byEnd.set(ins.ip + ins.length, ins);
    const branch =
      ins.flow === FlowControl.ConditionalBranch || ins.flow === FlowControl.UnconditionalBranch;
    if (branch && ins.target !== undefined) {
      const list = this.branchesTo.get(ins.target);
      if (list === undefined) this.branchesTo.set(ins.target, [ins]);
      else list.push(ins);
    }
  }

  /** The instructions executed before `jump` on its path, oldest first. */
  pathTo(jump: DecodedInstruction): DecodedInstruction[] {
    const path: DecodedInstruction[] = [];
    let start = jump.ip;
    while (path.length < MAX_PATH) {
      const before = this.byEnd.get(start);
      // A jmp or ret that happens to end where this code starts is not on the path.
      const next =
        before !== undefined && fallsThrough(before) ? before : this.onlyBranchTo(start, path);
      if (next === undefined) break;
      path.unshift(next);
      start = next.ip;
    }
    return path;
  }

  private onlyBranchTo(
    address: number,
    path: readonly DecodedInstruction[],
  ): DecodedInstruction | undefined {
    const branches = this.branchesTo.get(address);
    if (branches?.length !== 1) return undefined;
    const branch = branches[0] as DecodedInstruction;
    // A loop back into the path would repeat it.
    return path.includes(branch) ? undefined : branch;
  }
}

/** True when execution can continue at the next instruction (calls return there). */
function fallsThrough(ins: DecodedInstruction): boolean {
  switch (ins.flow) {
    case FlowControl.UnconditionalBranch:
    case FlowControl.IndirectBranch:
    case FlowControl.Return:
    case FlowControl.Exception:
      return false;
    case FlowControl.Interrupt:
      // iced puts syscall with int/int3; only syscall returns to the next instruction.
      return ins.mnemonic === Mnemonic.Syscall;
    default:
      return true;
  }
}
