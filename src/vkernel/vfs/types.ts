// The virtual filesystem the file syscalls work on (ARCHITECTURE.md
// "vkernel"): a `Vfs` resolves guest paths — always inside the guest root —
// and opens them; a `FsBackend` serves one tree (a host directory, an image
// with its writable upper layer, /dev) at already-resolved paths; a `VfsNode`
// is what an open file description reads and writes. Results are values or
// -errno, never exceptions, because the vkernel returns -errno to the guest.
import type { OpenFile } from "./open-file.js";

export type NodeType = "file" | "directory" | "symlink" | "char" | "block" | "fifo" | "socket";

/** struct stat as stat(2) describes it; times in milliseconds. */
export interface VfsStat {
  readonly dev: number;
  readonly ino: number;
  /** Type bits (S_IFMT) and permission bits, as st_mode. */
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly rdev: number;
  readonly size: number;
  readonly blksize: number;
  readonly blocks: number;
  readonly atimeMs: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

/** statfs(2)'s struct statfs fields a tree reports (block counts in `bsize` units). */
export interface FsStats {
  /** f_type: the filesystem's magic number (linux/magic.h). */
  readonly type: number;
  readonly bsize: number;
  readonly blocks: number;
  readonly bfree: number;
  readonly bavail: number;
  readonly files: number;
  readonly ffree: number;
  readonly namelen: number;
  /** f_flags: ST_RDONLY (1), ST_NOSUID (2), … (statfs(2)). */
  readonly flags: number;
}

/**
 * A change of inode attributes: chmod(2) (permission bits), chown(2) and
 * utimensat(2) (times in ms). Absent fields stay as they are.
 */
export interface AttributeChange {
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly atimeMs?: number;
  readonly mtimeMs?: number;
}

/** One directory entry as getdents64(2) reports it (without "." and ".."). */
export interface DirEntry {
  readonly name: string;
  readonly ino: number;
  readonly type: NodeType;
}

/** An opened file, directory or device: what open file descriptions share. */
export interface VfsNode {
  /**
   * False for streams (terminals, pipes): they have no offset, and lseek(2)
   * and pread(2) fail with ESPIPE.
   */
  readonly seekable: boolean;
  /** Bytes read into `buffer` at `position` (0 at end of file), or -errno. */
  pread(buffer: Uint8Array, position: number): number;
  /** Bytes written from `buffer` at `position`, or -errno. */
  pwrite(buffer: Uint8Array, position: number): number;
  stat(): VfsStat | number;
  truncate(size: number): number;
  /** Entries of a directory, sorted by name; -ENOTDIR for other nodes. */
  readdir(): readonly DirEntry[] | number;
  /** Called once, when the last descriptor of the last open file description closes. */
  close(): void;
  /** The host file descriptor behind the node, when there is one. */
  readonly hostFd?: number;
  /**
   * fchmod(2)/fchown(2)/futimens(3) on the node itself, for nodes that are
   * their own inode (host and in-memory files); others are changed by path.
   */
  setAttributes?(change: AttributeChange): number;
}

/** How a backend opens an existing node; access checks are the Vfs's. */
export interface OpenIntent {
  readonly write: boolean;
  readonly truncate: boolean;
}

/**
 * One tree of files. Paths are absolute and normalised within the tree
 * ("/", "/etc/passwd"), every parent already resolved to a directory: the
 * backend never follows symlinks itself.
 */
export interface FsBackend {
  lstat(path: string): VfsStat | number;
  readlink(path: string): string | number;
  readdir(path: string): readonly DirEntry[] | number;
  /** Opens an existing node that is not a symlink. */
  open(path: string, intent: OpenIntent): VfsNode | number;
  /** Creates and opens a new regular file (the path does not exist). */
  create(path: string, mode: number): VfsNode | number;
  mkdir(path: string, mode: number): number;
  unlink(path: string): number;
  rmdir(path: string): number;
  /** Both paths in this backend; the target's parent exists. */
  rename(from: string, to: string): number;
  symlink(target: string, path: string): number;
  truncate(path: string, size: number): number;
  /** link(2): `from` is an existing non-directory, `to` does not exist. */
  link(from: string, to: string): number;
  /** chmod(2)/chown(2)/utimensat(2) of the node itself (a symlink is not followed). */
  setAttributes(path: string, change: AttributeChange): number;
  statfs(path: string): FsStats | number;
}

/** Where a relative path starts: an absolute guest directory path (the cwd or a dirfd's). */
export type BaseDir = string;

/** The filesystem as the syscalls see it: guest paths in, -errno out. */
export interface Vfs {
  /** open(2) with Linux flags; `mode` is already masked by the umask. */
  open(path: string, flags: number, mode: number, base?: BaseDir): OpenFile | number;
  stat(path: string, noFollow: boolean, base?: BaseDir): VfsStat | number;
  readlink(path: string, base?: BaseDir): string | number;
  /** The canonical absolute path of an existing directory (chdir(2)). */
  directory(path: string, base?: BaseDir): string | number;
  mkdir(path: string, mode: number, base?: BaseDir): number;
  unlink(path: string, base?: BaseDir): number;
  rmdir(path: string, base?: BaseDir): number;
  rename(from: string, to: string, fromBase?: BaseDir, toBase?: BaseDir): number;
  symlink(target: string, path: string, base?: BaseDir): number;
  truncate(path: string, size: number, base?: BaseDir): number;
  /** link(2)/linkat(2); `follow` is AT_SYMLINK_FOLLOW for the existing path. */
  link(from: string, to: string, follow: boolean, fromBase?: BaseDir, toBase?: BaseDir): number;
  setAttributes(path: string, change: AttributeChange, noFollow: boolean, base?: BaseDir): number;
  statfs(path: string, base?: BaseDir): FsStats | number;
  /**
   * The canonical path an existing path names, symlinks followed, and
   * whether its resolution consulted the root tree alone — so the same
   * answer holds for every process of the run (no /proc/self, no /dev).
   */
  lookup(path: string, base?: BaseDir): Lookup | number;
}

export interface Lookup {
  readonly path: string;
  readonly stat: VfsStat;
  readonly rootOnly: boolean;
}
