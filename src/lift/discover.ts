// Function and block discovery by recursive descent (ARCHITECTURE.md
// "Lifting" 5). Roots: the entry point, STT_FUNC symbols when present, and
// later FDE starts and init/fini arrays; every direct call target becomes a
// function. A function's blocks are what its entry reaches through jumps,
// conditional branches and recovered jump tables; a `jmp` to another
// function's entry is a tail call, and falling into one (after a noreturn
// call) ends the block, so no function carries a copy of its neighbour —
// that halved the instructions lifted for static glibc. Calls end blocks so
// that the code after a call can be re-entered from the dispatcher.
import { FlowControl, Mnemonic, Register } from "iced-x86";
import type { CodeDecoder, DecodedInstruction } from "./decode.js";
import type { GuestImage } from "./guest-image.js";
import { FunctionExtents } from "./function-extents.js";
import { JumpPaths } from "./jump-path.js";
import { recoverJumpTable } from "./jump-table.js";

export interface DiscoveredBlock {
  readonly start: number;
  readonly instructions: readonly DecodedInstruction[];
  /** Address after the last instruction: the fall-through successor, if any. */
  readonly end: number;
  /** Set when decoding failed at `end` (the block stops with a trap). */
  readonly undecodable: boolean;
  /** Targets of a recovered jump table ending this block. */
  readonly jumpTable?: readonly number[];
}

export interface DiscoveredFunction {
  readonly entry: number;
  readonly name?: string;
  /** Blocks by start address; the entry block is among them. */
  readonly blocks: ReadonlyMap<number, DiscoveredBlock>;
}

export interface Discovery {
  readonly functions: ReadonlyMap<number, DiscoveredFunction>;
  /** Addresses where decoding failed on a reachable path. */
  readonly undecodable: ReadonlySet<number>;
  /** Indirect jumps no jump-table pattern explained (they go through the dispatcher). */
  readonly unresolvedIndirectJumps: readonly number[];
}

/** Instructions that end a block and do not fall through. */
export function isTrapInstruction(ins: DecodedInstruction): boolean {
  return (
    ins.mnemonic === Mnemonic.Hlt ||
    ins.mnemonic === Mnemonic.Ud2 ||
    ins.mnemonic === Mnemonic.Int3 ||
    ins.mnemonic === Mnemonic.Int ||
    ins.mnemonic === Mnemonic.Int1 ||
    ins.mnemonic === Mnemonic.Into
  );
}

/** True when `ins` ends a basic block. */
export function endsBlock(ins: DecodedInstruction): boolean {
  if (ins.mnemonic === Mnemonic.Syscall) return false;
  return ins.flow !== FlowControl.Next || isTrapInstruction(ins);
}

interface Exploration {
  readonly instructions: Map<number, DecodedInstruction>;
  readonly leaders: Set<number>;
  readonly calls: Set<number>;
  /** Targets of direct unconditional jumps (tail calls among them). */
  readonly jumpTargets: Set<number>;
  readonly jumpTables: Map<number, number[]>;
  readonly undecodable: Set<number>;
  readonly unresolved: Set<number>;
}

/**
 * @param extraRoots known function starts (FDEs, init/fini arrays)
 * @param pointerRoots code addresses found as pointers in data (an applet
 *   table, callbacks): weaker evidence, so each is taken only when it lies
 *   outside all code discovered so far — a false start inside a function
 *   would split it, and flags live across the split would be lost.
 */
