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
  /** Lowest address of the loaded program image (fork copies from here to the break). */
  imageStart = 0;
  /** Bytes the process may have mapped (image, break, mmap); the run's --memory. */
  limitBytes = Number.POSITIVE_INFINITY;
  /** Set when a request was refused for the limit (the kernel reports it once). */
  limitHit = false;
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
    if (address > this.brk && this.usedBytes() + (address - this.brk) > this.limitBytes) {
      this.limitHit = true;
      return this.brk;
    }
    if (address > this.brk) new Uint8Array(this.memory.buffer).fill(0, this.brk, address);
    this.brk = address;
    return this.brk;
  }

  /** A zeroed range of `length` bytes, or undefined when none is left. */
  map(length: number, hint = 0): number | undefined {
    const size = pageAlign(length);
    if (this.usedBytes() + size > this.limitBytes) {
      this.limitHit = true;
      return undefined;
    }
    if (hint !== 0) {
      const i = this.free.findIndex((r) => r.start <= hint && hint + size <= r.end);
      if (i >= 0) return this.take(i, hint, size);
    }
    const i = this.free.findIndex((r) => r.end - r.start >= size);
    if (i >= 0) return this.take(i, (this.free[i] as Range).start, size);
    return undefined;
  }

  /** Whether the pages from `address` for `length` bytes are all unmapped mmap area. */
  isFree(address: number, length: number): boolean {
    const end = address + pageAlign(length);
    return this.free.some((r) => r.start <= address && end <= r.end);
  }

  /**
   * mmap(2) with MAP_FIXED: exactly the pages from `address` (page-aligned),
   * replacing whatever was mapped there, zeroed. Undefined, with nothing
   * changed, outside the mmap area or past the limit.
   */
  mapFixed(address: number, length: number): number | undefined {
    const size = pageAlign(length);
    if (address % PAGE_SIZE !== 0 || address < MMAP_BASE || address + size > STACK_BOTTOM) {
      return undefined;
    }
    const saved = this.free.map((r) => ({ ...r }));
    this.unmap(address, size);
    const mapped = this.map(size, address);
    if (mapped === undefined) this.free = saved;
    return mapped;
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

  /**
   * mremap(2) without a copy: the mapping at `address` grows into the free
   * range right after it (the new part zeroed) or shrinks in place. False
   * when it cannot grow where it is (the caller moves it).
   */
  resize(address: number, oldLength: number, newLength: number): boolean {
    const oldEnd = pageAlign(address + oldLength);
    const newEnd = pageAlign(address + newLength);
    if (address % PAGE_SIZE !== 0 || address < MMAP_BASE || newEnd > STACK_BOTTOM) return false;
    if (newEnd <= oldEnd) {
      if (newEnd < oldEnd) this.unmap(newEnd, oldEnd - newEnd);
      if (this.mapped.has(address)) this.mapped.set(address, newEnd - address);
      return true;
    }
    const i = this.free.findIndex((r) => r.start <= oldEnd && oldEnd < r.end);
    const r = this.free[i];
    if (r === undefined || r.start !== oldEnd || r.end < newEnd) return false;
    if (this.usedBytes() + (newEnd - oldEnd) > this.limitBytes) {
      this.limitHit = true;
      return false;
    }
    this.take(i, oldEnd, newEnd - oldEnd);
    this.mapped.delete(oldEnd);
    this.mapped.set(address, newEnd - address);
    return true;
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

  /**
   * The ranges a process has in use besides its stack: the program image up
   * to the break and every mmap'd range. fork(2) copies only these (and the
   * live part of the stack), not the whole linear memory.
   */
  usedRanges(): { start: number; end: number }[] {
    const ranges = [{ start: this.imageStart, end: this.brk }];
    for (const [start, size] of this.mapped) {
      // A range munmap'd since (now in the free list) is skipped.
      if (!this.free.some((r) => r.start <= start && start < r.end)) {
        ranges.push({ start, end: start + size });
      }
    }
    return ranges;
  }

  /** Bytes in use: the image up to the break and the mmap area not free. */
  usedBytes(): number {
    let free = 0;
    for (const r of this.free) free += r.end - r.start;
    return this.brk - this.imageStart + (STACK_BOTTOM - MMAP_BASE - free);
  }

  /** The same layout over another memory (fork(2)); the bytes are copied by the caller. */
  cloneInto(memory: WebAssembly.Memory): AddressSpace {
    const copy = new AddressSpace(memory);
    copy.imageStart = this.imageStart;
    copy.limitBytes = this.limitBytes;
    copy.brkStart = this.brkStart;
    copy.brk = this.brk;
    copy.free = this.free.map((r) => ({ ...r }));
    for (const [start, size] of this.mapped) copy.mapped.set(start, size);
    return copy;
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / 65536));
  }
}
