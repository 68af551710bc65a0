// Open files of the image Vfs: an image (lower) file read lazily through
// LowerContent, and an upper file held in memory. A descriptor opened
// read-only on an image file keeps reading the image's bytes even if the
// path is copied up later (overlayfs's behaviour without "metacopy").
import { ENOTDIR } from "../errno.js";
import { EIO } from "./constants.js";
import type { LowerContent } from "./lower-content.js";
import type { ContentRef } from "../../oci/rootfs/types.js";
import { changeMeta, type UpperMeta } from "./upper-tree.js";
import type { MemoryBytes } from "./memory-bytes.js";
import type { AttributeChange, VfsNode, VfsStat } from "./types.js";

export class LowerFileNode implements VfsNode {
  readonly seekable = true;

  constructor(
    private readonly content: ContentRef,
    private readonly source: LowerContent,
    private readonly statOf: () => VfsStat,
  ) {}

  pread(buffer: Uint8Array, position: number): number {
    if (position >= this.content.size || buffer.length === 0) return 0;
    try {
      const bytes = this.source.read(this.content, position, position + buffer.length);
      buffer.set(bytes);
      return bytes.length;
    } catch {
      // The content store lost the blob: the guest sees an I/O error (read(2) EIO).
      return -EIO;
    }
  }

  pwrite(): number {
    // Opened read-only (writers copy up first); open(2) already checked the mode.
    return -EIO;
  }

  stat(): VfsStat {
    return this.statOf();
  }

  truncate(): number {
    return -EIO;
  }

  readdir(): number {
    return -ENOTDIR;
  }

  close(): void {}
}

export class MemoryFileNode implements VfsNode {
  readonly seekable = true;

  constructor(
    private readonly bytes: MemoryBytes,
    private readonly meta: UpperMeta,
    private readonly statOf: () => VfsStat,
    private readonly now: () => number,
  ) {}

  pread(buffer: Uint8Array, position: number): number {
    return this.bytes.read(buffer, position);
  }

  pwrite(buffer: Uint8Array, position: number): number {
    const n = this.bytes.write(buffer, position);
    // write(2) updates st_mtime and st_ctime (inode(7)).
    this.meta.mtimeMs = this.meta.ctimeMs = this.now();
    return n;
  }

  stat(): VfsStat {
    return this.statOf();
  }

  truncate(size: number): number {
    this.bytes.truncate(size);
    this.meta.mtimeMs = this.meta.ctimeMs = this.now();
    return 0;
  }

  /** fchmod(2) and friends on the inode itself, even after it is unlinked. */
  setAttributes(change: AttributeChange): number {
    changeMeta(this.meta, change, false, this.now());
    return 0;
  }

  readdir(): number {
    return -ENOTDIR;
  }

  close(): void {}
}
