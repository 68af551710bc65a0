// Pools of ready instances (ARCHITECTURE.md "vkernel"): instantiating a
// module costs time in proportion to its function count (4.8 ms at 200 000
// functions) and a new 1 GiB memory costs milliseconds and GC pressure, so
// fork(2) and execve(2) never create either while a process waits. Each
// module has one pool. A process that ends gives its memory and instance
// back: the ranges it used are zeroed (its state block, image up to the
// break, mmap'd ranges and the stack it reached), nothing else is touched,
// and the slot serves the next process. Fresh slots are made between
// scheduler turns (setImmediate: the scheduler yields to the host event loop
// every 64 rounds and whenever every process is blocked), with the pages
// recent processes of the module used already touched.
import {
  INITIAL_MEMORY_PAGES,
  MAXIMUM_MEMORY_PAGES,
  PAGE_SIZE,
  STACK_BOTTOM,
  STACK_TOP,
  STATE_BASE,
  STATE_END,
} from "../../lift/guest-layout.js";
import type { Kernel } from "../kernel.js";
import { createSlot, type InstanceSlot } from "./runtime.js";

/** Fresh slots each pool keeps ready. */
const READY_TARGET = 2;
/** Slots one pool holds at most; a slot given back beyond this is dropped. */
const MAX_IDLE = 4;
/**
 * A process that used more than this is not recycled: zeroing it costs
 * more than a fresh memory, and the pool would keep its pages resident
 * (at most MAX_IDLE × RECYCLE_LIMIT per module).
 */
const RECYCLE_LIMIT = 16 << 20;
/** Below RSP the x86-64 psABI red zone (128 bytes) may hold data. */
const RED_ZONE = 128;
/**
 * Below the lowest RSP seen, stack pages are checked for data until this
 * many in a row are all zero (code deeper than its last syscall). A frame
 * that leaves a longer run of its pages untouched below the last RSP seen
 * can leave bytes further down.
 */
const STACK_SCAN_ZERO_PAGES = 16;
/** A fresh slot touches the state block, this much of the stack top and at most PRETOUCH_LIMIT of recent processes' ranges. */
const PRETOUCH_STACK = 64 << 10;
const PRETOUCH_LIMIT = 4 << 20;

export interface UsedRange {
  readonly start: number;
  readonly end: number;
}

/** The ranges of `k`'s memory its process has in use besides the stack (fork copies these). */
export function usedRanges(k: Kernel): UsedRange[] {
  return [{ start: STATE_BASE, end: STATE_END }, ...k.space.usedRanges()];
}

function pageDown(address: number): number {
  return Math.floor(address / PAGE_SIZE) * PAGE_SIZE;
}

const ZERO_WINDOW = new Uint8Array(STACK_SCAN_ZERO_PAGES * PAGE_SIZE);

/** Zeroes the stack the slot's process reached, and resets the low-water mark. */
function zeroStack(slot: InstanceSlot, bytes: Uint8Array): void {
  let bottom = Math.max(STACK_BOTTOM, pageDown(slot.stackLow - RED_ZONE));
  bytes.fill(0, bottom, STACK_TOP);
  // Below, a window of STACK_SCAN_ZERO_PAGES pages at a time: one memcmp
  // (Buffer#equals) says it is clean — the usual case — else its dirty pages
  // are zeroed and the next window down is checked.
  for (;;) {
    const from = Math.max(STACK_BOTTOM, bottom - ZERO_WINDOW.length);
    if (from >= bottom) break;
    const window = Buffer.from(bytes.buffer, from, bottom - from);
    if (window.equals(ZERO_WINDOW.subarray(0, bottom - from))) break;
    for (let page = from; page < bottom; page += PAGE_SIZE) {
      const data = Buffer.from(bytes.buffer, page, PAGE_SIZE);
      if (!data.equals(ZERO_WINDOW.subarray(0, PAGE_SIZE))) data.fill(0);
    }
    bottom = from;
  }
  slot.stackLow = STACK_TOP;
}

/**
 * Zeroes what a process left in `slot`: `used` (usedRanges of its last
 * kernel) and the stack. False, touching nothing, when it used too much to
 * be worth recycling.
 */
