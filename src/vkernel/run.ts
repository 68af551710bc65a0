// Runs one lifted static program as a single process: memory, kernel
// imports (syscall, trap, rdtsc), the ELF image and start-up stack, then the
// module's dispatcher loop. Returns the exit status: the program's own, 128 +
// signal for a fatal signal, 139 (SIGSEGV) when the code jumps to an address
// that was not lifted, 132 (SIGILL) for a trap.
import { parseElf64 } from "../elf/index.js";
import { METADATA_SECTION, RESULT_HALT, RESULT_NO_CODE, type LiftMetadata } from "../lift/abi.js";
import { createGuestImage } from "../lift/guest-image.js";
import { INITIAL_MEMORY_PAGES, MAXIMUM_MEMORY_PAGES, STATE_RIP } from "../lift/guest-layout.js";
import { Kernel, type KernelOptions } from "./kernel.js";
import { loadImage, setupStack } from "./loader.js";
import { handleSyscall } from "./syscalls/index.js";

export const EXIT_SIGSEGV = 139;
export const EXIT_SIGILL = 132;

export function readLiftMetadata(module: WebAssembly.Module): LiftMetadata {
  const [section] = WebAssembly.Module.customSections(module, METADATA_SECTION);
  if (section === undefined) throw new Error(`lifted module has no ${METADATA_SECTION} section`);
  return JSON.parse(new TextDecoder().decode(section)) as LiftMetadata;
}

export interface RunOptions extends KernelOptions {
  readonly module: WebAssembly.Module;
  /** The ELF file the module was lifted from (its segments are loaded). */
  readonly elfBytes: Uint8Array;
}

export async function runLifted(options: RunOptions): Promise<number> {
  const metadata = readLiftMetadata(options.module);
  const memory = new WebAssembly.Memory({
    initial: INITIAL_MEMORY_PAGES,
    maximum: MAXIMUM_MEMORY_PAGES,
  });
  const kernel = new Kernel(memory, options);
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
    },
  };
  const instance = await WebAssembly.instantiate(options.module, imports);
  const image = createGuestImage(metadata.binary, parseElf64(options.elfBytes));
  loadImage(kernel, image);
  setupStack(kernel, image, options.argv, options.env);
  const run = instance.exports.run as () => number;
  try {
    const result = run();
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
