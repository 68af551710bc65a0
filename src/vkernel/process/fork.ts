// fork(2), vfork(2) and clone(2) used as either: a child process with a copy
// of the parent's memory — only the ranges in use (the state block, the
// image up to the break, every mmap'd range and the live part of the stack),
// not the whole linear memory — its descriptors (sharing the open file
// descriptions), signal dispositions, cwd and umask. The child takes a ready
// instance of the same module and its clean memory from the pool (pool.ts),
// so a fork copies bytes and creates neither, and resumes after the syscall
// with RAX = 0.
import { STACK_BOTTOM, STACK_TOP } from "../../lift/guest-layout.js";
import { FileDescriptor, Kernel } from "../kernel.js";
import { poolFor, usedRanges } from "./pool.js";
import { bindSlot } from "./runtime.js";

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

  const files = new Map<number, FileDescriptor>();
  for (const [fd, entry] of parent.files) {
    files.set(fd, new FileDescriptor(entry.file.retain(), entry.closeOnExec));
  }
  const child = new Kernel(
    memory,
    { ...parent.options, vfs: parent.root },
    { files, signals: parent.signals.fork() },
  );
  child.space = parent.space.cloneInto(memory);
  child.inherit(parent);
  child.ppid = parent.pid;
  child.argv = parent.argv;
  child.exePath = parent.exePath;
  child.comm = parent.comm;
  child.setGpr(RAX, 0n);
  if (options.stack !== undefined && options.stack !== 0n) child.setGpr(RSP, options.stack);
  if (options.tls !== undefined) child.setFsBase(options.tls);
  child.runtime = bindSlot(slot, child, runtime.program);
  return child;
}
