// The straight-line path that leads to an indirect jump, for jump-table
// recovery: walking back from the jump through the instructions that fall
// through to it and, where a block is entered only by one branch (gcc's
// `cmp $5,%al; jbe .Ltable` ahead of an unrelated fall-through), through
// that branch. The bound check and the table base are usually on it.
//
// Where the walk falls through into a block that branches also enter (a
// loop header reached by its back edge, the join after an if), the path is
// one way in of several: a register another way writes holds no one value
// there. cpu-bench's interpreter sets its switch index with `mov $1,%edx`
// ahead of the loop; read through the header, that made the index look
// constant. Such merge points are kept with the registers that vary at them.
import { FlowControl, Mnemonic } from "iced-x86";
import type { DecodedInstruction } from "./decode.js";
import { writtenRegisters } from "./jump-table-eval.js";

const MAX_PATH = 32;
/** Instructions searched for the other ways into a merge point before giving up on them. */
const MAX_OTHER_WAYS = 4096;
const ALL_REGISTERS = 0xffff;

export interface JumpPath {
  /** The instructions executed before the jump, oldest first. */
  readonly instructions: readonly DecodedInstruction[];
  /**
   * Merge points: index k → the GPRs (bit n: GPR n) whose value at the
   * start of instructions[k] may come from another way in than the path.
   */
  readonly merges: ReadonlyMap<number, number>;
}

export class JumpPaths {
  /** Instruction by the address just after it. */
  private readonly byEnd = new Map<number, DecodedInstruction>();
  /** Direct jumps and conditional branches by target. */
  private readonly branchesTo = new Map<number, DecodedInstruction[]>();
  /** The function's entry: the first instruction recorded. */
  private entry: number | undefined;

  record(ins: DecodedInstruction): void {
    this.entry ??= ins.ip;
    this.byEnd.set(ins.ip + ins.length, ins);
    const branch =
      ins.flow === FlowControl.ConditionalBranch || ins.flow === FlowControl.UnconditionalBranch;
    if (branch && ins.target !== undefined) {
      const list = this.branchesTo.get(ins.target);
      if (list === undefined) this.branchesTo.set(ins.target, [ins]);
      else list.push(ins);
    }
  }

  /** The path to `jump` and the merge points on it. */
  pathTo(jump: DecodedInstruction): JumpPath {
    const path: DecodedInstruction[] = [];
    /** Merge addresses with the number of path instructions from them to the jump. */
    const joins: { address: number; after: number }[] = [];
    let start = jump.ip;
    while (path.length < MAX_PATH) {
      const before = this.byEnd.get(start);
      // A jmp or ret that happens to end where this code starts is not on the path.
      const fallThrough = before !== undefined && fallsThrough(before) ? before : undefined;
      const next = fallThrough ?? this.onlyBranchTo(start, path);
      if (next === undefined) break;
      if (fallThrough !== undefined && this.branchesTo.has(start))
        joins.push({ address: start, after: path.length });
      path.unshift(next);
      start = next.ip;
    }
    const merges = new Map<number, number>();
    for (const { address, after } of joins) {
      const k = path.length - after;
      merges.set(k, this.varyingAt(address, path, k));
    }
    return { instructions: path, merges };
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

  /**
   * The registers that may differ between the path's way into path[k] (at
   * `merge`) and the branches' ways: what the branches' ways write since
   * they left the path — all of a loop body when they come round from the
   * merge point itself — and what the path writes since that place.
   */
  private varyingAt(merge: number, path: readonly DecodedInstruction[], k: number): number {
    const earlier = new Map(path.slice(0, k).map((ins, i) => [ins.ip, i]));
    let written = 0;
    let diverged = k;
    const seen = new Set<number>();
    const work = [...(this.branchesTo.get(merge) ?? [])];
    for (let ins = work.pop(); ins !== undefined; ins = work.pop()) {
      if (ins.ip === merge || seen.has(ins.ip)) continue;
      const met = earlier.get(ins.ip);
      if (met !== undefined) {
        diverged = Math.min(diverged, met + 1);
        continue;
      }
      seen.add(ins.ip);
      if (seen.size > MAX_OTHER_WAYS) return ALL_REGISTERS;
      written |= writtenRegisters(ins);
      const before = this.predecessors(ins.ip);
      if (before.length === 0) {
        // Entered from where the walk cannot see (a jump table, the dispatcher).
        if (ins.ip !== this.entry) return ALL_REGISTERS;
        diverged = 0;
      }
      work.push(...before);
    }
    for (let i = diverged; i < k; i++) written |= writtenRegisters(path[i] as DecodedInstruction);
    return written;
  }

  private predecessors(address: number): DecodedInstruction[] {
    const before = this.byEnd.get(address);
    const branches = this.branchesTo.get(address) ?? [];
    return before !== undefined && fallsThrough(before) ? [before, ...branches] : branches;
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
