// /proc as far as glibc, shells and ps need it (ARCHITECTURE.md "vkernel":
// minimal /proc): the tree proc-tree.ts describes, served to one process
// (the reader, whose /proc/self it is) as an FsBackend. File contents come
// from ProcessViews (proc-content.ts, proc-stat.ts) and are rendered when a
// file is opened; the tree is read-only, as procfs mostly is.
import { EACCES, EINVAL, ENOENT, ENOTDIR } from "../errno.js";
import { makeStat } from "./constants.js";
import type { ProcessView } from "./proc-content.js";
import { procEntry, type ProcEntry } from "./proc-tree.js";
import type {
  DirEntry,
  FsBackend,
  FsStats,
  NodeType,
  OpenIntent,
  VfsNode,
  VfsStat,
} from "./types.js";

/** statfs(2) f_type of procfs (linux/magic.h PROC_SUPER_MAGIC). */
const PROC_SUPER_MAGIC = 0x9fa0;
/** st_dev of /proc (an anonymous device, as procfs has). */
const PROC_DEV = 0x16;

export class ProcBackend implements FsBackend {
  /** Fixed times: procfs reports the time an inode was first looked up. */
  private readonly mountedMs = Date.now();

  /** `view` is the reader: /proc/self leads to its directory. */
  constructor(private readonly view: ProcessView) {}

  /** The entry at an inner path ("/", "/self", "/<pid>/fd/3"), or undefined. */
  private entry(path: string): ProcEntry | undefined {
    return procEntry(this.view, path);
  }

  lstat(path: string): VfsStat | number {
    const e = this.entry(path);
    if (e === undefined) return -ENOENT;
    return this.statOf(e);
  }

  readlink(path: string): string | number {
    const e = this.entry(path);
    if (e === undefined) return -ENOENT;
    if (e.type !== "symlink") return -EINVAL;
    return e.target() ?? -ENOENT;
  }

  readdir(path: string): readonly DirEntry[] | number {
    const e = this.entry(path);
    if (e === undefined) return -ENOENT;
    return e.type === "directory" ? e.list() : -ENOTDIR;
  }

  open(path: string, intent: OpenIntent): VfsNode | number {
    const e = this.entry(path);
    if (e === undefined) return -ENOENT;
    if (e.type !== "file") return -EINVAL;
    if (intent.write || intent.truncate) return -EACCES;
    return new ProcFileNode(Buffer.from(e.render()), this.statOf(e));
  }

  create(): number {
    return -EACCES;
  }
  mkdir(): number {
    return -EACCES;
  }
  unlink(): number {
    return -EACCES;
  }
  rmdir(): number {
    return -EACCES;
  }
  rename(): number {
    return -EACCES;
  }
  symlink(): number {
    return -EACCES;
  }
  truncate(): number {
    return -EACCES;
  }
  link(): number {
    return -EACCES;
  }
  setAttributes(): number {
    return -EACCES;
  }

  statfs(): FsStats {
    return {
      type: PROC_SUPER_MAGIC,
      bsize: 4096,
      blocks: 0,
      bfree: 0,
      bavail: 0,
      files: 0,
      ffree: 0,
      namelen: 255,
      flags: 0x20,
    };
  }

  private statOf(e: ProcEntry): VfsStat {
    const type: NodeType = e.type;
    return makeStat({
      dev: PROC_DEV,
      ino: e.ino,
      type,
      permissions: e.permissions,
      // procfs files report size 0; readers read until end of file.
      size: e.type === "symlink" ? Buffer.byteLength(e.target() ?? "") : 0,
      nlink: type === "directory" ? 2 : 1,
      uid: e.uid,
      gid: e.gid,
      mtimeMs: this.mountedMs,
    });
  }
}

/** A /proc file's contents, rendered once at open (a consistent snapshot for its reader). */
class ProcFileNode implements VfsNode {
  readonly seekable = true;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly st: VfsStat,
  ) {}

  pread(buffer: Uint8Array, position: number): number {
    if (position >= this.bytes.length) return 0;
    const part = this.bytes.subarray(position, position + buffer.length);
    buffer.set(part);
    return part.length;
  }

  pwrite(): number {
    return -EACCES;
  }

  stat(): VfsStat {
    return this.st;
  }

  truncate(): number {
    return -EACCES;
  }

  readdir(): number {
    return -ENOTDIR;
  }

  close(): void {}
}
