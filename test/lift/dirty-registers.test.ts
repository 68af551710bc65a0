// The dirty-register estimate (src/lift/emit/dirty-registers.ts): which
// registers a spill must store. It may over-approximate, never under: a
// register it misses would reach the state block stale. The differential
// tests check whole programs; these check the rules on small blocks.
import { describe, expect, it } from "vitest";
import { CodeDecoder } from "../../src/lift/decode.js";
import type { DiscoveredBlock } from "../../src/lift/discover.js";
import { dirtyAfter, dirtyAtEntry, registersWritten } from "../../src/lift/emit/dirty-registers.js";
import { decodedBlock } from "./decoded-block.js";

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
