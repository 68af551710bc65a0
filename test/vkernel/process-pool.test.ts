// The pool of ready instances (src/vkernel/process/pool.ts): a slot given
// back by an ended process serves the next one with the ranges the old one
// used zeroed and a reset state block; fork copies the parent's used ranges
// into a pooled memory; execve of a program of the same module keeps the
// process's instance and memory, of another module takes that module's.
import { tmpdir } from "node:os";
import { beforeAll, describe, expect, it } from "vitest";
import {
  MMAP_BASE,
  STACK_TOP,
  STATE_BASE,
  STATE_END,
  STATE_FS_BASE,
  stateXmm,
} from "../../src/lift/guest-layout.js";
import { liftElf } from "../../src/lift/lift-elf.js";
import { Kernel } from "../../src/vkernel/kernel.js";
import { loadImage, setupStack } from "../../src/vkernel/loader.js";
import { replaceImage } from "../../src/vkernel/process/exec.js";
import { forkProcess } from "../../src/vkernel/process/fork.js";
import { poolFor, releaseProcess, usedRanges } from "../../src/vkernel/process/pool.js";
import { singleProgram, type Program } from "../../src/vkernel/process/program.js";
import { bindSlot } from "../../src/vkernel/process/runtime.js";
import { snippetElf } from "../lift/snippet-elf.js";

const RAX = 0;
const RBX = 3;
const RSP = 4;

let elf: Uint8Array;
let wasm: Uint8Array;
let module: WebAssembly.Module;
let program: Program;

beforeAll(async () => {
  elf = snippetElf([0x90]); // nop; the tests never run the code
  wasm = liftElf("snippet", elf, { optimize: 0 }).wasm;
  module = await WebAssembly.compile(wasm);
  program = singleProgram(module, { path: "/snippet", bytes: elf });
});

/** A process running `p` in a slot from its module's pool, as execve would set it up. */
function processOf(p: Program): Kernel {
  const slot = poolFor(p.module).take();
  const k = new Kernel(slot.memory, { root: tmpdir(), argv: ["snippet"], env: [] });
  loadImage(k, p.image);
  setupStack(k, p.image, ["snippet"], []);
  k.runtime = bindSlot(slot, k, p);
  return k;
}

/** Writes `value` over [start, end) of the process's memory. */
function dirty(k: Kernel, start: number, end: number, value = 0xa5): void {
  k.bytes().fill(value, start, end);
}

const allZero = (bytes: Uint8Array, start: number, end: number): boolean =>
  bytes.subarray(start, end).every((b) => b === 0);

/** A process that used a heap, an mmap'd range, its stack and its whole state block. */
function usedProcess(): { k: Kernel; heap: number; mapped: number; stack: number } {
  const k = processOf(program);
  const heap = k.space.brk;
  k.space.setBreak(heap + 3 * 4096);
  dirty(k, heap, heap + 3 * 4096);
  const mapped = k.space.map(5 * 4096) as number;
  dirty(k, mapped, mapped + 5 * 4096);
  const rsp = Number(k.gpr(RSP));
  // Deeper than any RSP the kernel saw, as code between two syscalls may write.
  const stack = rsp - 6 * 4096;
  dirty(k, stack, rsp);
  dirty(k, STATE_BASE, STATE_END);
  return { k, heap, mapped, stack };
}

