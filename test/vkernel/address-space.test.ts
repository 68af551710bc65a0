// The mmap area hands out zeroed, page-aligned ranges, reuses unmapped ones,
// and brk moves within its bounds.
import { describe, expect, it } from "vitest";
import { MMAP_BASE } from "../../src/lift/guest-layout.js";
import { AddressSpace } from "../../src/vkernel/address-space.js";

describe("AddressSpace", () => {
  const memory = new WebAssembly.Memory({ initial: 0x4000, maximum: 65536 });
  const space = new AddressSpace(memory);
  it("maps zeroed page-aligned ranges and reuses freed ones", () => {
    const a = space.map(100) as number;
    expect(a).toBe(MMAP_BASE);
    new Uint8Array(memory.buffer).fill(0xaa, a, a + 100);
    const b = space.map(8192) as number;
    expect(b).toBe(MMAP_BASE + 4096);
    space.unmap(a, 100);
    const c = space.map(4096) as number;
    expect(c).toBe(a);
    expect(new Uint8Array(memory.buffer)[c]).toBe(0);
  });
  it("moves the break up and refuses to move it below its start", () => {
    space.setBreakStart(0x500123);
    expect(space.brk).toBe(0x501000);
    expect(space.setBreak(0)).toBe(0x501000);
    expect(space.setBreak(0x510000)).toBe(0x510000);
    expect(space.setBreak(0x400000)).toBe(0x510000);
  });
});
