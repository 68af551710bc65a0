// The process's standard input, output and error as nodes: the host's fds
// 0–2, or the callbacks the embedder gives for output (tests, the exec
// command's capture). They are streams (no offset: lseek(2) is ESPIPE), and
// fstat(2) reports what the host fd is, so the guest's stdio buffers as it
// would natively (line-buffered on a terminal, fully on a pipe or file).
// Standard input that can keep a reader waiting (a pipe, a terminal) is read
// through host-input.ts, so only the reading process waits.
import * as fs from "node:fs";
import * as tty from "node:tty";
import { isMainThread } from "node:worker_threads";
import { EAGAIN, ENOTDIR } from "../errno.js";
import { attempt, hostStat } from "./host-backend.js";
import { hostInput, type HostInput } from "./host-input.js";
import type { VfsNode, VfsStat } from "./types.js";

/** A write to the host's stdout or stderr found its pipe full (and waits to be retried). */
let outputBlocked = false;

/** Whether a process waits for room in the host's output pipe: the scheduler polls for it. */
export function hostOutputBlocked(): boolean {
  return outputBlocked;
}

export class StdioNode implements VfsNode {
  readonly seekable = false;

  constructor(
    readonly hostFd: 0 | 1 | 2,
    private readonly sink?: (bytes: Uint8Array) => void,
  ) {}

  /** Whether the host's fd 0 is a pipe, socket or terminal (asked once). */
  private streamed: boolean | undefined;

  /**
   * The asynchronous reader when this is stdin and the host's fd 0 can
   * keep a reader waiting; undefined for a regular file or a device such as
   * /dev/null (read directly), and in a worker thread (whose process.stdin
   * is not fd 0).
   */
  get input(): HostInput | undefined {
    if (this.hostFd !== 0 || !isMainThread) return undefined;
    this.streamed ??= waitsForInput();
    return this.streamed ? hostInput() : undefined;
  }

  pread(buffer: Uint8Array): number {
    const input = this.input;
    if (input !== undefined) return input.read(buffer);
    try {
      return fs.readSync(this.hostFd, buffer, 0, buffer.length, null);
    } catch (err) {
      // A non-blocking or closed host stdin reads as end of file.
      const code = (err as { code?: string }).code;
      if (code === "EAGAIN" || code === "EOF") return 0;
      return attempt(() => {
        throw err;
      });
    }
  }

  pwrite(buffer: Uint8Array): number {
    if (this.sink !== undefined) {
      this.sink(buffer.slice());
      return buffer.length;
    }
    return attempt(() => {
      let done = 0;
      while (done < buffer.length) {
        try {
          done += fs.writeSync(this.hostFd, buffer, done, buffer.length - done);
        } catch (err) {
          // A full non-blocking host pipe: what fitted counts; with nothing
          // written the call blocks (syscalls/index.ts) and is retried soon.
          if ((err as { code?: string }).code !== "EAGAIN") throw err;
          if (done > 0) return done;
          outputBlocked = true;
          return -EAGAIN;
        }
      }
      outputBlocked = false;
      return done;
    });
  }

  stat(): VfsStat | number {
    return attempt(() => hostStat(fs.fstatSync(this.hostFd)));
  }

  truncate(size: number): number {
    return attempt(() => (fs.ftruncateSync(this.hostFd, size), 0));
  }

  readdir(): number {
    return -ENOTDIR;
  }

  /** poll(2) of stdin: whether a read would not wait. */
  get readable(): boolean {
    return this.input?.readable ?? true;
  }

  /** The host's stdio stays open for the embedder. */
  close(): void {}
}

/** fd 0 is a pipe, a socket or a terminal: a read may wait for the other end. */
function waitsForInput(): boolean {
  try {
    const st = fs.fstatSync(0);
    return st.isFIFO() || st.isSocket() || (st.isCharacterDevice() && tty.isatty(0));
  } catch {
    return false;
  }
}
