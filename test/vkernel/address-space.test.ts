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

describe("AddressSpace.resize (mremap)", () => {
  it("grows a mapping in place into the free range after it, zeroing the new part", () => {
    const memory = new WebAssembly.Memory({ initial: 0x4000, maximum: 65536 });
    const space = new AddressSpace(memory);
    const bytes = (): Uint8Array => new Uint8Array(memory.buffer);
    const a = space.map(4096) as number;
    const gap = space.map(4096) as number;
    space.unmap(gap, 4096);
    bytes().fill(0xcc, gap, gap + 4096);
    bytes()[a] = 7;
    expect(space.resize(a, 4096, 8192)).toBe(true);
    expect(bytes()[a]).toBe(7);
    expect(bytes()[gap]).toBe(0);
    // The grown part is no longer free: the next map lands after it.
    expect(space.map(4096)).toBe(a + 8192);
    expect(space.usedRanges()).toContainEqual({ start: a, end: a + 8192 });
  });
  it("refuses to grow over a mapping that follows, and shrinks in place", () => {
    const memory = new WebAssembly.Memory({ initial: 0x4000, maximum: 65536 });
    const space = new AddressSpace(memory);
    const a = space.map(8192) as number;
    const b = space.map(4096) as number;
    expect(space.resize(a, 8192, 12288)).toBe(false);
    expect(space.resize(a, 8192, 4096)).toBe(true);
    // The freed tail is reused before anything past b.
    expect(space.map(4096)).toBe(a + 4096);
    expect(space.map(4096)).toBe(b + 4096);
  });
  it("refuses growth past the memory limit", () => {
    const memory = new WebAssembly.Memory({ initial: 0x4000, maximum: 65536 });
    const space = new AddressSpace(memory);
    const a = space.map(4096) as number;
    space.limitBytes = 8192;
    expect(space.resize(a, 4096, 16384)).toBe(false);
    expect(space.limitHit).toBe(true);
  });
});
