// One guest function → wasm functions (ARCHITECTURE.md "Lifting" 1), each
// with the signature (expectedReturn: i64, entry: i32) → i32 result code and
// blocks structured by binaryen's Relooper. The function itself is entered
// at `entry` 0 (its start) or k, an address it can be resumed at from the
// dispatcher: a call or syscall continuation outside loops, an outermost
// loop header, the exit of a variant. Each inner loop header gets a variant
// function entered there, and the continuations inside one outermost loop
// share a resume variant (loops.ts says why). Registers are loaded into
// locals on entry — only those live there — and spilled only at calls,
// syscalls and exits — only those written since the last load
// (dirty-registers.ts); loop back-edges spend the CPU budget (budget.ts).
import binaryen from "binaryen";
import { Mnemonic } from "iced-x86";
import type { DiscoveredBlock, DiscoveredFunction } from "../discover.js";
import { flagsLiveAtStart, flagsLiveOut } from "../flags-liveness.js";
import { budgetCheck, budgetPrologue, regionExit, reloadFlags } from "./budget.js";
import type { DispatchEntry } from "./dispatcher.js";
import { FunctionContext, liftedParams, PARAM_ENTRY } from "./function-context.js";
import {
  forwardToFast,
  forwardToTwin,
  leaveInNonDefaultMode,
  roundingFlavors,
  type RoundingFlavor,
} from "./rounding-twins.js";
import {
  intraSuccessors,
  isCall,
  liftBlock,
  reloadedBy,
  type BlockEnd,
  type LiftEnvironment,
} from "./lift-block.js";
import { backEdges, planLoops, type Successors } from "./loops.js";
import { dirtyAfter, dirtyAtEntry, EVERY_REGISTER, type RegisterMask } from "./dirty-registers.js";
import { liveOut, registersLiveIn, type BlockRegisterUse } from "./register-liveness.js";
import { pruneReload, type ReloadPoint } from "./reload-points.js";
import { i32, type Expr } from "./wasm.js";
import { FLUSH_MODE, X87_STATUS_READERS } from "../semantics/sse-directed.js";
import { inlineEntries, realAddress, withInlinedCalls } from "../inline-calls.js";

export type { LiftEnvironment } from "./lift-block.js";

export interface LiftedFunction {
  readonly name: string;
  /** Where the dispatcher can enter: the function's entries and its loop variants. */
  readonly dispatch: readonly DispatchEntry[];
  readonly instructionCount: number;
}

export function functionName(address: number): string {
  return `f_${address.toString(16)}`;
}

/** The wasm function entered at inner loop `header` of the guest function at `entry`. */
export function loopVariantName(entry: number, header: number): string {
  return `${functionName(entry)}_loop_${header.toString(16)}`;
}

/** The wasm function entered where calls inside the loop around `first` continue (loops.ts). */
function resumeVariantName(entry: number, first: number): string {
  return `${functionName(entry)}_resume_${first.toString(16)}`;
}

/** What every wasm function of one guest function shares. */
interface FunctionAnalysis {
  readonly fn: DiscoveredFunction;
  readonly env: LiftEnvironment;
  readonly successors: Successors;
  readonly liveOut: ReadonlyMap<number, number>;
  readonly liveIn: ReadonlyMap<number, number>;
  /** Whether a yield can continue at this address (the dispatcher finds code there). */
  readonly resumable: (address: number) => boolean;
  /** Blocks that end in a call or syscall whose continuation is in the function. */
  readonly callBlocks: ReadonlySet<number>;
  /** Whether the function reads the x87 exception state (FunctionContext.fenvFunction). */
  readonly fenvFunction: boolean;
}

