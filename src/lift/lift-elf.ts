// Stage 2 for one static ELF: decode, discover, lift every function, add the
// dispatcher and the kernel imports, optimise, and emit one wasm module plus
// the coverage facts the report prints. The module imports its memory
// (env.memory) and five hypercalls: kernel.syscall, kernel.trap, kernel.rdtsc,
// kernel.x87 and kernel.sse (directed rounding, semantics/sse-directed.ts).
//
// At optimisation level 0 and 1 a lift is a list of shards (lift-shard.ts)
// assembled into one module (lift-shard-assemble.ts); liftElf is the
// in-process case of one shard, lift-pool.ts runs shards in worker threads,
// and both give the same bytes. Levels 2 and 3 run binaryen's global passes
// over the whole module, so they stay in one piece.
import binaryen from "binaryen";
import { DEFAULT_OPTIMIZE, LIFTER_VERSION, METADATA_SECTION, type LiftMetadata } from "./abi.js";
import { addDispatcher } from "./emit/dispatcher.js";
import { Wasm } from "./emit/wasm.js";
import type { SkippedFunctions } from "./feature-skip.js";
import { buildSkeleton, wasmText, type Skeleton } from "./lift-shard-assemble.js";
import { planLift, type LiftPlan } from "./lift-shard-discover.js";
import { shardFunctions } from "./lift-shard-plan.js";
import { spliceShards, withFunctionNames } from "./lift-shard-splice.js";
import { ShardLift, type ShardOutline } from "./lift-shard.js";

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

/** What the report and metadata need from the plan (every shard's worker has it). */
export interface PlanFacts {
  readonly base: number;
  readonly entry: number;
  readonly functions: number;
  readonly undecodable: readonly number[];
  readonly unresolvedIndirectJumps: readonly number[];
}

export function planFacts(plan: LiftPlan): PlanFacts {
  return {
    base: plan.image.base,
    entry: plan.image.entry,
    functions: plan.discovery.functions.size,
    undecodable: [...plan.discovery.undecodable].sort((a, b) => a - b),
    unresolvedIndirectJumps: plan.discovery.unresolvedIndirectJumps,
  };
}

function metadataOf(name: string, facts: PlanFacts, traps: readonly string[]): LiftMetadata {
  return {
    binary: name,
    lifterVersion: LIFTER_VERSION,
    base: facts.base,
    entry: facts.entry,
    traps,
  };
}

/** The report over all shards (an instruction two shards share counts once). */
function reportOf(
  name: string,
  facts: PlanFacts,
  shards: readonly ShardOutline[],
  started: number,
  outputBytes: number,
): LiftReport {
  const unsupported = new Map<string, number>();
  const seen = new Set<number>();
  const skipped = new Map<string, SkippedFunctions>();
  for (const shard of shards) {
    for (const [ip, mnemonic] of shard.unsupported) {
      if (seen.has(ip)) continue;
      seen.add(ip);
      unsupported.set(mnemonic, (unsupported.get(mnemonic) ?? 0) + 1);
    }
    for (const [feature, s] of shard.skipped) {
      const tally = skipped.get(feature) ?? { functions: 0, instructions: 0 };
      tally.functions += s.functions;
      tally.instructions += s.instructions;
      skipped.set(feature, tally);
    }
  }
  const sum = (f: (s: ShardOutline) => number): number => shards.reduce((n, s) => n + f(s), 0);
  return {
    binary: name,
    functions: facts.functions,
    blocks: sum((s) => s.blocks),
    instructions: sum((s) => s.instructions),
    unsupported,
    undecodable: facts.undecodable,
    unresolvedIndirectJumps: facts.unresolvedIndirectJumps,
    jumpTables: sum((s) => s.jumpTables),
    skipped,
    liftMilliseconds: performance.now() - started,
    outputBytes,
  };
}

/** Step 2 of a light lift: the final module's skeleton and each shard's trap offset. */
export interface LiftLayout {
  readonly skeleton: Skeleton;
  readonly metadata: LiftMetadata;
  readonly trapOffsets: readonly number[];
}

