// Runs a lifted static program as the first process of a run: memory, the
// ELF image and start-up stack, an instance of its module, then the
// scheduler (process/system.ts) until that process ends — the processes it
// forks and executes run beside it. Returns the exit status: the program's
// own, 128 + signal for a fatal signal (139 when the code jumps to an
// address that was not lifted, 132 for a trap).
import { posix } from "node:path";
import { INITIAL_MEMORY_PAGES, MAXIMUM_MEMORY_PAGES } from "../lift/guest-layout.js";
import { Kernel, type KernelOptions } from "./kernel.js";
import { loadImage, setupStack } from "./loader.js";
import {
  liftOnDemandSource,
  megabinaryProgram,
  singleProgram,
  type Program,
  type ProgramSource,
} from "./process/program.js";
import { instantiate } from "./process/runtime.js";
import { System } from "./process/system.js";

export { readLiftMetadata } from "./process/program.js";

export const EXIT_SIGSEGV = 139;
export const EXIT_SIGILL = 132;

/** A program inside a megabinary (src/merge/link.ts): its entry export and trap texts. */
export interface ProgramEntry {
  readonly hash: string;
  readonly export: string;
  /** The path it runs from, for messages. */
  readonly name: string;
  readonly traps: readonly string[];
}

export interface RunOptions extends KernelOptions {
  readonly module: WebAssembly.Module;
  /** The ELF file the module was lifted from (its segments are loaded). */
  readonly elfBytes: Uint8Array;
  /** The path the program runs from (default argv[0]). */
  readonly path?: string;
  /** Loop back-edges between two yields to this loop (DEFAULT_CPU_BUDGET). */
  readonly cpuBudget?: number;
  /** Which program of a megabinary to enter; absent for a single lifted module. */
  readonly entry?: ProgramEntry;
  /** The initial working directory (default /). */
  readonly cwd?: string;
  /** The program to start, when the caller has it already (a megabinary's ELF or polyfill). */
  readonly program?: Program;
  /** Where execve finds programs (default: lifted on demand through the lift cache). */
  readonly programs?: ProgramSource;
}

function firstProgram(options: RunOptions, path: string): Program {
  const file = { path, bytes: options.elfBytes };
  const entry = options.entry;
  if (entry === undefined) return singleProgram(options.module, file);
  const program = megabinaryProgram(
    options.module,
    { hash: entry.hash, export: entry.export, base: 0, entry: 0, traps: entry.traps },
    file,
  );
  return { ...program, name: entry.name };
}

export async function runLifted(options: RunOptions): Promise<number> {
  const path = options.path ?? options.entry?.name ?? options.argv[0] ?? "program";
  const program = options.program ?? firstProgram(options, path);
  const memory = new WebAssembly.Memory({
    initial: INITIAL_MEMORY_PAGES,
    maximum: MAXIMUM_MEMORY_PAGES,
  });
  const kernel = new Kernel(memory, options);
  if (options.cwd !== undefined) kernel.cwd = options.cwd;
  kernel.exePath = path;
  kernel.comm = posix.basename(path).slice(0, 15);
  const system = new System(options.programs ?? liftOnDemandSource({}), {
    ...(options.cpuBudget !== undefined ? { cpuBudget: options.cpuBudget } : {}),
    ...(options.limits !== undefined ? { limits: options.limits } : {}),
  });
  system.adopt(kernel);
  loadImage(kernel, program.image);
  setupStack(kernel, program.image, options.argv, options.env);
  kernel.runtime = instantiate(kernel, program);
  return system.run(kernel);
}
