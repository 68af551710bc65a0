// One upstream download of one blob, shared by every client that asks for it
// while it runs. The bytes go to a temporary file of the cache; each client
// tails that file at its own pace (fileRangeStream), so a slow client never
// stalls the download and a client that disconnects only closes its own
// reader. The download runs on its own AbortSignal, not any client's.
// The last byte of the blob is only readable once the whole blob is verified
// and committed: a client can never receive a complete body of wrong bytes.
import { open, type FileHandle } from "node:fs/promises";
import type { Readable } from "node:stream";
import type { Digest } from "../../src/oci/digest.js";
import type { BlobWriter, CacheStore } from "./cache-store.js";
import { fileRangeStream, type GrowingSource } from "./file-range-stream.js";

/** The upstream's answer: the blob's bytes from offset 0 and its size. */
export interface BlobOrigin {
  readonly stream: Readable;
  readonly size: number;
}

type State = "starting" | "running" | "committed" | "failed";

export class BlobDownload implements GrowingSource {
  /** Resolves with the blob's size once the upstream answered; rejects with its error. */
  readonly ready: Promise<number>;
  /** Resolves when the blob is verified and cached; rejects when the download failed. */
  readonly done: Promise<void>;
  private state: State = "starting";
  private failure: unknown;
  private writer: BlobWriter | undefined;
  private size = 0;
  private wake = deferred();
  private readonly controller = new AbortController();

  constructor(
    readonly digest: Digest,
    private readonly store: CacheStore,
    fetchOrigin: (signal: AbortSignal) => Promise<BlobOrigin>,
  ) {
    const origin = fetchOrigin(this.controller.signal);
    this.ready = origin.then((o) => o.size);
    this.done = this.run(origin);
    // Callers that never await these must not crash the process.
    this.ready.catch(() => undefined);
    this.done.catch(() => undefined);
  }

  /** Stops the download (proxy shutdown); readers fail, nothing is cached. */
  abort(reason?: unknown): void {
    this.controller.abort(reason);
  }

  readable(): number {
    if (this.state === "committed") return this.size;
    if (this.state !== "running" || !this.writer) return 0;
    return Math.min(this.writer.written, this.size - 1);
  }

  changed(): Promise<void> {
    if (this.state === "failed") return Promise.reject(this.failure);
    return this.wake.promise;
  }

  /**
   * Bytes [start, end] of the blob as a stream that follows the download.
   * Call after `ready` resolved.
   */
  stream(start: number, end: number): ReadableStream<Uint8Array> {
    return fileRangeStream(() => this.openForRead(), start, end, this);
  }

  private async openForRead(): Promise<FileHandle> {
    while (this.state === "starting") await this.changed();
    if (this.state === "failed") throw this.failure;
    if (this.state !== "committed" && this.writer) {
      try {
        return await open(this.writer.tempPath, "r");
      } catch (err) {
        // The temp file was renamed into the cache (or removed) meanwhile.
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        // Re-read: the download moved on while open() waited.
        if (this.currentState() === "failed") throw this.failure;
      }
    }
    const cached = await this.store.openBlob(this.digest);
    if (!cached)
      throw new Error(`blob ${this.digest.toString()} left the cache before it was read`);
    return cached.handle;
  }

  /** The state, read through a call so TypeScript does not narrow it across awaits. */
  private currentState(): State {
    return this.state;
  }

  private async run(originPromise: Promise<BlobOrigin>): Promise<void> {
    let writer: BlobWriter | undefined;
    try {
      const origin = await originPromise;
      this.size = origin.size;
      writer = await this.store.createBlobWriter(this.digest, origin.size, {
        signal: this.controller.signal,
      });
      this.writer = writer;
      this.state = "running";
      this.notify();
      for await (const chunk of origin.stream) {
        this.controller.signal.throwIfAborted();
        await writer.write(chunk as Uint8Array);
        this.notify();
      }
      await writer.commit();
      this.state = "committed";
      this.notify();
    } catch (err) {
      this.state = "failed";
      this.failure = err;
      const current = this.wake;
      current.reject(err);
      await writer?.abort();
      throw err;
    }
  }

  private notify(): void {
    const current = this.wake;
    this.wake = deferred();
    current.resolve();
  }
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
