// The guest address space below 4 GiB (lift/guest-layout.ts): the program
// break after the image, and mmap regions from MMAP_BASE, kept in a
// first-fit free list so munmap'd ranges are reused (malloc stress maps and
// unmaps many large blocks). Linear memory grows when mmap needs more.
import { MMAP_BASE, PAGE_SIZE, STACK_BOTTOM } from "../lift/guest-layout.js";

const pageAlign = (n: number): number => Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;

interface Range {
  start: number;
  end: number;
}

export class AddressSpace {
  brkStart = 0;
  brk = 0;
  /** Free ranges of the mmap area, sorted, coalesced. */
  private free: Range[] = [{ start: MMAP_BASE, end: STACK_BOTTOM }];
  private readonly mapped = new Map<number, number>();

  constructor(private readonly memory: WebAssembly.Memory) {}

  setBreakStart(address: number): void {
    this.brkStart = pageAlign(address);
    this.brk = this.brkStart;
  }

  /** brk(2): returns the new break, or the old one when the request is refused. */
  setBreak(address: number): number {
    if (address === 0 || address < this.brkStart || address >= MMAP_BASE) return this.brk;
    if (address > this.brk) new Uint8Array(this.memory.buffer).fill(0, this.brk, address);
    this.brk = address;
    return this.brk;
  }

  /** A zeroed range of `length` bytes, or undefined when none is left. */
  map(length: number, hint = 0): number | undefined {
    const size = pageAlign(length);
    if (hint !== 0) {
      const i = this.free.findIndex((r) => r.start <= hint && hint + size <= r.end);
      if (i >= 0) return this.take(i, hint, size);
    }
    const i = this.free.findIndex((r) => r.end - r.start >= size);
    if (i >= 0) return this.take(i, (this.free[i] as Range).start, size);
    return undefined;
  }

  private take(i: number, start: number, size: number): number {
    const r = this.free[i] as Range;
    const pieces: Range[] = [];
    if (r.start < start) pieces.push({ start: r.start, end: start });
    if (start + size < r.end) pieces.push({ start: start + size, end: r.end });
    this.free.splice(i, 1, ...pieces);
    this.ensure(start + size);
    new Uint8Array(this.memory.buffer).fill(0, start, start + size);
    this.mapped.set(start, size);
    return start;
  }

  unmap(address: number, length: number): void {
    const start = Math.floor(address / PAGE_SIZE) * PAGE_SIZE;
    const end = pageAlign(address + length);
    if (start < MMAP_BASE || end > STACK_BOTTOM) return;
    this.free.push({ start, end });
    this.free.sort((a, b) => a.start - b.start);
    const merged: Range[] = [];
    for (const r of this.free) {
      const last = merged[merged.length - 1];
      if (last !== undefined && r.start <= last.end) last.end = Math.max(last.end, r.end);
      else merged.push({ ...r });
    }
    this.free = merged;
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / 65536));
  }
}
