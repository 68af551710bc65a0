// An open directory of any backend: getdents64(2) lists it through the
// backend at read time, so entries created or removed after open(2) show
// when the listing restarts at offset 0 (as rewinddir(3) promises).
import { EISDIR } from "../errno.js";
import type { AttributeChange, DirEntry, FsBackend, VfsNode, VfsStat } from "./types.js";

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

  /** fchmod(2)/fchown(2)/futimens(3) on an open directory: through its path. */
  setAttributes(change: AttributeChange): number {
    return this.backend.setAttributes(this.path, change);
  }

  readdir(): readonly DirEntry[] | number {
    return this.backend.readdir(this.path);
  }

  close(): void {}
}