export function scrubSlot(slot: InstanceSlot, used: readonly UsedRange[]): boolean {
  const stack = STACK_TOP - Math.max(STACK_BOTTOM, slot.stackLow);
  const total = used.reduce((sum, r) => sum + Math.max(0, r.end - r.start), stack);
  if (total > RECYCLE_LIMIT) return false;
  const bytes = new Uint8Array(slot.memory.buffer);
  for (const r of used) if (r.end > r.start) bytes.fill(0, r.start, r.end);
  zeroStack(slot, bytes);
  return true;
}

export class InstancePool {
  /** Ready slots; taken from the end (recycled ones, their pages warm), fresh ones enter at the front. */
  private readonly ready: InstanceSlot[] = [];
  private refillScheduled = false;
  /** Ranges recent processes used: a fresh slot touches these pages beforehand. */
  private hint: readonly UsedRange[] = [];

  constructor(readonly module: WebAssembly.Module) {}

  /** Slots ready now. */
  get size(): number {
    return this.ready.length;
  }

  /** A clean slot (zero memory, no process): a ready one, or made now when none is. */
  take(): InstanceSlot {
    const slot = this.ready.pop() ?? this.fresh();
    this.scheduleRefill();
    return slot;
  }

  /** A slot whose process is done with it; `used` are the ranges it had (usedRanges). */
  give(slot: InstanceSlot, used: readonly UsedRange[]): void {
    slot.current = undefined;
    if (this.ready.length >= MAX_IDLE) return;
    if (!scrubSlot(slot, used)) return;
    this.hint = used;
    this.ready.push(slot);
  }

  /** Makes a fresh slot now (tests, and warming a pool before a run). */
  fill(count = READY_TARGET): void {
    while (this.ready.length < count) this.ready.unshift(this.fresh());
  }

  private fresh(): InstanceSlot {
    const memory = new WebAssembly.Memory({
      initial: INITIAL_MEMORY_PAGES,
      maximum: MAXIMUM_MEMORY_PAGES,
    });
    const bytes = new Uint8Array(memory.buffer);
    // Writing a page maps it; the write of a zero keeps the memory clean.
    const touch = (start: number, end: number): void => {
      for (let p = pageDown(start); p < end && p < bytes.length; p += PAGE_SIZE) bytes[p] = 0;
    };
    touch(STATE_BASE, STATE_END);
    touch(STACK_TOP - PRETOUCH_STACK, STACK_TOP);
    let budget = PRETOUCH_LIMIT;
    for (const r of this.hint) {
      const end = Math.min(r.end, r.start + budget);
      touch(r.start, end);
      budget -= Math.max(0, end - r.start);
      if (budget <= 0) break;
    }
    return createSlot(this.module, memory);
  }

  /** Tops the pool up to READY_TARGET fresh slots, one per host turn, off any spawn's path. */
  private scheduleRefill(): void {
    if (this.refillScheduled || this.ready.length >= READY_TARGET) return;
    this.refillScheduled = true;
    setImmediate(() => {
      this.refillScheduled = false;
      if (this.ready.length < READY_TARGET) this.ready.unshift(this.fresh());
      this.scheduleRefill();
    }).unref();
  }
}

const pools = new WeakMap<WebAssembly.Module, InstancePool>();

/** The pool of `module`'s instances (one per module, shared by every run of this host process). */
export function poolFor(module: WebAssembly.Module): InstancePool {
  let pool = pools.get(module);
  if (pool === undefined) {
    pool = new InstancePool(module);
    pools.set(module, pool);
  }
  return pool;
}

/**
 * A process ended (System.end): its instance and memory go back to their
 * pool. Nothing happens when another kernel holds the slot by now (execve
 * handed it on).
 */
export function releaseProcess(k: Kernel): void {
  const runtime = k.runtime;
  k.runtime = undefined;
  if (runtime === undefined || runtime.kernel !== k || runtime.slot.current !== runtime) return;
  poolFor(runtime.slot.module).give(runtime.slot, usedRanges(k));
}
