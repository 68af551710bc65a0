// An open directory of any backend: getdents64(2) lists it through the
// backend at read time, so entries created or removed after open(2) show
// when the listing restarts at offset 0 (as rewinddir(3) promises).
import { EISDIR } from "../errno.js";
import type { DirEntry, FsBackend, VfsNode, VfsStat } from "./types.js";

export class DirectoryNode implements VfsNode {
  readonly seekable = true;

  constructor(
    private readonly backend: FsBackend,
    private readonly path: string,
  ) {}

  pread(): number {
    return -EISDIR;
  }

  pwrite(): number {
    return -EISDIR;
  }

  stat(): VfsStat | number {
    return this.backend.lstat(this.path);
  }

  truncate(): number {
    return -EISDIR;
  }

  readdir(): readonly DirEntry[] | number {
    return this.backend.readdir(this.path);
  }

  close(): void {}
}
