// Inlining small functions at their call sites. A wasm call costs far more
// than an x86 one: V8 gives wasm calls no callee-saved registers, so the
// caller's live values are stored and loaded around it; the callee loads its
// registers from the state block and stores them back; the call-depth
// counter and the return check come on top. Measured per function against a
// native profile of the same binary: busybox gzip's send_bits (a dozen
// instructions, called per symbol) 3.3x native, sort's getc (four, called
// per byte) 5x.
//
// A function is inlinable when its hot region — the blocks its entry
// reaches without passing a cold block (one that calls, makes a syscall,
// jumps indirectly or leaves the function) — is small, free of loops,
// returns somewhere, and touches only general registers (no SSE, x87 or
// MXCSR: those depend on the caller's rounding flavour). The caller gets a
// copy of the region: the `call` pushes its return address and goes on in
// the copy, a `ret` pops and goes on after the call when the popped address
// is the one pushed (else through the dispatcher), exactly as the CPU
// would. An edge from the copy to a cold block becomes a call, through the
// dispatcher, into the function's own lifted code, where such blocks are
// entries (the flags are not live there, a requirement): the return address
// is on the stack already, and the call expects the return to it with the
// RSP from before the push, so the function's `ret` comes back to the copy's
// exit, which goes on after the original call. (Measured on busybox gzip:
// send_bits leaves its copy about every fourth call, 4 million times for 20
// MB; when the exit jumped to the dispatcher instead, each unwound the whole
// wasm stack to the dispatcher loop and came back frame by frame.)
import { FlowControl, Mnemonic } from "iced-x86";
import { escalatesToWholeState } from "./call-summaries.js";
import type { DecodedInstruction } from "./decode.js";
import { endsBlock, type DiscoveredBlock, type DiscoveredFunction } from "./discover.js";
import { flagsLiveAtStart, flagsLiveOut } from "./flags-liveness.js";
import { handlerFor } from "./semantics/table.js";

/** Most instructions a hot region may have (each call site gets a copy). */
const MAX_REGION_INSTRUCTIONS = 24;
/** Most call sites one function inlines. */
const MAX_SITES = 32;
/**
 * A copied block's key: COPY_BASE + site × 2^32 + its address. Guest
 * addresses are below 2^32 (wasm32), so every key is above them and
 * realAddress() gives the copied block's address back.
 */
const COPY_BASE = 2 ** 48;
const SITE_SPAN = 2 ** 32;

/** The guest address of a block key: a copied block's original, or the address itself. */
export function realAddress(key: number): number {
  return key >= COPY_BASE ? key % SITE_SPAN : key;
}

/** Instructions that work on state outside the general registers, or on the rounding mode. */
const STATE_MNEMONICS = new Set<Mnemonic>([
  Mnemonic.Ldmxcsr,
  Mnemonic.Stmxcsr,
  Mnemonic.Vldmxcsr,
  Mnemonic.Vstmxcsr,
  Mnemonic.Fxsave,
  Mnemonic.Fxsave64,
  Mnemonic.Fxrstor,
  Mnemonic.Fxrstor64,
  Mnemonic.Xsave,
  Mnemonic.Xsave64,
  Mnemonic.Xrstor,
  Mnemonic.Xrstor64,
]);

export interface InlineShape {
  /** The hot region's blocks, in the function's order. */
  readonly region: readonly number[];
  /** Cold blocks the region branches to: entries of the function's own code. */
  readonly sideExits: readonly number[];
}

/** Whether `target` is outside `fn` for control flow (another function's entry, or not its block). */
function leaves(fn: DiscoveredFunction, target: number, isEntry: (a: number) => boolean): boolean {
  return (isEntry(target) && target !== fn.entry) || !fn.blocks.has(target);
}

/** Whether the copy of `ins` behaves in any caller as in the function. */
function copyable(ins: DecodedInstruction): boolean {
  return (
    ins.xmmMask === 0 &&
    ins.requires === undefined &&
    !STATE_MNEMONICS.has(ins.mnemonic) &&
    !Mnemonic[ins.mnemonic].startsWith("F") &&
    (endsBlock(ins) || handlerFor(ins) !== undefined)
  );
}