describe("instance pool", () => {
  it("gives the next process a slot with the previous one's ranges zeroed", () => {
    const { k, heap, mapped, stack } = usedProcess();
    const slot = k.runtime?.slot;
    const ranges = usedRanges(k);
    releaseProcess(k);
    expect(k.runtime).toBeUndefined();
    expect(slot?.current).toBeUndefined();

    const again = poolFor(module).take();
    expect(again).toBe(slot); // the warm, recycled slot is used first
    const bytes = new Uint8Array(again.memory.buffer);
    for (const r of ranges) expect(allZero(bytes, r.start, r.end)).toBe(true);
    expect(allZero(bytes, STATE_BASE, STATE_END)).toBe(true);
    expect(allZero(bytes, heap, heap + 3 * 4096)).toBe(true);
    expect(allZero(bytes, mapped, mapped + 5 * 4096)).toBe(true);
    expect(allZero(bytes, stack, STACK_TOP)).toBe(true);
    expect(again.stackLow).toBe(STACK_TOP);

    // The next process starts from a reset state block: only what setupStack sets.
    const next = new Kernel(again.memory, { root: tmpdir(), argv: ["next"], env: [] });
    loadImage(next, program.image);
    setupStack(next, program.image, ["next"], []);
    next.runtime = bindSlot(again, next, program);
    expect(next.fsBase()).toBe(0n);
    expect(next.gpr(RBX)).toBe(0n);
    expect(allZero(next.bytes(), stateXmm(0), stateXmm(16))).toBe(true);
    releaseProcess(next);
  });

  it("forks into a pooled memory holding exactly the parent's used ranges", () => {
    const { k: parent, heap, mapped } = usedProcess();
    parent.setGpr(RBX, 0x1234n);
    // Outside every range the parent uses: fork must not copy it.
    const outside = MMAP_BASE + 0x0100_0000;
    dirty(parent, outside, outside + 4096, 0x5a);

    const child = forkProcess(parent);
    expect(child.memory).not.toBe(parent.memory);
    expect(child.runtime?.slot.module).toBe(module);
    expect(child.runtime?.slot).not.toBe(parent.runtime?.slot);
    expect(child.runtime?.kernel).toBe(child);
    const from = parent.bytes();
    const to = child.bytes();
    for (const r of usedRanges(parent)) {
      if (r.start === STATE_BASE) continue; // RAX differs: the child's fork returns 0
      expect(Buffer.compare(from.subarray(r.start, r.end), to.subarray(r.start, r.end))).toBe(0);
    }
    expect(to[heap]).toBe(0xa5);
    expect(to[mapped]).toBe(0xa5);
    const rsp = Number(parent.gpr(RSP));
    expect(Buffer.compare(from.subarray(rsp, STACK_TOP), to.subarray(rsp, STACK_TOP))).toBe(0);
    expect(allZero(to, outside, outside + 4096)).toBe(true);
    expect(child.gpr(RAX)).toBe(0n);
    expect(child.gpr(RBX)).toBe(0x1234n);
    expect(child.space.usedRanges()).toEqual(parent.space.usedRanges());
    releaseProcess(child);
    releaseProcess(parent);
  });

  it("keeps the instance and memory when execve runs a program of the same module", () => {
    const { k: old, heap, mapped } = usedProcess();
    const slot = old.runtime?.slot;
    const other = singleProgram(module, { path: "/other", bytes: elf });
    const k = replaceImage(old, other, {
      program: other,
      argv: ["other"],
      env: [],
      path: "/other",
    });
    expect(k.runtime?.slot).toBe(slot);
    expect(k.memory).toBe(old.memory);
    expect(k.runtime?.program).toBe(other);
    expect(k.runtime?.kernel).toBe(k);
    expect(old.runtime).toBeUndefined();
    // The old heap and mapping are gone; the new image and stack are in place.
    expect(allZero(k.bytes(), heap, heap + 3 * 4096)).toBe(true);
    expect(allZero(k.bytes(), mapped, mapped + 5 * 4096)).toBe(true);
    expect(allZero(k.bytes(), stateXmm(0), stateXmm(16))).toBe(true);
    expect(k.view().getBigUint64(STATE_FS_BASE, true)).toBe(0n);
    expect(Buffer.compare(k.bytes().subarray(0x400000, 0x400000 + elf.length), elf)).toBe(0);
    expect(k.comm).toBe("other");
    releaseProcess(k);
  });

  it("takes the other module's instance when execve runs a program of another module", async () => {
    const module2 = await WebAssembly.compile(wasm);
    const program2 = singleProgram(module2, { path: "/second", bytes: elf });
    const old = processOf(program);
    const slot = old.runtime?.slot;
    const before = poolFor(module).size;
    const k = replaceImage(old, program2, { program: program2, argv: ["s"], env: [], path: "/s" });
    expect(k.runtime?.slot.module).toBe(module2);
    expect(k.memory).not.toBe(old.memory);
    // The old instance went back to its own pool.
    expect(poolFor(module).size).toBe(before + 1);
    expect(slot?.current).toBeUndefined();
    releaseProcess(k);
  });
});
