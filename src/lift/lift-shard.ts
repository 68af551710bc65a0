// One shard of a lift (issue 4 item 7): the functions of one consecutive run
// of the address-ordered list, lifted into a binaryen module of their own.
// Lifting goes in two steps, with the final module's skeleton built in
// between (lift-shard-assemble.ts): `outline` says what the shard defines;
// `emitInLayout` rearranges the module in place into the skeleton's index
// space — its own functions with their code, every other one as a stub —
// and emits it once, so that its code entries can be spliced into the final
// module unchanged. The unsharded lift is the same code with one shard: the
// output does not depend on the number of shards.
//
// Trap ids (kernel.trap's second operand) index the trap messages of the
// whole ELF, so a shard needs to know how many traps the shards before it
// registered. While lifting, a shard numbers its traps with sentinel
// constants, records those constant expressions, and patches them once the
// offset is known — before the passes run, so the passes see the same code
// as in an unsharded lift.
import binaryen from "binaryen";
import { Mnemonic } from "iced-x86";
import type { DecodedInstruction } from "./decode.js";
import type { DiscoveredFunction } from "./discover.js";
import { addTrapStub, unselectableFeature, type SkippedFunctions } from "./feature-skip.js";
import type { StubCall } from "./ifunc-stubs.js";
import type { Inlinable } from "./inline-calls.js";
import { DEPTH_GLOBAL } from "./emit/control-flow.js";
import type { DispatchEntry } from "./emit/dispatcher.js";
import { TRAP_IMPORT } from "./emit/function-context.js";
import { TOUCH_ALL, type Touched } from "./call-summaries.js";
import { functionName, liftFunction } from "./emit/lift-function.js";
import { i32, i64, LIFTED_FEATURES, Wasm, type Expr } from "./emit/wasm.js";
import { INITIAL_MEMORY_PAGES, MAXIMUM_MEMORY_PAGES } from "./guest-layout.js";
import {
  arrangeInLayout,
  functionSlots,
  globalSlots,
  type FunctionSlot,
  type GlobalSlot,
  type ShardLayout,
} from "./lift-shard-layout.js";
import { RDTSC_IMPORT, SYSCALL_IMPORT } from "./semantics/system.js";
import { addSseImport } from "./semantics/sse-directed-wasm.js";
import { addX87Import } from "./semantics/x87.js";

/**
 * Function-local passes (so they give the same code whatever the split).
 * No simplify-locals: it was 40 % of a busybox lift's CPU time (lift 66 s →
 * 40 s wall with -j 2 without it, module 15.5 → 17.7 MB), and lifted busybox
 * and cpu-bench ran no slower without it (V8's TurboFan does that work again).
 */
export const LIGHT_PASSES = ["vacuum", "coalesce-locals"];

/**
 * First sentinel trap id. Trap ids are small; a constant in this range that
 * is not a registered trap is caught (a duplicate sentinel throws).
 */
const TRAP_SENTINEL = 0x5eb70000;

/** What a lifted shard tells the assembler (structured-clonable). */
export interface ShardOutline {
  readonly index: number;
  readonly traps: readonly string[];
  readonly dispatch: readonly DispatchEntry[];
  readonly blocks: number;
  readonly instructions: number;
  readonly jumpTables: number;
  /** Unsupported instructions by address (shards may share an instruction). */
  readonly unsupported: readonly (readonly [number, string])[];
  readonly skipped: readonly (readonly [string, SkippedFunctions])[];
  /** The shard module's imports and functions, and its globals, in order. */
  readonly functions: readonly FunctionSlot[];
  readonly globals: readonly GlobalSlot[];
}

/** Features and the imported memory. */
function setUpMemory(module: binaryen.Module): void {
  module.setFeatures(LIFTED_FEATURES);
  module.setMemory(INITIAL_MEMORY_PAGES, MAXIMUM_MEMORY_PAGES, null, [], false, false, "memory");
  module.addMemoryImport("memory", "env", "memory");
}

/** Memory, kernel imports and the call-depth global, before any lifted code. */
export function setUpModule(module: binaryen.Module): void {
  setUpMemory(module);
  module.addFunctionImport(SYSCALL_IMPORT, "kernel", "syscall", binaryen.none, i32);
  module.addFunctionImport(
    TRAP_IMPORT,
    "kernel",
    "trap",
    binaryen.createType([i64, i32]),
    binaryen.none,
  );
  module.addFunctionImport(RDTSC_IMPORT, "kernel", "rdtsc", binaryen.none, i64);
  addX87Import(module);
  addSseImport(module);
  module.addGlobal(DEPTH_GLOBAL, i32, true, module.i32.const(0));
}

/** binaryen.js has Const.setValueI32; its .d.ts (132) does not declare it. */
const Const = (binaryen as unknown as { Const: { setValueI32(e: Expr, value: number): void } })
  .Const;

/** A Wasm whose c32 notices the sentinel trap ids, so they can be patched. */
class TrapRecordingWasm extends Wasm {
  readonly trapConstants: Expr[] = [];
  registered = 0;

  override c32(value: number): Expr {
    const e = super.c32(value);
    const k = (value | 0) - TRAP_SENTINEL;
    if (k >= 0 && k < this.registered) {
      if (this.trapConstants[k] !== undefined)
        throw new Error(`trap id constant ${k} emitted twice (or a constant collides with it)`);
      this.trapConstants[k] = e;
    }
    return e;
  }
}