/** The block's successors inside `fn` when it can be copied (not cold), else undefined. */
function hotSuccessors(
  fn: DiscoveredFunction,
  block: DiscoveredBlock,
  isEntry: (a: number) => boolean,
): number[] | undefined {
  const last = block.instructions[block.instructions.length - 1];
  if (last === undefined || block.undecodable) return undefined;
  for (const ins of block.instructions) {
    if (escalatesToWholeState(ins) || !copyable(ins)) return undefined;
  }
  if (!endsBlock(last)) return leaves(fn, block.end, isEntry) ? undefined : [block.end];
  switch (last.flow) {
    case FlowControl.Return:
      return [];
    case FlowControl.ConditionalBranch: {
      const targets = [last.target ?? 0, block.end];
      return targets.some((t) => leaves(fn, t, isEntry)) ? undefined : targets;
    }
    case FlowControl.UnconditionalBranch:
      return leaves(fn, last.target ?? 0, isEntry) ? undefined : [last.target ?? 0];
    default:
      return undefined;
  }
}

/** `fn`'s inline shape, or undefined when it is not inlinable (see the top of this file). */
export function inlineShape(
  fn: DiscoveredFunction,
  isEntry: (a: number) => boolean,
): InlineShape | undefined {
  const hot = new Map<number, number[]>();
  const cold = new Set<number>();
  const seen = new Set<number>([fn.entry]);
  const work = [fn.entry];
  while (work.length > 0) {
    const start = work.pop() as number;
    const block = fn.blocks.get(start) as DiscoveredBlock;
    const next = hotSuccessors(fn, block, isEntry);
    if (next === undefined) {
      cold.add(start);
      continue;
    }
    hot.set(start, next);
    for (const n of next) {
      if (!seen.has(n)) {
        seen.add(n);
        work.push(n);
      }
    }
  }
  if (!hot.has(fn.entry)) return undefined;
  let instructions = 0;
  let returns = false;
  for (const start of hot.keys()) {
    const block = fn.blocks.get(start) as DiscoveredBlock;
    instructions += block.instructions.length;
    if (block.instructions[block.instructions.length - 1]?.flow === FlowControl.Return) {
      returns = true;
    }
  }
  if (!returns || instructions > MAX_REGION_INSTRUCTIONS || hasCycle(fn.entry, hot))
    return undefined;
  // A side exit continues in the function's own code without the flags.
  const successors = new Map<number, number[]>();
  for (const block of fn.blocks.values()) {
    successors.set(block.start, hotSuccessors(fn, block, isEntry) ?? coldSuccessors(fn, block));
  }
  const liveOut = flagsLiveOut(fn, successors);
  for (const start of cold) {
    if (flagsLiveAtStart(fn.blocks.get(start) as DiscoveredBlock, liveOut.get(start) ?? 0) !== 0) {
      return undefined;
    }
  }
  const order = [...fn.blocks.keys()];
  return {
    region: order.filter((a) => hot.has(a)),
    sideExits: order.filter((a) => cold.has(a)),
  };
}

/**
 * The blocks of an inlinable function its own code must be entered at:
 * the side exits, and the region's blocks, where a caller's loop variant
 * that holds only part of a copy leaves it through the dispatcher.
 */
export function inlineEntries(shape: InlineShape): number[] {
  return [...shape.region, ...shape.sideExits];
}

/** Intra-function successors of a cold block, for the flags' liveness. */
function coldSuccessors(fn: DiscoveredFunction, block: DiscoveredBlock): number[] {
  const last = block.instructions[block.instructions.length - 1];
  if (last === undefined) return [];
  const inside = (a: number | undefined): a is number => a !== undefined && fn.blocks.has(a);
  if (!endsBlock(last)) return [block.end].filter(inside);
  if (last.flow === FlowControl.ConditionalBranch) return [last.target, block.end].filter(inside);
  if (last.flow === FlowControl.UnconditionalBranch) return [last.target].filter(inside);
  if (last.flow === FlowControl.Call || last.flow === FlowControl.IndirectCall) {
    return [block.end].filter(inside);
  }
  if (last.flow === FlowControl.IndirectBranch) return (block.jumpTable ?? []).filter(inside);
  return [];
}

function hasCycle(entry: number, successors: ReadonlyMap<number, readonly number[]>): boolean {
  const state = new Map<number, "open" | "done">();
  const visit = (b: number): boolean => {
    state.set(b, "open");
    for (const s of successors.get(b) ?? []) {
      const seen = state.get(s);
      if (seen === "open") return true;
      if (seen === undefined && successors.has(s) && visit(s)) return true;
    }
    state.set(b, "done");
    return false;
  };
  return visit(entry);
}

