// The code side of one process: an instance of the program's module bound
// to the process's memory, with the kernel imports (syscall, trap, rdtsc,
// x87) closed over that process. Instances are created synchronously: the
// module is compiled once per run and every process instantiates it.
import { BUDGET_EXPORT } from "../../lift/abi.js";
import { MegaliftError } from "../../errors.js";
import type { Kernel } from "../kernel.js";
import { handleSyscall } from "../syscalls/index.js";
import { executeX87 } from "../x87/interpreter.js";
import type { Program } from "./program.js";

export interface ProcessRuntime {
  readonly program: Program;
  /** Resumes the code at state.rip; returns a RESULT_* code. */
  readonly run: () => number;
  /** The CPU budget the code spends at loop back-edges. */
  readonly budget: { value: number };
  /** Set when the code reached a trap (an unsupported instruction). */
  trapped: boolean;
}

export function instantiate(k: Kernel, program: Program): ProcessRuntime {
  const memory = k.memory;
  const runtime: { trapped: boolean } = { trapped: false };
  const imports = {
    env: { memory },
    kernel: {
      syscall: (): number => handleSyscall(k),
      trap: (pc: bigint, id: number): void => {
        runtime.trapped = true;
        k.say(`trap: ${program.traps[id] ?? `${program.name}: 0x${pc.toString(16)}`}`);
      },
      rdtsc: (): bigint => process.hrtime.bigint(),
      x87: (id: number, address: number): number =>
        executeX87(new DataView(memory.buffer), id, address),
    },
  };
  const instance = new WebAssembly.Instance(program.module, imports);
  const run = instance.exports[program.exportOf("run")] as (() => number) | undefined;
  const budget = instance.exports[program.exportOf(BUDGET_EXPORT)] as { value: number } | undefined;
  if (run === undefined || budget === undefined) {
    throw new MegaliftError(
      "WASM_INVALID",
      `${program.name}: the module has no ${program.exportOf("run")} or ${program.exportOf(BUDGET_EXPORT)} export (lifted by another megalift version?)`,
    );
  }
  return Object.assign(runtime, { program, run, budget });
}