export function liftFunction(original: DiscoveredFunction, env: LiftEnvironment): LiftedFunction {
  // Calls to small functions become copies of them (inline-calls.ts).
  const inlined = withInlinedCalls(original, (a) => env.inlinable?.(a));
  const fn = inlined.fn;
  const successors = new Map<number, number[]>();
  for (const b of fn.blocks.values()) successors.set(b.start, intraSuccessors(b, fn, env));
  const liveOut = flagsLiveOut(fn, successors);
  const liveIn = flagsLiveIn(fn, liveOut);
  const headers = new Set<number>();
  for (const targets of backEdges([fn.entry, ...fn.blocks.keys()], successors).values()) {
    for (const t of targets) headers.add(t);
  }
  const continuations: number[] = [...inlined.continuations];
  const callBlocks = new Set<number>();
  for (const block of fn.blocks.values()) {
    const last = block.instructions[block.instructions.length - 1];
    if (last !== undefined && (isCall(last) || last.mnemonic === Mnemonic.Syscall)) {
      if (fn.blocks.has(block.end)) {
        continuations.push(block.end);
        callBlocks.add(block.start);
      }
    }
  }
  // Loop variants may at most double a function's blocks (measured: glibc
  // needs +31% in all, one function alone would need +2 419 blocks), and so
  // may resume variants.
  const plan = planLoops(
    fn.entry,
    successors,
    headers,
    Math.max(64, fn.blocks.size),
    continuations,
  );
  const resumedInVariant = new Set(plan.resumeVariants.flatMap((v) => v.entries));

  const entries = [fn.entry];
  const entrySet = new Set(entries);
  const addEntry = (address: number): void => {
    if (entrySet.has(address) || !fn.blocks.has(address)) return;
    // A variant's exit into an inlined copy goes on in the callee's own code.
    if (address !== realAddress(address)) return;
    entrySet.add(address);
    entries.push(address);
  };
  for (const address of plan.functionEntries) addEntry(address);
  for (const address of continuations) if (!resumedInVariant.has(address)) addEntry(address);
  // An inlinable function is entered where its callers' copies leave it.
  const shape = env.inlinable?.(fn.entry)?.shape;
  for (const address of shape === undefined ? [] : inlineEntries(shape)) addEntry(address);

  const resumable = (address: number): boolean => {
    if (!entrySet.has(address) && !plan.variants.has(address) && !resumedInVariant.has(address)) {
      return false;
    }
    // The dispatcher may know a function entry under another function, whose
    // entry does not reload flags: no yield there while flags are live.
    return (liveIn.get(address) ?? 0) === 0 || env.functionName(address) === undefined;
  };
  const analysis: FunctionAnalysis = {
    fn,
    env,
    successors,
    liveOut,
    liveIn,
    resumable,
    callBlocks,
    fenvFunction: [...fn.blocks.values()].some((b) =>
      b.instructions.some((ins) => X87_STATUS_READERS.has(ins.mnemonic)),
    ),
  };

  const name = functionName(fn.entry);
  const instructionCount = emitVersions(analysis, name, [...fn.blocks.values()], entries, false);
  const dispatch: DispatchEntry[] = entries.map((address, entryIndex) => ({
    address,
    functionName: name,
    entryIndex,
  }));
  for (const [header, region] of plan.variants) {
    const variant = loopVariantName(fn.entry, header);
    const blocks = [...fn.blocks.values()].filter((b) => region.has(b.start));
    emitVersions(analysis, variant, blocks, [header], true);
    dispatch.push({ address: header, functionName: variant, entryIndex: 0 });
  }
  for (const { entries: resumes, region } of plan.resumeVariants) {
    const variant = resumeVariantName(fn.entry, resumes[0] as number);
    const blocks = [...fn.blocks.values()].filter((b) => region.has(b.start));
    emitVersions(analysis, variant, blocks, resumes, true);
    resumes.forEach((address, entryIndex) =>
      dispatch.push({ address, functionName: variant, entryIndex }),
    );
  }
  const copied = dispatch.find((d) => d.address !== realAddress(d.address));
  if (copied !== undefined) {
    const address = realAddress(copied.address).toString(16);
    throw new Error(`0x${fn.entry.toString(16)}: the copy of 0x${address} became an entry`);
  }
  return { name, dispatch, instructionCount };
}