export function layoutLift(
  name: string,
  facts: PlanFacts,
  outlines: readonly ShardOutline[],
  optimize: number,
): LiftLayout {
  const trapOffsets: number[] = [];
  let traps = 0;
  for (const o of outlines) {
    trapOffsets.push(traps);
    traps += o.traps.length;
  }
  const metadata = metadataOf(
    name,
    facts,
    outlines.flatMap((o) => o.traps),
  );
  return { skeleton: buildSkeleton(outlines, metadata, optimize), metadata, trapOffsets };
}

/** Step 4: the shards' code (`shards[i]` from outline i) spliced into the skeleton. */
export function finishLift(
  name: string,
  facts: PlanFacts,
  outlines: readonly ShardOutline[],
  layout: LiftLayout,
  shards: readonly Uint8Array[],
  options: LiftOptions & { readonly started: number },
): LiftResult {
  const wasm = spliceShards(layout.skeleton.wasm, shards, layout.skeleton.layout.functions);
  const report = reportOf(name, facts, outlines, options.started, wasm.length);
  return {
    wasm,
    metadata: layout.metadata,
    report,
    ...(options.text === true
      ? { text: wasmText(withFunctionNames(wasm, layout.skeleton.layout.functions)) }
      : {}),
  };
}

/** Step 1 for shard `index` of `count` of a planned ELF: its functions, lifted. */
function startShard(name: string, plan: LiftPlan, index: number, count: number): ShardLift {
  const functions = shardFunctions(plan.functions, index, count);
  return new ShardLift(name, index, functions, plan.touched, plan.stubs, plan.inlinable);
}

export function liftElf(name: string, bytes: Uint8Array, options: LiftOptions = {}): LiftResult {
  return liftElfInShards(name, bytes, 1, options);
}

/**
 * liftElf in `count` shards, one after another in this thread: what the
 * lift pool does across threads, and the same bytes for any `count`.
 */
export function liftElfInShards(
  name: string,
  bytes: Uint8Array,
  count: number,
  options: LiftOptions = {},
): LiftResult {
  const started = performance.now();
  const level = options.optimize ?? DEFAULT_OPTIMIZE;
  const plan = planLift(name, bytes);
  const shards: ShardLift[] = [];
  try {
    if (level > 1) {
      shards.push(startShard(name, plan, 0, 1));
      return liftWhole(name, planFacts(plan), shards[0] as ShardLift, level, options, started);
    }
    for (let index = 0; index < count; index++) shards.push(startShard(name, plan, index, count));
    const facts = planFacts(plan);
    const outlines = shards.map((s) => s.outline());
    const layout = layoutLift(name, facts, outlines, level);
    const code = shards.map((s, i) =>
      s.emitInLayout(layout.skeleton.layout, layout.trapOffsets[i] as number, level),
    );
    return finishLift(name, facts, outlines, layout, code, { ...options, started });
  } finally {
    for (const s of shards) s.dispose();
    plan.dispose();
  }
}

/** -O2/-O3: binaryen's global passes over the one module (no shards, no splice). */
function liftWhole(
  name: string,
  facts: PlanFacts,
  shard: ShardLift,
  level: number,
  options: LiftOptions,
  started: number,
): LiftResult {
  const module = shard.wholeModule();
  addDispatcher(new Wasm(module), shard.dispatch);
  if (!module.validate()) throw new Error(`lifted module for ${name} does not validate`);
  binaryen.setOptimizeLevel(level);
  binaryen.setShrinkLevel(0);
  module.optimize();
  const metadata = metadataOf(name, facts, shard.traps);
  module.addCustomSection(METADATA_SECTION, new TextEncoder().encode(JSON.stringify(metadata)));
  binaryen.setDebugInfo(options.text === true);
  const text = options.text === true ? module.emitText() : undefined;
  const wasm = module.emitBinary();
  const report = reportOf(name, facts, [shard.outline()], started, wasm.length);
  return { wasm, metadata, report, ...(text !== undefined ? { text } : {}) };
}
