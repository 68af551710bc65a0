// Runs one lifted static program as a single process: memory, kernel
// imports (syscall, trap, rdtsc, x87), the ELF image and start-up stack, then the
// module's dispatcher loop. Returns the exit status: the program's own, 128 +
// signal for a fatal signal, 139 (SIGSEGV) when the code jumps to an address
// that was not lifted, 132 (SIGILL) for a trap.
import { parseElf64 } from "../elf/index.js";
import {
  DEFAULT_CPU_BUDGET,
  METADATA_SECTION,
  RESULT_HALT,
  RESULT_NO_CODE,
  RESULT_YIELD,
  type LiftMetadata,
} from "../lift/abi.js";
import { BUDGET_EXPORT } from "../lift/emit/budget.js";
import { createGuestImage } from "../lift/guest-image.js";
import { INITIAL_MEMORY_PAGES, MAXIMUM_MEMORY_PAGES, STATE_RIP } from "../lift/guest-layout.js";
import { MegaliftError } from "../errors.js";
import { programSymbol } from "../merge/link.js";
import { Kernel, type KernelOptions } from "./kernel.js";
import { loadImage, setupStack } from "./loader.js";
import { handleSyscall } from "./syscalls/index.js";
import { executeX87 } from "./x87/interpreter.js";

export const EXIT_SIGSEGV = 139;
export const EXIT_SIGILL = 132;

export function readLiftMetadata(module: WebAssembly.Module): LiftMetadata {
  const [section] = WebAssembly.Module.customSections(module, METADATA_SECTION);
  if (section === undefined) throw new Error(`lifted module has no ${METADATA_SECTION} section`);
  return JSON.parse(new TextDecoder().decode(section)) as LiftMetadata;
}

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
  /** Loop back-edges between two yields to this loop (DEFAULT_CPU_BUDGET). */
  readonly cpuBudget?: number;
  /** Which program of a megabinary to enter; absent for a single lifted module. */
  readonly entry?: ProgramEntry;
  /** The initial working directory (default /). */
  readonly cwd?: string;
}

/** The metadata of the program to run: a lifted module's own, or a megabinary program's. */
function programMetadata(
  options: RunOptions,
): LiftMetadata & { exportOf: (name: string) => string } {
  const entry = options.entry;
  if (entry === undefined) {
    return { ...readLiftMetadata(options.module), exportOf: (name) => name };
  }
  return {
    binary: entry.name,
    lifterVersion: "",
    base: 0,
    entry: 0,
    traps: entry.traps.map((t) => `${entry.name}: ${t}`),
    exportOf: (name) => programSymbol(entry.hash, name),
  };
}

export async function runLifted(options: RunOptions): Promise<number> {
  const metadata = programMetadata(options);
  const memory = new WebAssembly.Memory({
    initial: INITIAL_MEMORY_PAGES,
    maximum: MAXIMUM_MEMORY_PAGES,
  });
  const kernel = new Kernel(memory, options);
  if (options.cwd !== undefined) kernel.cwd = options.cwd;
  const say = (message: string): void => {
    const bytes = new TextEncoder().encode(`megalift: ${message}\n`);
    if (options.stderr) options.stderr(bytes);
    else process.stderr.write(bytes);
  };
  let trapped = false;
  const imports = {
    env: { memory },
    kernel: {
      syscall: (): number => (handleSyscall(kernel) ? RESULT_HALT : 0),
      trap: (pc: bigint, id: number): void => {
        trapped = true;
        say(`trap: ${metadata.traps[id] ?? `${metadata.binary}: 0x${pc.toString(16)}`}`);
      },
      rdtsc: (): bigint => process.hrtime.bigint(),
      x87: (id: number, address: number): number =>
        executeX87(new DataView(memory.buffer), id, address),
    },
  };
  const instance = await WebAssembly.instantiate(options.module, imports);
  const image = createGuestImage(metadata.binary, parseElf64(options.elfBytes));
  loadImage(kernel, image);
  setupStack(kernel, image, options.argv, options.env);
  const run = instance.exports[metadata.exportOf("run")] as (() => number) | undefined;
  const budget = instance.exports[metadata.exportOf(BUDGET_EXPORT)] as
    { value: number } | undefined;
  if (run === undefined || budget === undefined) {
    throw new MegaliftError(
      "WASM_INVALID",
      `${metadata.binary}: the module has no ${metadata.exportOf("run")} or ${metadata.exportOf(BUDGET_EXPORT)} export (lifted by another megalift version?)`,
    );
  }
  try {
    // A yield (the CPU budget ran out at a loop back-edge) unwinds every wasm
    // frame; calling run() again re-enters at state.rip, and V8 then runs the
    // optimised code of a function that tiered up meanwhile (no wasm OSR).
    // A scheduler of several processes would switch here.
    let result: number;
    do {
      budget.value = options.cpuBudget ?? DEFAULT_CPU_BUDGET;
      result = run();
    } while (result === RESULT_YIELD);
    if (kernel.exitStatus !== undefined) return kernel.exitStatus;
    if (trapped) return EXIT_SIGILL;
    if (result === RESULT_NO_CODE) {
      const pc = new DataView(memory.buffer).getBigUint64(STATE_RIP, true);
      say(`${metadata.binary}: jump to 0x${pc.toString(16)}, which was not lifted (SIGSEGV)`);
      return EXIT_SIGSEGV;
    }
    say(`${metadata.binary}: stopped with result ${result}`);
    return EXIT_SIGSEGV;
  } catch (err) {
    // A wasm trap in lifted code: an out-of-bounds access or integer divide error.
    const pc = new DataView(memory.buffer).getBigUint64(STATE_RIP, true);
    if (options.debug && err instanceof Error) say(err.stack ?? "");
    say(
      `${metadata.binary}: ${err instanceof Error ? err.message : String(err)} (last dispatch at 0x${pc.toString(16)})`,
    );
    return err instanceof RangeError ? EXIT_SIGSEGV : EXIT_SIGSEGV;
  } finally {
    kernel.closeAll();
  }
}