export class ShardLift {
  readonly module: binaryen.Module;
  readonly traps: string[] = [];
  readonly dispatch: DispatchEntry[] = [];
  blocks = 0;
  instructions = 0;
  jumpTables = 0;
  readonly index: number;
  private readonly w: TrapRecordingWasm;
  private readonly unsupported = new Map<number, string>();
  private readonly skipped = new Map<string, SkippedFunctions>();
  private emitted = false;

  /**
   * Lifts shard `index`'s `functions` (in order) into a new module;
   * `callees` holds every function entry of the ELF (calls to them are
   * direct) with the registers a call to it can touch (call-summaries.ts).
   */
  constructor(
    name: string,
    index: number,
    functions: readonly DiscoveredFunction[],
    callees: ReadonlyMap<number, Touched>,
    stubs: ReadonlyMap<number, StubCall> = new Map(),
    inlinable: ReadonlyMap<number, Inlinable> = new Map(),
  ) {
    this.index = index;
    this.module = new binaryen.Module();
    try {
      setUpModule(this.module);
      this.w = new TrapRecordingWasm(this.module);
      this.liftAll(name, functions, callees, stubs, inlinable);
    } catch (err) {
      this.module.dispose();
      throw err;
    }
  }

  private liftAll(
    name: string,
    functions: readonly DiscoveredFunction[],
    known: ReadonlyMap<number, Touched>,
    stubs: ReadonlyMap<number, StubCall>,
    inlinable: ReadonlyMap<number, Inlinable>,
  ): void {
    const w = this.w;
    const env = {
      w,
      traps: {
        register: (pc: number, reason: string): number => {
          this.traps.push(`${name}: 0x${pc.toString(16)}: ${reason}`);
          w.registered = this.traps.length;
          return TRAP_SENTINEL + this.traps.length - 1;
        },
      },
      functionName: (address: number): string | undefined => {
        if (!known.has(address)) return undefined;
        return functionName(address);
      },
      touched: (address: number): Touched => known.get(address) ?? TOUCH_ALL,
      stubCall: (address: number): StubCall | undefined => stubs.get(address),
      inlinable: (address: number): Inlinable | undefined => inlinable.get(address),
      unsupported: (ins: DecodedInstruction): void => {
        if (!this.unsupported.has(ins.ip))
          this.unsupported.set(ins.ip, Mnemonic[ins.mnemonic].toLowerCase());
      },
    };
    for (const fn of functions) {
      const entryName = functionName(fn.entry);
      const feature = unselectableFeature(fn);
      if (feature !== undefined) {
        const reason = `function needs ${feature}, which the CPU model does not report`;
        addTrapStub(w, entryName, fn.entry, env.traps.register(fn.entry, reason));
        this.dispatch.push({ address: fn.entry, functionName: entryName, entryIndex: 0 });
        const tally = this.skipped.get(feature) ?? { functions: 0, instructions: 0 };
        tally.functions++;
        for (const b of fn.blocks.values()) tally.instructions += b.instructions.length;
        this.skipped.set(feature, tally);
        continue;
      }
      const lifted = liftFunction(fn, env);
      this.dispatch.push(...lifted.dispatch);
      this.blocks += fn.blocks.size;
      this.instructions += lifted.instructionCount;
      for (const b of fn.blocks.values()) if (b.jumpTable !== undefined) this.jumpTables++;
    }
  }

  /** Gives the traps their ids in the whole ELF: `offset` = traps of the shards before. */
  private patchTraps(offset: number): void {
    const missing = this.traps.findIndex((_, k) => this.w.trapConstants[k] === undefined);
    if (missing >= 0) throw new Error(`trap ${missing} registered but its id never emitted`);
    this.w.trapConstants.forEach((e, k) => Const.setValueI32(e, offset + k));
  }

  outline(): ShardOutline {
    return {
      index: this.index,
      traps: this.traps,
      dispatch: this.dispatch,
      blocks: this.blocks,
      instructions: this.instructions,
      jumpTables: this.jumpTables,
      unsupported: [...this.unsupported],
      skipped: [...this.skipped],
      functions: functionSlots(this.module, this.index),
      globals: globalSlots(this.module),
    };
  }

  /**
   * The shard's code in the final module's index space: this module,
   * rearranged into the layout (lift-shard-layout.ts arrangeInLayout) —
   * validated, passed (light passes at `optimize` 1) and emitted. Once only:
   * the rearranged module stands in for the other shards' code with stubs.
   */
  emitInLayout(layout: ShardLayout, trapOffset: number, optimize: number): Uint8Array {
    if (this.emitted) throw new Error(`shard ${this.index} was emitted already`);
    this.emitted = true;
    this.patchTraps(trapOffset);
    arrangeInLayout(this.module, layout, this.index);
    if (!this.module.validate()) throw new Error(`lifted shard ${this.index} does not validate`);
    if (optimize >= 1) this.module.runPasses(LIGHT_PASSES);
    binaryen.setDebugInfo(false);
    return this.module.emitBinary();
  }

  /** The unsharded module as lifted, with its traps numbered (the -O2/-O3 path). */
  wholeModule(): binaryen.Module {
    this.patchTraps(0);
    return this.module;
  }

  dispose(): void {
    this.module.dispose();
  }
}
