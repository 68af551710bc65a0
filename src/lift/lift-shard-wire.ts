// A shard's decoded functions as typed arrays, for the worker that lifts
// them (lift-shard-plan.ts ShardWork). The plan is made once, in the pool's
// thread; sending its records by structured clone cost that thread about
// 3 s a shard for busybox (200 000 small objects, and every instruction's
// text — a getter — formatted on the way), and decoding the blocks again
// cost each worker 2.6 s. Numbers travel in one Float64Array, 64-bit
// immediates and displacements in a BigInt64Array, names in a string list.
import type { Register } from "iced-x86";
import type { DecodedInstruction, DecodedOperand, MemoryOperand } from "./decode.js";
import type { DiscoveredBlock, DiscoveredFunction } from "./discover.js";

export interface EncodedFunctions {
  readonly numbers: Float64Array;
  readonly bigints: BigInt64Array;
  readonly strings: readonly string[];
}

const REG = 0;
const IMM = 1;
const MEM = 2;
const BRANCH = 3;
/** Stands for an absent optional number (a target, a jump table, a string). */
const NONE = -1;

class Writer {
  readonly numbers: number[] = [];
  readonly bigints: bigint[] = [];
  readonly strings: string[] = [];

  string(s: string | undefined): void {
    if (s === undefined) this.numbers.push(NONE);
    else this.numbers.push(this.strings.push(s) - 1);
  }

  instruction(ins: DecodedInstruction): void {
    const n = this.numbers;
    n.push(ins.ip, ins.length, ins.code, ins.mnemonic, ins.flow, ins.target ?? NONE);
    n.push((ins.rep ? 1 : 0) | (ins.repne ? 2 : 0), ins.flagsRead, ins.flagsModified);
    n.push(ins.flagsUndefined, ins.gprMask, ins.xmmMask);
    this.string(ins.requires);
    n.push(ins.operands.length);
    for (const op of ins.operands) {
      if (op.kind === "reg") n.push(REG, op.reg);
      else if (op.kind === "imm") {
        n.push(IMM, op.size);
        this.bigints.push(BigInt.asIntN(64, op.value));
      } else if (op.kind === "mem") n.push(MEM);
      else n.push(BRANCH, op.target);
    }
    const m = ins.memory;
    if (m === undefined) n.push(0);
    else {
      n.push(1, m.base, m.index, m.scale, m.segment, m.size, m.memorySize);
      this.bigints.push(m.displacement);
    }
  }

  block(b: DiscoveredBlock): void {
    const n = this.numbers;
    n.push(b.start, b.end, b.undecodable ? 1 : 0);
    if (b.jumpTable === undefined) n.push(NONE);
    else n.push(b.jumpTable.length, ...b.jumpTable);
    n.push(b.instructions.length);
    for (const ins of b.instructions) this.instruction(ins);
  }
}

export function encodeFunctions(functions: readonly DiscoveredFunction[]): EncodedFunctions {
  const w = new Writer();
  w.numbers.push(functions.length);
  for (const fn of functions) {
    w.numbers.push(fn.entry);
    w.string(fn.name);
    w.numbers.push(fn.blocks.size);
    for (const b of fn.blocks.values()) w.block(b);
  }
  return {
    numbers: Float64Array.from(w.numbers),
    bigints: BigInt64Array.from(w.bigints),
    strings: w.strings,
  };
}

type InstructionFields = Omit<DecodedInstruction, "text">;

/**
 * decode.ts's record with its text on the prototype: an object literal with
 * a getter of its own cost a worker a second for half of busybox.
 */
class WireInstruction {
  readonly #textOf: (ip: number) => string;

  constructor(fields: InstructionFields, textOf: (ip: number) => string) {
    Object.assign(this, fields);
    this.#textOf = textOf;
  }

  get text(): string {
    return this.#textOf((this as unknown as InstructionFields).ip);
  }
}

function valueAt<T>(values: { readonly [k: number]: T }, k: number): T {
  const value = values[k];
  if (value === undefined) throw new Error("encoded functions end early");
  return value;
}

class Reader {
  private at = 0;
  private bigAt = 0;

  constructor(
    private readonly encoded: EncodedFunctions,
    private readonly textOf: (ip: number) => string,
  ) {}

  number(): number {
    return valueAt(this.encoded.numbers, this.at++);
  }

  optional(): number | undefined {
    const value = this.number();
    return value === NONE ? undefined : value;
  }

  bigint(): bigint {
    return valueAt(this.encoded.bigints, this.bigAt++);
  }

  string(): string | undefined {
    const k = this.optional();
    return k === undefined ? undefined : this.encoded.strings[k];
  }

  private operand(): DecodedOperand {
    const kind = this.number();
    if (kind === REG) return { kind: "reg", reg: this.number() as Register };
    if (kind === IMM) {
      const size = this.number();
      return { kind: "imm", value: BigInt.asUintN(64, this.bigint()), size };
    }
    if (kind === MEM) return { kind: "mem" };
    return { kind: "branch", target: this.number() };
  }

  private memory(): MemoryOperand | undefined {
    if (this.number() === 0) return undefined;
    return {
      base: this.number() as Register,
      index: this.number() as Register,
      scale: this.number(),
      segment: this.number() as Register,
      size: this.number(),
      memorySize: this.number(),
      displacement: this.bigint(),
    };
  }

  // Reads in the order Writer.instruction writes (object literals evaluate left to right).
  instruction(): DecodedInstruction {
    const ip = this.number();
    const length = this.number();
    const code = this.number();
    const mnemonic = this.number();
    const flow = this.number();
    const target = this.optional();
    const prefixes = this.number();
    const fields: InstructionFields = {
      ip,
      length,
      code,
      mnemonic,
      flow,
      target,
      rep: (prefixes & 1) !== 0,
      repne: (prefixes & 2) !== 0,
      flagsRead: this.number(),
      flagsModified: this.number(),
      flagsUndefined: this.number(),
      gprMask: this.number(),
      xmmMask: this.number(),
      requires: this.string(),
      operands: Array.from({ length: this.number() }, () => this.operand()),
      memory: this.memory(),
    };
    return new WireInstruction(fields, this.textOf) as unknown as DecodedInstruction;
  }

  block(): DiscoveredBlock {
    const start = this.number();
    const end = this.number();
    const undecodable = this.number() === 1;
    const tableLength = this.optional();
    const jumpTable =
      tableLength === undefined
        ? undefined
        : Array.from({ length: tableLength }, () => this.number());
    const instructions = Array.from({ length: this.number() }, () => this.instruction());
    return { start, instructions, end, undecodable, jumpTable };
  }
}

/**
 * The functions `encodeFunctions` encoded; an instruction's text (for trap
 * messages and reports) comes from `textOf` when asked for.
 */
export function decodeFunctions(
  encoded: EncodedFunctions,
  textOf: (ip: number) => string,
): DiscoveredFunction[] {
  const r = new Reader(encoded, textOf);
  return Array.from({ length: r.number() }, () => {
    const entry = r.number();
    const name = r.string();
    const blocks = new Map<number, DiscoveredBlock>();
    for (let k = r.number(); k > 0; k--) {
      const b = r.block();
      blocks.set(b.start, b);
    }
    return { entry, name, blocks };
  });
}