/**
 * Blocks entered from more than one block and by no loop back edge: their
 * dirty registers are the ones dirty on every edge in (dirty-registers.ts).
 * A loop header keeps the union, or a tight loop would store on every
 * iteration what its back edge brings dirty.
 */
function joins(inside: Successors, back: ReadonlyMap<number, ReadonlySet<number>>): Set<number> {
  const count = new Map<number, number>();
  for (const targets of inside.values()) {
    for (const t of new Set(targets)) count.set(t, (count.get(t) ?? 0) + 1);
  }
  const headers = new Set<number>();
  for (const targets of back.values()) for (const t of targets) headers.add(t);
  return new Set([...count].filter(([b, n]) => n > 1 && !headers.has(b)).map(([b]) => b));
}

/** Flags live at each block's start, from those live at its end. */
function flagsLiveIn(
  fn: DiscoveredFunction,
  liveOut: ReadonlyMap<number, number>,
): Map<number, number> {
  const liveIn = new Map<number, number>();
  for (const block of fn.blocks.values()) {
    liveIn.set(block.start, flagsLiveAtStart(block, liveOut.get(block.start) ?? 0));
  }
  return liveIn;
}

/**
 * Emits the wasm function `name` over `blocks` in the rounding flavours it
 * needs (rounding-twins.ts); returns the number of guest instructions lifted.
 */
function emitVersions(
  a: FunctionAnalysis,
  name: string,
  blocks: readonly DiscoveredBlock[],
  entries: readonly number[],
  isVariant: boolean,
): number {
  let count = 0;
  for (const version of roundingFlavors(name, blocks)) {
    count = emitFunction(a, version.name, blocks, entries, isVariant, version.flavor);
  }
  return count;
}

/**
 * Emits one wasm function over `blocks`, entered at `entries[k]` for entry
 * index k. A branch to a block of the guest function that is not among
 * `blocks` leaves through the dispatcher. A variant (`isVariant`) is entered
 * at a loop header after a yield, so it reloads the flags live there.
 * Returns the number of guest instructions lifted.
 */
function emitFunction(
  a: FunctionAnalysis,
  name: string,
  blocks: readonly DiscoveredBlock[],
  entries: readonly number[],
  isVariant: boolean,
  rounding: RoundingFlavor,
): number {
  // The static dirty-register estimate (dirty-registers.ts) must cover what
  // lifting writes; when it does not, lift again spilling every register.
  try {
    return emitFunctionBody(a, name, blocks, entries, isVariant, rounding, true);
  } catch (err) {
    if (!(err instanceof DirtyEstimateError)) throw err;
    return emitFunctionBody(a, name, blocks, entries, isVariant, rounding, false);
  }
}

class DirtyEstimateError extends Error {}

