// The flattened root filesystem of an image: every path after all layers and
// whiteouts are applied, with where each file's bytes live. Built in one
// streaming pass over the layers; file bytes are read on demand.
import type { Readable } from "node:stream";

export type EntryType = "file" | "directory" | "symlink" | "hardlink" | "char" | "block" | "fifo";

/** Where a regular file's bytes live: content-addressed by BLAKE3. */
export interface ContentRef {
  /** BLAKE3 of the bytes, 64 lowercase hex digits. */
  readonly blake3: string;
  readonly size: number;
}

export interface RootfsEntry {
  /** Absolute, normalised path inside the image: "/", "/usr/bin/ls". */
  readonly path: string;
  readonly type: EntryType;
  /** Permission bits including setuid/setgid/sticky (mode & 0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes of a regular file (0 for other types). */
  readonly size: number;
  /** Modification time, seconds since the epoch. */
  readonly mtime: number;
  /** symlink: the target as stored; hardlink: the absolute path it links to. */
  readonly linkTarget?: string;
  readonly devMajor?: number;
  readonly devMinor?: number;
  /** Regular files and hardlinks to them: the content. */
  readonly content?: ContentRef;
  /** Index of the layer (0 = base) the entry comes from. */
  readonly layer: number;
}

export interface ResolveOptions {
  /** Do not follow a symlink in the final component (lstat vs stat). */
  readonly noFollow?: boolean;
}

export interface RootfsView {
  /** Every entry, sorted by path (byte order). */
  entries(): IterableIterator<RootfsEntry>;
  /** Regular files only (hardlinks reported at their own path with the target's content). */
  files(): IterableIterator<RootfsEntry>;
  /** The entry at exactly this path, not following symlinks in any component. */
  lstat(path: string): RootfsEntry | undefined;
  /**
   * The entry a path names after following symlinks in every component (and
   * the last, unless noFollow), as a chroot would: ".." at the root stays at
   * the root and absolute symlink targets start at the image root, so
   * resolution never leaves the image. undefined if the path does not exist;
   * throws PATH_ESCAPE after 40 symlinks (ELOOP).
   */
  resolve(path: string, options?: ResolveOptions): RootfsEntry | undefined;
  /** The whole content of a regular file. */
  readFile(entry: RootfsEntry): Promise<Buffer>;
  /** Bytes [start, end) of a regular file (end defaults to its size). */
  readRange(entry: RootfsEntry, start: number, end?: number): Promise<Buffer>;
  createReadStream(entry: RootfsEntry): Readable;
  readonly fileCount: number;
  /** Sum of the sizes of regular files. */
  readonly totalBytes: number;
}
