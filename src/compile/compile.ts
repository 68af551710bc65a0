// Stage 4, compile: validate the linked megabinary, optionally run binaryen's
// optimiser over the whole module (each ELF was already optimised when it was
// lifted; a whole-module pass costs time in proportion to its size), and
// measure what the engine's compile costs. Node 20 cannot serialise compiled
// wasm code (v8.serialize of a WebAssembly.Module throws), so there is no
// compiled-code cache to keep: the runtime compiles the megabinary once per
// start, lazily (V8 compiles functions on first call), and every process
// instantiates that one module.
import { MegaliftError } from "../errors.js";

export interface CompileOptions {
  /** 0: none (default: functions were optimised at lift time); 1–4: binaryen -O1…-O4. */
  readonly optimize?: number;
}

export interface CompileResult {
  readonly megabinary: Uint8Array;
  /** Time to optimise (0 when not asked). */
  readonly optimizeMilliseconds: number;
  /** WebAssembly.compile of the result on this machine: what a runtime start pays. */
  readonly engineCompileMilliseconds: number;
}

export async function compileMegabinary(
  linked: Uint8Array,
  options: CompileOptions = {},
): Promise<CompileResult> {
  let megabinary = linked;
  let optimizeMilliseconds = 0;
  const level = options.optimize ?? 0;
  if (level > 0) {
    const started = performance.now();
    const { default: binaryen } = await import("binaryen");
    const { LIFTED_FEATURES } = await import("../lift/emit/wasm.js");
    const module = binaryen.readBinary(linked);
    try {
      module.setFeatures(LIFTED_FEATURES);
      binaryen.setOptimizeLevel(Math.min(level, 4));
      binaryen.setShrinkLevel(0);
      binaryen.setDebugInfo(false);
      module.optimize();
      if (!module.validate()) {
        throw new MegaliftError("WASM_INVALID", "the optimised megabinary does not validate");
      }
      megabinary = module.emitBinary();
    } finally {
      module.dispose();
    }
    optimizeMilliseconds = performance.now() - started;
  }
  const started = performance.now();
  try {
    await WebAssembly.compile(megabinary);
  } catch (err) {
    throw new MegaliftError("WASM_INVALID", `the megabinary does not compile: ${String(err)}`, {
      cause: err,
    });
  }
  return {
    megabinary,
    optimizeMilliseconds,
    engineCompileMilliseconds: performance.now() - started,
  };
}