export function discover(
  image: GuestImage,
  decoder: CodeDecoder,
  extraRoots: Iterable<number> = [],
  pointerRoots: Iterable<number> = [],
): Discovery {
  const entries = new Set<number>();
  const addRoot = (a: number): void => {
    if (decoder.contains(a)) entries.add(a);
  };
  addRoot(image.entry);
  for (const [address, name] of image.functionSymbols) {
    // gcc's hot/cold splitting: "f.cold" is a piece of f, not a function.
    if (!name.includes(".cold")) addRoot(address);
  }
  for (const a of extraRoots) addRoot(a);

  const extents = new FunctionExtents(image);
  // Phase 1: grow the set of function entries until no call finds a new one.
  const explored = new Set<number>();
  const covered = new CodeCoverage(image.codeRanges);
  const jumpTargets = new Set<number>();
  const grow = (roots: readonly number[]): void => {
    let work = roots;
    while (work.length > 0) {
      const next: number[] = [];
      for (const entry of work) {
        if (explored.has(entry)) continue;
        explored.add(entry);
        const ex = explore(image, decoder, entry, entries, extents);
        for (const ins of ex.instructions.values()) {
          covered.mark(ins.ip, ins.length);
          for (const a of codeAddressOperands(ins)) candidates.push(a);
        }
        for (const t of ex.jumpTargets) jumpTargets.add(t);
        for (const target of ex.calls) {
          if (!entries.has(target) && decoder.contains(target)) {
            entries.add(target);
            next.push(target);
          }
        }
      }
      work = next;
    }
  };
  // Addresses of code taken as values (`mov $main, %rdi` in a non-PIE _start,
  // `lea f(%rip)`), and pointers found in data: weaker evidence, see above.
  const candidates: number[] = [...pointerRoots];
  grow([...entries]);
  while (candidates.length > 0) {
    const batch = [...new Set(candidates.splice(0))].sort((a, b) => a - b);
    for (const candidate of batch) {
      // Covered code is still a start when another function jumps to it
      // (busybox tail-calls applet mains that its applet table also holds).
      const inside = covered.has(candidate) && !jumpTargets.has(candidate);
      if (entries.has(candidate) || !decoder.contains(candidate) || inside) continue;
      entries.add(candidate);
      grow([candidate]);
    }
  }

  // Phase 2: blocks per function, knowing every entry (tail calls stop there).
  const functions = new Map<number, DiscoveredFunction>();
  const undecodable = new Set<number>();
  const unresolved = new Set<number>();
  for (const entry of [...entries].sort((a, b) => a - b)) {
    const ex = explore(image, decoder, entry, entries, extents);
    for (const a of ex.undecodable) undecodable.add(a);
    for (const a of ex.unresolved) unresolved.add(a);
    functions.set(entry, {
      entry,
      name: image.functionSymbols.get(entry),
      blocks: formBlocks(ex),
    });
  }
  return {
    functions,
    undecodable,
    unresolvedIndirectJumps: [...unresolved].sort((a, b) => a - b),
  };
}

function explore(
  image: GuestImage,
  decoder: CodeDecoder,
  entry: number,
  functionEntries: ReadonlySet<number>,
  extents: FunctionExtents,
): Exploration {
  const ex: Exploration = {
    instructions: new Map(),
    leaders: new Set([entry]),
    calls: new Set(),
    jumpTargets: new Set(),
    jumpTables: new Map(),
    undecodable: new Set(),
    unresolved: new Set(),
  };
  const paths = new JumpPaths();
  const work = [entry];
  const pendingIndirect: DecodedInstruction[] = [];
  let attemptedAt = -1;
  let unboundedWaiting = false;
  let takeUnbounded = false;
  const addLeader = (a: number): void => {
    if (!ex.leaders.has(a)) {
      ex.leaders.add(a);
      work.push(a);
    }
  };
  // Another function's entry reached by a branch or by falling through (a
  // call to a noreturn function followed by padding, __memset_chk running
  // into memset) continues in that function, not in a copy of its code.
  const foreign = (a: number): boolean => a !== entry && functionEntries.has(a);
  const addLocal = (a: number | undefined): void => {
    if (a !== undefined && !foreign(a)) addLeader(a);
  };
  for (;;) {
    while (work.length > 0) {
      let address = work.pop() as number;
      for (;;) {
        if (ex.instructions.has(address)) break;
        const ins = decoder.decodeAt(address);
        if (ins === null) {
          ex.undecodable.add(address);
          break;
        }
        ex.instructions.set(address, ins);
        paths.record(ins);
        const next = ins.ip + ins.length;
        // The instruction after a syscall starts a block: the vkernel resumes a
        // process there after a syscall that blocked, forked or was interrupted.
        if (ins.mnemonic === Mnemonic.Syscall) addLocal(next);
        if (!endsBlock(ins)) {
          if (foreign(next)) break;
          address = next;
          continue;
        }
        if (isTrapInstruction(ins)) break;
        switch (ins.flow) {
          case FlowControl.ConditionalBranch:
            addLocal(ins.target);
            addLocal(next);
            break;
          case FlowControl.UnconditionalBranch:
            if (ins.target !== undefined) ex.jumpTargets.add(ins.target);
            addLocal(ins.target);
            break;
          case FlowControl.IndirectBranch:
            pendingIndirect.push(ins);
            break;
          case FlowControl.Call:
            if (ins.target !== undefined) ex.calls.add(ins.target);
            addLocal(next);
            break;
          case FlowControl.IndirectCall:
            addLocal(next);
            break;
          default:
            break;
        }
        break;
      }
    }
    // Jump tables: resolved once the function's other code is known (the
    // table base may be loaded in an earlier block). A jump whose path was
    // not decoded yet (a table reached it first) is tried again after every
    // round that decoded more code. Tables read without a bound are taken
    // only when no bounded one is left to find: their extra entries could
    // start code in the middle of a path another table's bound is on.
    if (ex.instructions.size === attemptedAt) {
      if (!unboundedWaiting || takeUnbounded) break;
      takeUnbounded = true;
    } else {
      takeUnbounded = false;
    }
    attemptedAt = ex.instructions.size;
    unboundedWaiting = false;
    for (const jump of [...pendingIndirect]) {
      const table = recoverJumpTable(jump, {
        image,
        path: paths.pathTo(jump),
        functionInstructions: ex.instructions.values(),
        isCode: (a) => decoder.contains(a),
        extent: extents.containing(jump.ip),
      });
      if (table === undefined || (!table.bounded && !takeUnbounded)) {
        unboundedWaiting ||= table !== undefined;
        ex.unresolved.add(jump.ip);
        continue;
      }
      ex.unresolved.delete(jump.ip);
      pendingIndirect.splice(pendingIndirect.indexOf(jump), 1);
      ex.jumpTables.set(jump.ip, [...table.targets]);
      for (const t of table.targets) addLeader(t);
    }
  }
  return ex;
}

