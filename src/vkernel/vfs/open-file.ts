// An open file description (open(2) "open file description"): the node, the
// access mode and status flags, and the file offset that dup(2)'d
// descriptors share. read(2)/write(2) move the offset, pread(2)/pwrite(2)
// do not, O_APPEND writes at the end every time, and a directory's offset
// counts the entries getdents64(2) has returned.
import { EBADF, EINVAL, EISDIR, ENOTDIR, ESPIPE } from "../errno.js";
import { O_ACCMODE, O_APPEND, O_PATH, O_RDWR, O_WRONLY, typeOfMode } from "./constants.js";
import type { DirEntry, VfsNode, VfsStat } from "./types.js";
import { noteWrite } from "./write-log.js";

const SEEK_SET = 0;
const SEEK_CUR = 1;
const SEEK_END = 2;

export class OpenFile {
  /** Byte offset (files) or entries consumed (directories). */
  position = 0;
  /** Descriptors referring to this description; the node closes at zero. */
  private references = 1;
  /** getdents64 snapshot, taken when reading starts at offset 0. */
  private listing: readonly DirEntry[] = [];
  /** The file's (dev, ino), read at its first write (write-log.ts). */
  private identity: { dev: number; ino: number } | undefined;

  constructor(
    readonly node: VfsNode,
    /** The canonical guest path it was opened at (dirfd-relative lookups start here). */
    readonly path: string,
    /** open(2) flags; F_SETFL changes the status flags. */
    public flags: number,
    readonly directory: boolean,
  ) {}

  get readable(): boolean {
    return (this.flags & O_PATH) === 0 && (this.flags & O_ACCMODE) !== O_WRONLY;
  }

  get writable(): boolean {
    const access = this.flags & O_ACCMODE;
    return (this.flags & O_PATH) === 0 && (access === O_WRONLY || access === O_RDWR);
  }

  /** dup(2) and friends: one more descriptor shares this description. */
  retain(): this {
    this.references++;
    return this;
  }

  /** close(2) of one descriptor. */
  release(): void {
    if (--this.references === 0) this.node.close();
  }

  read(buffer: Uint8Array): number {
    if (!this.readable) return -EBADF;
    if (this.directory) return -EISDIR;
    if (!this.node.seekable) return this.node.pread(buffer, 0);
    const n = this.node.pread(buffer, this.position);
    if (n > 0) this.position += n;
    return n;
  }

  pread(buffer: Uint8Array, position: number): number {
    if (!this.readable) return -EBADF;
    if (this.directory) return -EISDIR;
    if (!this.node.seekable) return -ESPIPE;
    if (position < 0) return -EINVAL;
    return this.node.pread(buffer, position);
  }

  write(buffer: Uint8Array): number {
    if (!this.writable) return -EBADF;
    if (!this.node.seekable) return this.node.pwrite(buffer, 0);
    if ((this.flags & O_APPEND) !== 0) {
      const size = this.size();
      if (size < 0) return size;
      this.position = size;
    }
    const n = this.node.pwrite(buffer, this.position);
    if (n > 0) {
      this.position += n;
      this.changed();
    }
    return n;
  }

  /** Counts a change of the file's content (write-log.ts). */
  private changed(): void {
    if (this.identity === undefined) {
      const st = this.node.stat();
      if (typeof st === "number") return;
      this.identity = { dev: st.dev, ino: st.ino };
    }
    noteWrite(this.identity.dev, this.identity.ino);
  }

  pwrite(buffer: Uint8Array, position: number): number {
    if (!this.writable) return -EBADF;
    if (!this.node.seekable) return -ESPIPE;
    if (position < 0) return -EINVAL;
    // pwrite(2) BUGS: on Linux, O_APPEND appends whatever the offset says.
    if ((this.flags & O_APPEND) !== 0) {
      const size = this.size();
      if (size < 0) return size;
      position = size;
    }
    const n = this.node.pwrite(buffer, position);
    if (n > 0) this.changed();
    return n;
  }

  /** lseek(2): the new offset, or -errno. */
  seek(offset: number, whence: number): number {
    if (!this.node.seekable) return -ESPIPE;
    let base: number;
    if (whence === SEEK_SET) base = 0;
    else if (whence === SEEK_CUR) base = this.position;
    else if (whence === SEEK_END) {
      base = this.directory ? this.listing.length : this.size();
      if (base < 0) return base;
    } else return -EINVAL;
    if (base + offset < 0) return -EINVAL;
    this.position = base + offset;
    return this.position;
  }

  stat(): VfsStat | number {
    return this.node.stat();
  }

  truncate(size: number): number {
    if (!this.writable || this.directory) return -EINVAL;
    if (size < 0) return -EINVAL;
    const result = this.node.truncate(size);
    if (result === 0) this.changed();
    return result;
  }

  /**
   * The directory's entries from the current offset on, "." and ".." first
   * (getdents64(2)); `consume` moves the offset past the ones returned.
   */
  entries(): readonly DirEntry[] | number {
    if (!this.directory) return -ENOTDIR;
    if (this.position === 0) {
      const listed = this.node.readdir();
      if (typeof listed === "number") return listed;
      const self = this.node.stat();
      const ino = typeof self === "number" ? 0 : self.ino;
      this.listing = [
        { name: ".", ino, type: "directory" },
        { name: "..", ino, type: "directory" },
        ...listed,
      ];
    }
    return this.listing.slice(this.position);
  }

  consume(count: number): void {
    this.position += count;
  }

  private size(): number {
    const st = this.node.stat();
    return typeof st === "number" ? st : st.size;
  }
}

/** True when a stat value names a directory. */
export const isDirectoryStat = (st: VfsStat): boolean => typeOfMode(st.mode) === "directory";
