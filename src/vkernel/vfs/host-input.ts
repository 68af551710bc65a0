// The host's standard input when it is a stream (a pipe, a terminal, a
// socket): read asynchronously into a buffer, so a guest read of an empty
// stdin blocks only the reading process (-EAGAIN, which the syscall layer
// turns into BLOCK) and the scheduler runs the others — a background job
// keeps running while the shell waits for its next command — and sleeps
// until input arrives when nothing else can run. A regular file or
// /dev/null never blocks and is read directly (stdio-node.ts).
//
// Reading starts at the guest's first read or poll of stdin, never before,
// so a run that does not read stdin leaves it to the embedder; between runs
// the stream is paused, so the host process can exit.
import { EAGAIN, EIO } from "../errno.js";
import { ByteQueue } from "./byte-queue.js";

/** Above this many buffered bytes the host stream is paused until the guest reads. */
const HIGH_WATER = 1 << 20;

export class HostInput {
  private readonly queue = new ByteQueue();
  private started = false;
  private ended = false;
  private failed = false;
  private readonly listeners = new Set<() => void>();

  private stream: NodeJS.ReadableStream | undefined;

  /** `open` gives the stream at the first read (process.stdin is made on first access). */
  constructor(private readonly openStream: () => NodeJS.ReadableStream) {}

  /** Bytes that arrived and are not read yet (FIONREAD). */
  get buffered(): number {
    return this.queue.size;
  }

  /** Bytes into `buffer`; 0 at end of input; -EAGAIN when nothing has arrived yet. */
  read(buffer: Uint8Array): number {
    this.start();
    if (this.queue.size === 0) {
      if (this.failed) return -EIO;
      return this.ended ? 0 : -EAGAIN;
    }
    const done = this.queue.take(buffer);
    if (this.queue.size < HIGH_WATER && this.listeners.size > 0 && !this.ended) {
      this.stream?.resume();
    }
    return done;
  }

  /** poll(2): a read would not block (data, end of input or an error). */
  get readable(): boolean {
    this.start();
    return this.queue.size > 0 || this.ended || this.failed;
  }

  /** Input may still arrive: a process waiting for it is not deadlocked. */
  get open(): boolean {
    return this.started && !this.ended && !this.failed;
  }

  /**
   * A run's interest: `wake` is called when input arrives or ends. The
   * stream reads only while some run listens; the returned function ends
   * the interest.
   */
  listen(wake: () => void): () => void {
    this.listeners.add(wake);
    if (!this.ended && this.queue.size < HIGH_WATER) this.stream?.resume();
    return () => {
      this.listeners.delete(wake);
      if (this.listeners.size === 0) this.stream?.pause();
    };
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    const stream = this.openStream();
    this.stream = stream;
    stream.on("data", (chunk: Buffer | string) => {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      this.queue.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
      if (this.queue.size >= HIGH_WATER) stream.pause();
      this.notify();
    });
    stream.on("end", () => {
      this.ended = true;
      this.notify();
    });
    stream.on("error", () => {
      this.failed = true;
      this.notify();
    });
    if (this.listeners.size === 0) stream.pause();
    else stream.resume();
  }

  private notify(): void {
    for (const wake of this.listeners) wake();
  }
}

let shared: HostInput | undefined;

/** The one HostInput over process.stdin. */
export function hostInput(): HostInput {
  shared ??= new HostInput(() => process.stdin);
  return shared;
}