function emitFunctionBody(
  a: FunctionAnalysis,
  name: string,
  blocks: readonly DiscoveredBlock[],
  entries: readonly number[],
  isVariant: boolean,
  rounding: RoundingFlavor,
  trackDirty: boolean,
): number {
  const { fn, env } = a;
  const w = env.w;
  const m = w.m;
  let gprMask = 1 << 4;
  let xmmMask = 0;
  let instructionCount = 0;
  for (const b of blocks) {
    for (const ins of b.instructions) {
      gprMask |= ins.gprMask;
      xmmMask |= ins.xmmMask;
      instructionCount++;
    }
  }
  const ctx = new FunctionContext(w, gprMask, xmmMask, env.traps);
  ctx.trackDirty = trackDirty;
  ctx.roundingChecked = rounding.checked;
  ctx.roundingTwin = rounding.twin !== undefined;
  ctx.flushing = rounding.fast !== undefined;
  ctx.fenvFunction = a.fenvFunction;
  const members = new Set(blocks.map((b) => b.start));
  const inside = new Map<number, number[]>();
  for (const b of blocks) {
    inside.set(
      b.start,
      (a.successors.get(b.start) ?? []).filter((s) => members.has(s)),
    );
  }
  const reloadedByCall = reloadedBy(env);
  const back = backEdges([entries[0] as number, ...members], inside);
  const dirtyIn = dirtyAtEntry(
    blocks,
    inside,
    reloadedByCall,
    trackDirty ? joins(inside, back) : undefined,
  );
  // Back edges whose target a yield can continue at carry a budget check.
  const checked = new Map<number, Set<number>>();
  for (const [from, targets] of back) {
    const resumable = [...targets].filter(a.resumable);
    if (resumable.length > 0) checked.set(from, new Set(resumable));
  }
  if (checked.size > 0) ctx.budgetTicks = ctx.dedicatedLocal(i32);

  const relooper = new binaryen.Relooper(m);
  const rBlocks = new Map<number, number>();
  const pending: { from: number; fromAddress: number; end: BlockEnd; dirty: RegisterMask }[] = [];
  const uses = new Map<number, BlockRegisterUse>();
  const reloads = new Map<number, ReloadPoint[]>();
  for (const block of blocks) {
    ctx.startBlock();
    const entryDirty = dirtyIn.get(block.start) as RegisterMask;
    ctx.registers.dirty = entryDirty;
    ctx.registers.beginUse();
    const end = liftBlock(ctx, block, fn, env, a.liveOut.get(block.start) ?? 0);
    uses.set(block.start, { ...ctx.registers.takeUse(), edge: { gpr: 0, xmm: 0 } });
    reloads.set(block.start, ctx.takeReloadPoints());
    const dirty = ctx.registers.dirty;
    const estimate = dirtyAfter(block, entryDirty, reloadedByCall);
    if (trackDirty && ((dirty.gpr & ~estimate.gpr) !== 0 || (dirty.xmm & ~estimate.xmm) !== 0)) {
      throw new DirtyEstimateError(`block 0x${block.start.toString(16)}`);
    }
    const code = w.block([...ctx.takeStatements(), ...end.code]);
    const ref = relooper.addBlock(code);
    rBlocks.set(block.start, ref);
    pending.push({ from: ref, fromAddress: block.start, end, dirty });
  }
  for (const { from, fromAddress, end, dirty } of pending) {
    // Edge code (budget checks, region exits) spills what the block left dirty.
    // It is built after every block, so what the last block knew is not true here.
    ctx.forgetValues();
    ctx.registers.dirty = dirty;
    ctx.registers.beginUse();
    // The Relooper takes one branch per (from, to) pair: a jcc whose target is
    // also the fall-through (or two jump-table arms to one block) becomes one
    // branch taken when either condition holds, or always if either is the default.
    // This relies on a block's branch conditions being disjoint, as the lifter
    // makes them (a jcc and its fall-through; jump-table arms on distinct indices).
    const byTarget = new Map<number, { to: number; condition: Expr; code: Expr }>();
    const order: number[] = [];
    for (const branch of end.branches) {
      const target = branch.target;
      let to: number;
      let code: Expr = 0;
      if ("exit" in target) {
        to = relooper.addBlock(target.exit);
      } else if (rBlocks.has(target.block)) {
        to = rBlocks.get(target.block) as number;
        const t = target.block;
        // Into a join (dirty-registers.ts): store what it does not take as dirty.
        const takes = dirtyIn.get(t) ?? EVERY_REGISTER;
        const edge: Expr[] = trackDirty
          ? ctx.spill({ gpr: ~takes.gpr & 0xffff, xmm: ~takes.xmm & 0xffff })
          : [];
        // Back from a call or syscall, the mode may have changed: a fast
        // version or flush flavour leaves for the dispatcher, whose entry forwards.
        if ((rounding.twin !== undefined || ctx.flushing) && a.callBlocks.has(fromAddress)) {
          const expected = ctx.flushing ? FLUSH_MODE : 0;
          edge.push(leaveInNonDefaultMode(ctx, t, a.liveIn.get(t) ?? 0, expected));
        }
        if (checked.get(fromAddress)?.has(t)) edge.push(budgetCheck(ctx, t, a.liveIn.get(t) ?? 0));
        if (edge.length > 0) code = w.block(edge);
      } else if (fn.blocks.has(target.block)) {
        // A block of an inlined copy continues in the callee's own code.
        const exit = realAddress(target.block);
        to = relooper.addBlock(regionExit(ctx, exit, a.liveIn.get(target.block) ?? 0));
      } else {
        to = relooper.addBlock(m.unreachable());
      }
      const condition = branch.condition ?? 0;
      const seen = byTarget.get(to);
      if (seen === undefined) {
        byTarget.set(to, { to, condition, code });
        order.push(to);
      } else {
        seen.condition =
          seen.condition === 0 || condition === 0 ? 0 : m.i32.or(seen.condition, condition);
      }
    }
    // Conditional branches first in their original order, the default (condition 0) last.
    const branches = order.map((to) => byTarget.get(to)!);
    for (const b of branches.filter((b) => b.condition !== 0))
      relooper.addBranch(from, b.to, b.condition, b.code);
    for (const b of branches.filter((b) => b.condition === 0))
      relooper.addBranch(from, b.to, 0, b.code);
    const use = uses.get(fromAddress) as BlockRegisterUse;
    uses.set(fromAddress, { ...use, edge: ctx.registers.takeUse().exposed });
  }
  // Each entry loads the registers live there; with dirty tracking off, the
  // spills store every register, so every entry loads them all.
  const live = trackDirty ? registersLiveIn(blocks, inside, uses) : undefined;
  if (live !== undefined) {
    for (const block of blocks) {
      const out = liveOut(block.start, inside, uses, live);
      for (const point of reloads.get(block.start) ?? []) pruneReload(w, point, out);
    }
  }
  const entryLoads = (address: number): Expr[] =>
    ctx.load(live?.get(address) ?? { gpr: gprMask, xmm: xmmMask });
  let start = rBlocks.get(entries[0] as number) as number;
  if (entries.length > 1) {
    const selector = relooper.addBlockWithSwitch(m.nop(), m.local.get(PARAM_ENTRY, i32));
    entries.forEach((address, k) => {
      if (k === 0) return;
      // A loop header or region exit gets back the flags stored before the exit.
      const flags = a.liveIn.get(address) ?? 0;
      const code = w.block([...entryLoads(address), ...reloadFlags(ctx, flags)]);
      relooper.addBranchForSwitch(selector, rBlocks.get(address) as number, [k], code);
    });
    const first = w.block(entryLoads(entries[0] as number));
    relooper.addBranchForSwitch(selector, start, [], first);
    start = selector;
  }
  const labelHelper = ctx.dedicatedLocal(i32);
  const body = relooper.renderAndDispose(start, labelHelper);
  const prologue = [
    ...(rounding.twin !== undefined && rounding.flushTwin !== undefined
      ? [forwardToTwin(ctx, rounding.twin, rounding.flushTwin)]
      : []),
    ...(rounding.fast !== undefined ? [forwardToFast(ctx, rounding.fast)] : []),
    ...(entries.length > 1 ? [] : entryLoads(entries[0] as number)),
    ...budgetPrologue(ctx),
  ];
  if (isVariant) prologue.push(...reloadFlags(ctx, a.liveIn.get(entries[0] as number) ?? 0));
  m.addFunction(
    name,
    liftedParams(),
    i32,
    ctx.localTypes(),
    m.block(null, [...prologue, body, m.unreachable()], i32),
  );
  return instructionCount;
}
