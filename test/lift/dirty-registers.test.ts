// The dirty-register estimate (src/lift/emit/dirty-registers.ts): which
// registers a spill must store. It may over-approximate, never under: a
// register it misses would reach the state block stale. The differential
// tests check whole programs; these check the rules on small blocks, and
// that an edge into a join stores what the join does not take as dirty.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CodeDecoder } from "../../src/lift/decode.js";
import type { DiscoveredBlock } from "../../src/lift/discover.js";
import { dirtyAfter, dirtyAtEntry, registersWritten } from "../../src/lift/emit/dirty-registers.js";
import { decodedBlock } from "./decoded-block.js";
import { runLiftedElf, runNativeElf } from "./semantics-harness.js";
import { resultRegisters, snippetElf } from "./snippet-elf.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-dirty-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RAX = 1 << 0;
const RCX = 1 << 1;
const RDX = 1 << 2;
const RBX = 1 << 3;
const RSP = 1 << 4;

function decoded(bytes: number[]): {
  decoder: CodeDecoder;
  block: (start: number, count: number) => DiscoveredBlock;
} {
  const decoder = new CodeDecoder([{ address: 0x1000, bytes: Uint8Array.from(bytes) }]);
  const block = (start: number, count: number): DiscoveredBlock =>
    decodedBlock(decoder, start, count);
  return { decoder, block };
}

describe("registersWritten", () => {
  it("counts operand 0 of plain ALU forms, nothing for cmp, everything used otherwise", () => {
    const { decoder, block } = decoded([
      0x89,
      0xd8, // mov eax, ebx
      0x48,
      0x39,
      0xd8, // cmp rax, rbx
      0x48,
      0x89,
      0x03, // mov [rbx], rax
      0x48,
      0x87,
      0xd9, // xchg rcx, rbx
      0x53, // push rbx
      0xf3,
      0x0f,
      0x7f,
      0x03, // movdqu [rbx], xmm0
      0x66,
      0x0f,
      0xef,
      0xc1, // pxor xmm0, xmm1
    ]);
    try {
      const [mov, cmp, store, xchg, push, movdqu, pxor] = block(0x1000, 7).instructions;
      expect(registersWritten(mov!)).toEqual({ gpr: RAX, xmm: 0 });
      expect(registersWritten(cmp!)).toEqual({ gpr: 0, xmm: 0 });
      expect(registersWritten(store!)).toEqual({ gpr: 0, xmm: 0 });
      expect(registersWritten(xchg!).gpr).toBe(RCX | RBX);
      expect(registersWritten(push!).gpr & RSP).toBe(RSP);
      expect(registersWritten(movdqu!).xmm).toBe(0);
      expect(registersWritten(pxor!).xmm & 1).toBe(1);
    } finally {
      decoder.dispose();
    }
  });
});

describe("dirtyAtEntry", () => {
  it("clears at a call, joins over predecessors and carries around a loop", () => {
    // A (0x1000): mov edx, 1; call 0x1000          → nothing dirty after the reload
    // B (0x100a): mov eax, 2; jmp-less fall into C  → RAX
    // C (0x100f): add ecx, 1; jne C                 → RAX | RCX (loop)
    const { decoder, block } = decoded([
      0xba,
      0x01,
      0x00,
      0x00,
      0x00, // mov edx, 1
      0xe8,
      0xf6,
      0xff,
      0xff,
      0xff, // call 0x1000
      0xb8,
      0x02,
      0x00,
      0x00,
      0x00, // mov eax, 2
      0x83,
      0xc1,
      0x01, // add ecx, 1
      0x75,
      0xfb, // jne 0x100f
    ]);
    try {
      const a = block(0x1000, 2);
      const b = block(0x100a, 1);
      const c = block(0x100f, 2);
      const successors = new Map([
        [a.start, [b.start]],
        [b.start, [c.start]],
        [c.start, [c.start]],
      ]);
      const dirty = dirtyAtEntry([a, b, c], successors);
      expect(dirtyAfter(a, { gpr: RDX, xmm: 0 })).toEqual({ gpr: 0, xmm: 0 });
      expect(dirty.get(a.start)).toEqual({ gpr: 0, xmm: 0 });
      expect(dirty.get(b.start)).toEqual({ gpr: 0, xmm: 0 });
      expect(dirty.get(c.start)).toEqual({ gpr: RAX | RCX, xmm: 0 });
    } finally {
      decoder.dispose();
    }
  });
});

describe("a join's dirty registers", () => {
  // A (0x1000): test eax, eax; je C
  // B (0x1004): mov ecx, 1                        → RCX, falls into C
  // C (0x1009): nop                                (entered from A and B)
  const bytes = [
    ...[0x85, 0xc0], // test eax, eax
    ...[0x74, 0x05], // je 0x1009
    ...[0xb9, 0x01, 0x00, 0x00, 0x00], // mov ecx, 1
    0x90, // nop
  ];

  it("are the union over the edges in, or with `joins` those dirty on every edge", () => {
    const { decoder, block } = decoded(bytes);
    try {
      const a = block(0x1000, 2);
      const b = block(0x1004, 1);
      const c = block(0x1009, 1);
      const successors = new Map([
        [a.start, [c.start, b.start]],
        [b.start, [c.start]],
        [c.start, []],
      ]);
      expect(dirtyAtEntry([a, b, c], successors).get(c.start)).toEqual({ gpr: RCX, xmm: 0 });
      const joined = dirtyAtEntry([a, b, c], successors, undefined, new Set([c.start]));
      expect(joined.get(c.start)).toEqual({ gpr: 0, xmm: 0 });
      expect(joined.get(b.start)).toEqual({ gpr: 0, xmm: 0 });
    } finally {
      decoder.dispose();
    }
  });

  it("are stored on the edge that brings them: a callee after the join reads them", async () => {
    // RCX is written on one way into the join only; the call after the join
    // does not store it, so f reads it from the state block only if the
    // edge stored it. f copies it to RDX (through XMM0, so that f is not
    // inlined: inline-calls.ts).
    const snippet = [
      ...[0xb8, 0x01, 0x00, 0x00, 0x00], // 00 mov eax, 1
      ...[0x85, 0xc0], // 05 test eax, eax
      ...[0x74, 0x05], // 07 jz 0x0e (not taken)
      ...[0xb9, 0x07, 0x00, 0x00, 0x00], // 09 mov ecx, 7
      ...[0xe8, 0x02, 0x00, 0x00, 0x00], // 0e call f (0x15), the join
      ...[0xeb, 0x0b], // 13 jmp 0x20 (the epilogue)
      ...[0x66, 0x48, 0x0f, 0x6e, 0xc1], // 15 f: movq xmm0, rcx (SSE: not inlined)
      ...[0x66, 0x48, 0x0f, 0x7e, 0xc2], // 1a movq rdx, xmm0
      0xc3, // 1f ret
    ];
    const elf = snippetElf(snippet);
    const native = runNativeElf(elf, dir, "join-spill");
    expect(native.status).toBe(0);
    const lifted = await runLiftedElf(elf, dir);
    expect(lifted.status).toBe(0);
    expect(resultRegisters(native.stdout).rdx).toBe(7n);
    expect(resultRegisters(lifted.stdout)).toEqual(resultRegisters(native.stdout));
  });
});
