// fork(2), vfork(2) and clone(2) used as either. A fork child gets a copy
// of the parent's memory — only the ranges in use (the state block, the
// image up to the break, every mmap'd range and the live part of the stack),
// not the whole linear memory — in a ready instance of the same module and
// its clean memory from the pool (pool.ts), so a fork copies bytes and
// creates neither. A vfork child copies nothing (issue 5): it runs in the
// parent's own instance and memory while the parent waits, as Linux's vfork
// shares the address space, so what it writes (glibc's posix_spawn reports
// errors that way) reaches the parent. Only the registers are the child's:
// they live in the state block, so the parent's are kept aside and put
// back when the child execs or ends (returnVforkMemory). Either child has
// the parent's descriptors (sharing the open file descriptions), signal
// dispositions, cwd and umask, and resumes after the syscall with RAX = 0.
import { STACK_BOTTOM, STACK_TOP, STATE_BASE, STATE_END } from "../../lift/guest-layout.js";
import { FileDescriptor, Kernel } from "../kernel.js";
import { poolFor, usedRanges } from "./pool.js";
import { bindSlot, type ProcessRuntime } from "./runtime.js";

const RAX = 0;
const RSP = 4;
/** Below RSP the x86-64 psABI red zone (128 bytes) may hold live data. */
const RED_ZONE = 128;
/** How much of the main stack is copied when the parent runs on another stack. */
const OTHER_STACK_COPY = 1 << 20;

export interface ForkOptions {
  /** clone(2)'s child stack: the child's RSP (0: the parent's). */
  readonly stack?: bigint;
  /** CLONE_SETTLS: the child's FS base. */
  readonly tls?: bigint;
}

function copyRange(from: Uint8Array, to: Uint8Array, start: number, end: number): void {
  if (end > start) to.set(from.subarray(start, end), start);
}

/** What a vfork child borrowed: whose memory, and the registers to give back. */
export interface VforkShare {
  readonly parent: Kernel;
  readonly parentRuntime: ProcessRuntime;
  /** The parent's state block as it was at vfork. */
  readonly state: Uint8Array;
}

/** A child of `parent` (its memory a copy or, for vfork, the parent's own): all but the code. */
function childOf(parent: Kernel, memory: WebAssembly.Memory, options: ForkOptions): Kernel {
  const files = new Map<number, FileDescriptor>();
  for (const [fd, entry] of parent.files) {
    files.set(fd, new FileDescriptor(entry.file.retain(), entry.closeOnExec));
  }
  const child = new Kernel(memory, parent.options, { files, signals: parent.signals.fork() });
  child.inherit(parent);
  child.ppid = parent.pid;
  child.argv = parent.argv;
  child.env = parent.env;
  child.exePath = parent.exePath;
  child.comm = parent.comm;
  child.setGpr(RAX, 0n);
  if (options.stack !== undefined && options.stack !== 0n) child.setGpr(RSP, options.stack);
  if (options.tls !== undefined) child.setFsBase(options.tls);
  return child;
}

/**
 * vfork(2), and clone(2) with CLONE_VFORK: the child runs in the parent's
 * instance and memory (the parent blocks until vforkDone); its mappings
 * are the parent's too.
 */
export function vforkProcess(parent: Kernel, options: ForkOptions = {}): Kernel {
  const runtime = parent.runtime;
  if (runtime === undefined) throw new Error("vfork of a process that runs no code");
  const state = parent.bytes().slice(STATE_BASE, STATE_END);
  const child = childOf(parent, parent.memory, options);
  child.space = parent.space;
  child.vforkShare = { parent, parentRuntime: runtime, state };
  parent.lentTo = child;
  child.runtime = bindSlot(runtime.slot, child, runtime.program);
  return child;
}

/**
 * A vfork child execs or ends: the parent's registers go back into the
 * state block and the instance serves the parent again. A parent that
 * ended meanwhile (the run's wall-time limit) gets nothing back, and its
 * instance is not reused.
 */
export function returnVforkMemory(child: Kernel): void {
  const share = child.vforkShare;
  if (share === undefined) return;
  child.vforkShare = undefined;
  share.parent.lentTo = undefined;
  const slot = share.parentRuntime.slot;
  if (child.runtime?.slot === slot) child.runtime = undefined;
  if (share.parent.ended) {
    slot.current = undefined;
    return;
  }
  new Uint8Array(slot.memory.buffer).set(share.state, STATE_BASE);
  slot.current = share.parentRuntime;
}

export function forkProcess(parent: Kernel, options: ForkOptions = {}): Kernel {
  const runtime = parent.runtime;
  if (runtime === undefined) throw new Error("fork of a process that runs no code");
  const slot = poolFor(runtime.program.module).take();
  const memory = slot.memory;
  const grow = (parent.memory.buffer.byteLength - memory.buffer.byteLength) / 65536;
  if (grow > 0) memory.grow(grow);
  const from = parent.bytes();
  const to = new Uint8Array(memory.buffer);
  for (const r of usedRanges(parent)) copyRange(from, to, r.start, r.end);
  const rsp = Number(parent.gpr(RSP));
  const stackFrom =
    rsp > STACK_BOTTOM && rsp <= STACK_TOP
      ? Math.max(STACK_BOTTOM, (rsp - RED_ZONE) & ~4095)
      : STACK_TOP - OTHER_STACK_COPY;
  copyRange(from, to, stackFrom, STACK_TOP);
  slot.stackLow = Math.min(slot.stackLow, stackFrom);
  const child = childOf(parent, memory, options);
  child.space = parent.space.cloneInto(memory);
  child.runtime = bindSlot(slot, child, runtime.program);
  return child;
}
