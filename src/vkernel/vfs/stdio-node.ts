// The process's standard input, output and error as nodes: the host's fds
// 0–2, or the callbacks the embedder gives for output (tests, the exec
// command's capture). They are streams (no offset: lseek(2) is ESPIPE), and
// fstat(2) reports what the host fd is, so the guest's stdio buffers as it
// would natively (line-buffered on a terminal, fully on a pipe or file).
import * as fs from "node:fs";
import { ENOTDIR } from "../errno.js";
import { attempt, hostStat } from "./host-backend.js";
import type { VfsNode, VfsStat } from "./types.js";

export class StdioNode implements VfsNode {
  readonly seekable = false;

  constructor(
    readonly hostFd: 0 | 1 | 2,
    private readonly sink?: (bytes: Uint8Array) => void,
  ) {}

  pread(buffer: Uint8Array): number {
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
        done += fs.writeSync(this.hostFd, buffer, done, buffer.length - done);
      }
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

  /** The host's stdio stays open for the embedder. */
  close(): void {}
}
