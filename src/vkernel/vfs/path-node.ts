// What an O_PATH descriptor of a symlink refers to (open(2) O_PATH with
// O_NOFOLLOW): the link itself, which can be fstat'd and used as a dirfd
// with AT_EMPTY_PATH, but not read or written. glibc's fchmodat with
// AT_SYMLINK_NOFOLLOW relies on it to tell a symlink apart.
import { EBADF, ENOTDIR } from "../errno.js";
import type { FsBackend, VfsNode, VfsStat } from "./types.js";

export class PathNode implements VfsNode {
  readonly seekable = false;

  constructor(
    private readonly backend: FsBackend,
    private readonly path: string,
  ) {}

  pread(): number {
    return -EBADF;
  }

  pwrite(): number {
    return -EBADF;
  }

  stat(): VfsStat | number {
    return this.backend.lstat(this.path);
  }

  truncate(): number {
    return -EBADF;
  }

  readdir(): number {
    return -ENOTDIR;
  }

  close(): void {}
}
