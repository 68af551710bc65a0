// The code side of one process: an instance of the program's module bound
// to the process's memory, with the kernel imports (syscall, trap, rdtsc,
// x87, sse). An instance outlives the process it serves (ARCHITECTURE.md
// "vkernel": instances are pooled, pool.ts): its imports act on whichever
// kernel the slot is bound to now, so execve into a program of the same
// module and a process taken from the pool need no new instance. The module
// is compiled once per run; instances are created synchronously.
import { BUDGET_EXPORT } from "../../lift/abi.js";
import { STACK_BOTTOM, STACK_TOP, STATE_END, stateGpr } from "../../lift/guest-layout.js";
import { MegaliftError } from "../../errors.js";
import type { Kernel } from "../kernel.js";
import { handleSyscall } from "../syscalls/index.js";
import { executeSse } from "../sse-directed.js";
import { executeX87 } from "../x87/interpreter.js";
import type { Program } from "./program.js";

const RSP = 4;

/** One instance of a module and the memory it imports, serving one process at a time. */
export interface InstanceSlot {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly instance: WebAssembly.Instance;
  /** The runtime using the slot now (its imports act on runtime.kernel). */
  current: ProcessRuntime | undefined;
  /**
   * The lowest stack address the code has been seen at (RSP at syscalls):
   * what the pool zeroes when the slot changes hands starts here.
   */
  stackLow: number;
  /** Each program's entry and budget export, looked up once per instance. */
  readonly entries: Map<Program, ProgramExports>;
}

interface ProgramExports {
  readonly run: () => number;
  readonly budget: { value: number };
}

export interface ProcessRuntime {
  readonly program: Program;
  readonly kernel: Kernel;
  readonly slot: InstanceSlot;
  /** Resumes the code at state.rip; returns a RESULT_* code. */
  readonly run: () => number;
  /** The CPU budget the code spends at loop back-edges. */
  readonly budget: { value: number };
  /** Set when the code reached a trap (an unsupported instruction). */
  trapped: boolean;
}

/** RSP of the slot's process, as an address (0 outside the main stack). */
function stackPointer(words: Uint32Array): number {
  // The main stack lies below 4 GiB: the high half is 0 and the low half is the address.
  const rsp = words[stateGpr(RSP) >>> 2] ?? 0;
  const high = words[(stateGpr(RSP) >>> 2) + 1] ?? 0;
  return high === 0 && rsp > STACK_BOTTOM && rsp <= STACK_TOP ? rsp : 0;
}

/** A view of the state block's words, renewed when memory.grow replaced the buffer. */
function stateWords(memory: WebAssembly.Memory): () => Uint32Array {
  let words = new Uint32Array(memory.buffer, 0, STATE_END >>> 2);
  return () => {
    if (words.buffer !== memory.buffer) words = new Uint32Array(memory.buffer, 0, STATE_END >>> 2);
    return words;
  };
}

/** A view of the whole memory, renewed when memory.grow replaced the buffer. */
function memoryView(memory: WebAssembly.Memory): () => DataView {
  let view = new DataView(memory.buffer);
  return () => {
    if (view.buffer !== memory.buffer) view = new DataView(memory.buffer);
    return view;
  };
}

function boundKernel(slot: InstanceSlot): Kernel {
  const runtime = slot.current;
  if (runtime === undefined) throw new Error("a pooled instance ran without a process");
  return runtime.kernel;
}

/** A new instance of `module` over `memory`, bound to no process yet. */
export function createSlot(module: WebAssembly.Module, memory: WebAssembly.Memory): InstanceSlot {
  // The imports reach the process through `slot`, which exists once the instance does.
  const words = stateWords(memory);
  // x87 and directed SSE operations come here one at a time: no DataView each.
  const view = memoryView(memory);
  const imports = {
    env: { memory },
    kernel: {
      syscall: (): number => {
        const rsp = stackPointer(words());
        if (rsp !== 0 && rsp < slot.stackLow) slot.stackLow = rsp;
        return handleSyscall(boundKernel(slot));
      },
      trap: (pc: bigint, id: number): void => {
        const runtime = slot.current;
        if (runtime === undefined) return;
        runtime.trapped = true;
        const program = runtime.program;
        runtime.kernel.say(`trap: ${program.traps[id] ?? `${program.name}: 0x${pc.toString(16)}`}`);
      },
      rdtsc: (): bigint => process.hrtime.bigint(),
      x87: (id: number, address: number): number => executeX87(view(), id, address),
      sse: (id: number, a: bigint, b: bigint): bigint => executeSse(view(), id, a, b),
    },
  };
  const slot: InstanceSlot = {
    module,
    memory,
    instance: new WebAssembly.Instance(module, imports),
    current: undefined,
    stackLow: STACK_TOP,
    entries: new Map(),
  };
  return slot;
}

function programExports(slot: InstanceSlot, program: Program): ProgramExports {
  const known = slot.entries.get(program);
  if (known !== undefined) return known;
  const exports = slot.instance.exports;
  const run = exports[program.exportOf("run")] as (() => number) | undefined;
  const budget = exports[program.exportOf(BUDGET_EXPORT)] as { value: number } | undefined;
  if (run === undefined || budget === undefined) {
    throw new MegaliftError(
      "WASM_INVALID",
      `${program.name}: the module has no ${program.exportOf("run")} or ${program.exportOf(BUDGET_EXPORT)} export (lifted by another megalift version?)`,
    );
  }
  const entry = { run, budget };
  slot.entries.set(program, entry);
  return entry;
}

/**
 * Makes `slot` run `program` for kernel `k` (whose memory must be the
 * slot's): the runtime the scheduler calls. The previous binding, if any,
 * no longer reaches the kernel imports.
 */
export function bindSlot(slot: InstanceSlot, k: Kernel, program: Program): ProcessRuntime {
  if (k.memory !== slot.memory) throw new Error("bindSlot: the kernel has another memory");
  if (program.module !== slot.module) throw new Error("bindSlot: the program has another module");
  const { run, budget } = programExports(slot, program);
  const runtime: ProcessRuntime = { program, kernel: k, slot, run, budget, trapped: false };
  slot.current = runtime;
  const rsp = stackPointer(new Uint32Array(slot.memory.buffer, 0, STATE_END >>> 2));
  if (rsp !== 0 && rsp < slot.stackLow) slot.stackLow = rsp;
  return runtime;
}

/** A new instance for `k`'s own memory (the first process of a run). */
export function instantiate(k: Kernel, program: Program): ProcessRuntime {
  return bindSlot(createSlot(program.module, k.memory), k, program);
}