/** An inlinable function and its shape, by entry (what the caller's lifting is given). */
export interface Inlinable {
  readonly fn: DiscoveredFunction;
  readonly shape: InlineShape;
}

/**
 * The inlinable functions among `functions` (every function of the ELF);
 * `selectable` says whether one is lifted (not a trap stub for AVX code).
 */
export function inlinableFunctions(
  functions: readonly DiscoveredFunction[],
  selectable: (fn: DiscoveredFunction) => boolean,
): Map<number, Inlinable> {
  const entries = new Set(functions.map((fn) => fn.entry));
  const out = new Map<number, Inlinable>();
  for (const fn of functions) {
    if (!selectable(fn)) continue;
    const shape = inlineShape(fn, (a) => entries.has(a));
    if (shape !== undefined) out.set(fn.entry, { fn, shape });
  }
  return out;
}

/**
 * `caller` with its direct calls to inlinable functions replaced by copies
 * of their hot regions (see the top of this file); the addresses after the
 * calls are in `continuations` (they stay entries of the caller).
 */
export function withInlinedCalls(
  caller: DiscoveredFunction,
  inlinable: (address: number) => Inlinable | undefined,
): { fn: DiscoveredFunction; continuations: number[] } {
  const blocks = new Map<number, DiscoveredBlock>();
  const continuations: number[] = [];
  let site = 0;
  for (const block of caller.blocks.values()) {
    const last = block.instructions[block.instructions.length - 1];
    const callee =
      last?.flow === FlowControl.Call && last.target !== undefined && last.target !== caller.entry
        ? inlinable(last.target)
        : undefined;
    const next = block.end;
    if (
      last === undefined ||
      callee === undefined ||
      site >= MAX_SITES ||
      !caller.blocks.has(next)
    ) {
      blocks.set(block.start, block);
      continue;
    }
    const base = COPY_BASE + site * SITE_SPAN;
    const inlinedSite = { index: site, callee: callee.fn.entry };
    site++;
    const region = new Set(callee.shape.region);
    // A region block's edge to a cold block goes to the site's exit block for it.
    const exits = new Set<number>();
    const key = (a: number): number => {
      if (region.has(a)) return base + a;
      if (!callee.fn.blocks.has(a)) return a;
      exits.add(a);
      return base + a;
    };
    const call: DecodedInstruction = copyOf(last, {
      flow: FlowControl.UnconditionalBranch,
      target: key(callee.fn.entry),
      inlinedCall: next,
      inlinedSite,
    });
    blocks.set(block.start, { ...block, instructions: [...block.instructions.slice(0, -1), call] });
    continuations.push(next);
    for (const start of callee.shape.region) {
      const b = callee.fn.blocks.get(start) as DiscoveredBlock;
      const instructions = b.instructions.map((ins, i) => {
        if (i !== b.instructions.length - 1) return ins;
        if (ins.flow === FlowControl.Return) return copyOf(ins, { inlinedReturn: next });
        if (ins.target !== undefined) return copyOf(ins, { target: key(ins.target) });
        return ins;
      });
      blocks.set(key(start), { ...b, start: key(start), end: key(b.end), instructions });
    }
    // The exit to cold block c: the original call made again to c (its return
    // address is pushed already), falling through to the call's continuation.
    for (const c of exits) {
      const exit = copyOf(last, { flow: FlowControl.Call, target: c, inlinedSite });
      blocks.set(base + c, {
        start: base + c,
        end: next,
        undecodable: false,
        instructions: [exit],
      });
    }
  }
  return { fn: site === 0 ? caller : { ...caller, blocks }, continuations };
}

/** A copy of `ins` with `fields` changed; its text (formatted on demand) is the original's. */
function copyOf(ins: DecodedInstruction, fields: Partial<DecodedInstruction>): DecodedInstruction {
  const descriptors: PropertyDescriptorMap = Object.getOwnPropertyDescriptors(ins);
  delete descriptors.text;
  const copy: object = Object.defineProperties({}, descriptors);
  Object.defineProperty(copy, "text", { get: () => ins.text, enumerable: true });
  return Object.assign(copy, fields) as DecodedInstruction;
}