function formBlocks(ex: Exploration): Map<number, DiscoveredBlock> {
  const blocks = new Map<number, DiscoveredBlock>();
  for (const start of [...ex.leaders].sort((a, b) => a - b)) {
    const instructions: DecodedInstruction[] = [];
    let address = start;
    let undecodable = false;
    let jumpTable: number[] | undefined;
    for (;;) {
      const ins = ex.instructions.get(address);
      if (ins === undefined) {
        undecodable = ex.undecodable.has(address);
        break;
      }
      instructions.push(ins);
      address = ins.ip + ins.length;
      if (endsBlock(ins)) {
        jumpTable = ex.jumpTables.get(ins.ip);
        break;
      }
      if (ex.leaders.has(address)) break;
    }
    if (instructions.length === 0 && !undecodable) continue;
    blocks.set(start, { start, instructions, end: address, undecodable, jumpTable });
  }
  return blocks;
}

/** Code addresses an instruction uses as a value: mov/push of an immediate, lea of an absolute address. */
function codeAddressOperands(ins: DecodedInstruction): number[] {
  const out: number[] = [];
  if (ins.mnemonic === Mnemonic.Mov || ins.mnemonic === Mnemonic.Push) {
    for (const op of ins.operands) if (op.kind === "imm") out.push(Number(op.value));
  } else if (
    ins.mnemonic === Mnemonic.Lea &&
    ins.memory !== undefined &&
    ins.memory.base === Register.None &&
    ins.memory.index === Register.None
  ) {
    out.push(Number(ins.memory.displacement));
  }
  return out;
}

/** Which code bytes discovery has already decoded as instructions (one flag byte per code byte). */
class CodeCoverage {
  private readonly ranges: { readonly address: number; readonly bits: Uint8Array }[];

  constructor(ranges: readonly { readonly address: number; readonly bytes: Uint8Array }[]) {
    this.ranges = ranges.map((r) => ({ address: r.address, bits: new Uint8Array(r.bytes.length) }));
  }

  mark(address: number, length: number): void {
    const r = this.find(address);
    if (r)
      r.bits.fill(1, address - r.address, Math.min(r.bits.length, address - r.address + length));
  }

  has(address: number): boolean {
    const r = this.find(address);
    return r !== undefined && r.bits[address - r.address] === 1;
  }

  private find(
    address: number,
  ): { readonly address: number; readonly bits: Uint8Array } | undefined {
    return this.ranges.find((r) => address >= r.address && address < r.address + r.bits.length);
  }
}
