// Stage 2 for one static ELF: decode, discover, lift every function, add the
// dispatcher and the kernel imports, optimise, and emit one wasm module plus
// the coverage facts the report prints. The module imports its memory
// (env.memory) and four hypercalls: kernel.syscall, kernel.trap, kernel.rdtsc,
// kernel.x87.
import binaryen from "binaryen";
import { Mnemonic } from "iced-x86";
import { parseElf64 } from "../elf/index.js";
import { DEFAULT_OPTIMIZE, LIFTER_VERSION, METADATA_SECTION, type LiftMetadata } from "./abi.js";
import { MegaliftError } from "../errors.js";
import { CodeDecoder, type DecodedInstruction } from "./decode.js";
import { discover } from "./discover.js";
import { addTrapStub, unselectableFeature, type SkippedFunctions } from "./feature-skip.js";
import { DEPTH_GLOBAL } from "./emit/control-flow.js";
import { addDispatcher, type DispatchEntry } from "./emit/dispatcher.js";
import { TRAP_IMPORT } from "./emit/function-context.js";
import { functionName, liftFunction } from "./emit/lift-function.js";
import { i32, i64, LIFTED_FEATURES, Wasm } from "./emit/wasm.js";
import { createGuestImage, type GuestImage } from "./guest-image.js";
import { INITIAL_MEMORY_PAGES, MAXIMUM_MEMORY_PAGES } from "./guest-layout.js";
import { RDTSC_IMPORT, SYSCALL_IMPORT } from "./semantics/system.js";
import { addX87Import } from "./semantics/x87.js";

const LIGHT_PASSES = ["simplify-locals", "vacuum", "coalesce-locals"];

export interface LiftReport {
  readonly binary: string;
  readonly functions: number;
  readonly blocks: number;
  readonly instructions: number;
  /** Mnemonic → occurrences without semantics. */
  readonly unsupported: ReadonlyMap<string, number>;
  readonly undecodable: readonly number[];
  readonly unresolvedIndirectJumps: readonly number[];
  readonly jumpTables: number;
  /** Functions lifted as trap stubs, by the CPUID feature they need (feature-skip.ts). */
  readonly skipped?: ReadonlyMap<string, SkippedFunctions>;
  readonly liftMilliseconds: number;
  readonly outputBytes: number;
}

export interface LiftResult {
  readonly wasm: Uint8Array;
  readonly metadata: LiftMetadata;
  readonly report: LiftReport;
  readonly text?: string;
}

export interface LiftOptions {
  /** Optimisation level, see DEFAULT_OPTIMIZE. */
  readonly optimize?: number;
  /** Also return the module as wasm text (for debugging the lifter). */
  readonly text?: boolean;
}

