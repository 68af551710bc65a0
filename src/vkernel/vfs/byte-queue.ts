// Bytes written in chunks and read in any sizes, oldest first: the buffer
// of a pipe (process/pipe.ts) and of the host's stdin (host-input.ts).
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  /** Bytes queued. */
  size = 0;

  /** Queues `chunk` (kept as it is: the caller gives up the bytes). */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** Moves up to `buffer.length` of the oldest bytes into `buffer`; how many. */
  take(buffer: Uint8Array): number {
    let done = 0;
    while (done < buffer.length && this.chunks.length > 0) {
      const chunk = this.chunks[0] as Uint8Array;
      const n = Math.min(chunk.length, buffer.length - done);
      buffer.set(chunk.subarray(0, n), done);
      done += n;
      if (n === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(n);
    }
    this.size -= done;
    return done;
  }
}
