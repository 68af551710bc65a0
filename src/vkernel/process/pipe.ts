// pipe(2)/pipe2(2) (pipe(7)): a 64 KiB buffer between a read end and a write
// end. A read of an empty pipe with writers left and a write to a full pipe
// with readers left answer -EAGAIN; for a blocking file the syscall layer
// turns that into "block" (syscalls/index.ts) and the process sleeps until
// the scheduler finds the call can complete. A read with no writers left is
// end of file; a write with no readers left is EPIPE, and the writer gets
// SIGPIPE (syscalls/fs-io.ts callers see -EPIPE; process/signal-send.ts).
import { EAGAIN, EPIPE, ESPIPE } from "../errno.js";
import { ByteQueue } from "../vfs/byte-queue.js";
import type { DirEntry, VfsNode, VfsStat } from "../vfs/types.js";

/** open(2) status flag (asm-generic/fcntl.h). */
export const O_NONBLOCK = 0o4000;
/** pipe(7) "Pipe capacity": the Linux default. */
export const PIPE_CAPACITY = 65536;
const S_IFIFO = 0o010000;

let nextInode = 1;

export class PipeBuffer {
  private readonly queue = new ByteQueue();
  readers = 1;
  writers = 1;
  readonly ino = nextInode++;

  /** Bytes in the pipe. */
  get size(): number {
    return this.queue.size;
  }

  read(buffer: Uint8Array): number {
    if (this.size === 0) return this.writers === 0 ? 0 : -EAGAIN;
    return this.queue.take(buffer);
  }

  write(buffer: Uint8Array): number {
    if (this.readers === 0) return -EPIPE;
    const room = PIPE_CAPACITY - this.size;
    if (room === 0) return -EAGAIN;
    // pipe(7): writes of up to PIPE_BUF (4096) bytes are atomic.
    if (buffer.length <= 4096 && buffer.length > room) return -EAGAIN;
    const n = Math.min(room, buffer.length);
    this.queue.push(buffer.slice(0, n));
    return n;
  }

  /** poll(2): data to read, or end of file. */
  get readable(): boolean {
    return this.size > 0 || this.writers === 0;
  }

  /** poll(2): room to write, or a write would fail with EPIPE. */
  get writable(): boolean {
    return this.size < PIPE_CAPACITY || this.readers === 0;
  }
}

/** One end of a pipe as a node; closing the last descriptor of an end closes it. */
export class PipeEnd implements VfsNode {
  readonly seekable = false;

  constructor(
    readonly pipe: PipeBuffer,
    readonly end: "read" | "write",
  ) {}

  pread(buffer: Uint8Array): number {
    return this.end === "read" ? this.pipe.read(buffer) : -9;
  }

  pwrite(buffer: Uint8Array): number {
    return this.end === "write" ? this.pipe.write(buffer) : -9;
  }

  stat(): VfsStat {
    const now = Date.now();
    return {
      dev: 0x0c,
      ino: this.pipe.ino,
      mode: S_IFIFO | 0o600,
      nlink: 1,
      uid: 0,
      gid: 0,
      rdev: 0,
      size: 0,
      blksize: 4096,
      blocks: 0,
      atimeMs: now,
      mtimeMs: now,
      ctimeMs: now,
    };
  }

  truncate(): number {
    return -ESPIPE;
  }

  readdir(): readonly DirEntry[] | number {
    return -20;
  }

  close(): void {
    if (this.end === "read") this.pipe.readers--;
    else this.pipe.writers--;
  }
}
