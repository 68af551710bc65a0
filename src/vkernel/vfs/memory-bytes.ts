// The bytes of a file that lives in memory (the image's upper layer): a
// buffer that grows by doubling, with the file's size kept apart from its
// capacity. Writing past the end leaves a zero-filled hole, as write(2)
// after lseek(2) past the end does; truncate(2) zero-fills on growth.
export class MemoryBytes {
  private buffer: Uint8Array;
  size: number;

  constructor(initial: Uint8Array = new Uint8Array(0)) {
    this.buffer = new Uint8Array(initial);
    this.size = initial.length;
  }

  /** Bytes copied into `target` from `position` (0 at or past the end). */
  read(target: Uint8Array, position: number): number {
    if (position >= this.size) return 0;
    const n = Math.min(target.length, this.size - position);
    target.set(this.buffer.subarray(position, position + n));
    return n;
  }

  write(source: Uint8Array, position: number): number {
    const end = position + source.length;
    this.reserve(end);
    if (position > this.size) this.buffer.fill(0, this.size, position);
    this.buffer.set(source, position);
    this.size = Math.max(this.size, end);
    return source.length;
  }

  truncate(size: number): void {
    this.reserve(size);
    if (size > this.size) this.buffer.fill(0, this.size, size);
    this.size = size;
  }

  /** A copy of the current contents. */
  contents(): Uint8Array {
    return this.buffer.slice(0, this.size);
  }

  private reserve(capacity: number): void {
    if (capacity <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(capacity, this.buffer.length * 2, 64));
    grown.set(this.buffer.subarray(0, this.size));
    this.buffer = grown;
  }
}