/** parseElf64 with the file's name in the message (issue 4 "Bad input"). */
function parseNamed(name: string, bytes: Uint8Array): ReturnType<typeof parseElf64> {
  try {
    return parseElf64(bytes);
  } catch (err) {
    if (err instanceof MegaliftError)
      throw new MegaliftError(err.code, `${name}: ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * Function starts a stripped binary still records (ARCHITECTURE.md "Lifting"
 * 5): every .eh_frame FDE's initial location, DT_INIT/DT_FINI and the
 * (pre)init/fini arrays — so functions reached only through pointers (an
 * applet table, a callback) are lifted too. A table that does not parse adds
 * nothing: discovery still has the entry point, symbols and call targets.
 */
function discoveryRoots(image: GuestImage): number[] {
  const roots: number[] = [];
  const add = (address: bigint | undefined): void => {
    if (address !== undefined && address !== 0n) roots.push(Number(address) + image.base);
  };
  const tolerant = (read: () => void): void => {
    try {
      read();
    } catch (err) {
      if (!(err instanceof MegaliftError)) throw err;
    }
  };
  tolerant(() => {
    for (const fde of image.elf.ehFrame()?.fdes ?? []) add(fde.initialLocation);
  });
  tolerant(() => {
    const tables = image.elf.initFini();
    add(tables.init);
    add(tables.fini);
    for (const a of [...tables.preinitArray, ...tables.initArray, ...tables.finiArray]) add(a);
  });
  return roots;
}

/** Code addresses stored in data words (e.g. busybox's applet_main table), rebased. */
function pointerRoots(image: GuestImage): number[] {
  try {
    return image.elf
      .codePointers()
      .filter((p) => p.source === "data")
      .map((p) => Number(p.target) + image.base);
  } catch (err) {
    if (err instanceof MegaliftError) return [];
    throw err;
  }
}

export function liftElf(name: string, bytes: Uint8Array, options: LiftOptions = {}): LiftResult {
  const started = performance.now();
  const image = createGuestImage(name, parseNamed(name, bytes));
  const decoder = new CodeDecoder(image.codeRanges);
  try {
    const discovery = discover(image, decoder, discoveryRoots(image), pointerRoots(image));
    const module = new binaryen.Module();
    try {
      module.setFeatures(LIFTED_FEATURES);
      module.setMemory(
        INITIAL_MEMORY_PAGES,
        MAXIMUM_MEMORY_PAGES,
        null,
        [],
        false,
        false,
        "memory",
      );
      module.addMemoryImport("memory", "env", "memory");
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
      module.addGlobal(DEPTH_GLOBAL, i32, true, module.i32.const(0));

      const w = new Wasm(module);
      const traps: string[] = [];
      const unsupported = new Map<string, number>();
      const seenUnsupported = new Set<number>();
      const env = {
        w,
        traps: {
          register(pc: number, reason: string): number {
            traps.push(`${name}: 0x${pc.toString(16)}: ${reason}`);
            return traps.length - 1;
          },
        },
        functionName: (address: number) =>
          discovery.functions.has(address) ? functionName(address) : undefined,
        unsupported(ins: DecodedInstruction) {
          if (seenUnsupported.has(ins.ip)) return;
          seenUnsupported.add(ins.ip);
          const key = Mnemonic[ins.mnemonic].toLowerCase();
          unsupported.set(key, (unsupported.get(key) ?? 0) + 1);
        },
      };
      const dispatch: DispatchEntry[] = [];
      let blocks = 0;
      let instructions = 0;
      let jumpTables = 0;
      const skipped = new Map<string, SkippedFunctions>();
      for (const fn of discovery.functions.values()) {
        const feature = unselectableFeature(fn);
        if (feature !== undefined) {
          const reason = `function needs ${feature}, which the CPU model does not report`;
          addTrapStub(w, functionName(fn.entry), fn.entry, env.traps.register(fn.entry, reason));
          dispatch.push({ address: fn.entry, functionName: functionName(fn.entry), entryIndex: 0 });
          const tally = skipped.get(feature) ?? { functions: 0, instructions: 0 };
          tally.functions++;
          for (const b of fn.blocks.values()) tally.instructions += b.instructions.length;
          skipped.set(feature, tally);
          continue;
        }
        const lifted = liftFunction(fn, env);
        dispatch.push(...lifted.dispatch);
        blocks += fn.blocks.size;
        instructions += lifted.instructionCount;
        for (const b of fn.blocks.values()) if (b.jumpTable !== undefined) jumpTables++;
      }
      addDispatcher(w, dispatch);
      if (!module.validate()) throw new Error(`lifted module for ${name} does not validate`);
      const level = options.optimize ?? DEFAULT_OPTIMIZE;
      if (level === 1) {
        // Measured on a CRC32+sieve loop (musl, -O2): these three passes give the
        // run time of binaryen -O2 at half the lift time; V8's optimising tier
        // does the rest. They remove the dead flag records and fold temporaries.
        module.runPasses(LIGHT_PASSES);
      } else if (level > 1) {
        binaryen.setOptimizeLevel(level);
        binaryen.setShrinkLevel(0);
        module.optimize();
      }
      const metadata: LiftMetadata = {
        binary: name,
        lifterVersion: LIFTER_VERSION,
        base: image.base,
        entry: image.entry,
        traps,
      };
      module.addCustomSection(METADATA_SECTION, new TextEncoder().encode(JSON.stringify(metadata)));
      binaryen.setDebugInfo(options.text === true);
      const text = options.text ? module.emitText() : undefined;
      const wasm = module.emitBinary();
      const report: LiftReport = {
        binary: name,
        functions: discovery.functions.size,
        blocks,
        instructions,
        unsupported,
        undecodable: [...discovery.undecodable].sort((a, b) => a - b),
        unresolvedIndirectJumps: discovery.unresolvedIndirectJumps,
        jumpTables,
        skipped,
        liftMilliseconds: performance.now() - started,
        outputBytes: wasm.length,
      };
      return { wasm, metadata, report, text };
    } finally {
      module.dispose();
    }
  } finally {
    decoder.dispose();
  }
}
