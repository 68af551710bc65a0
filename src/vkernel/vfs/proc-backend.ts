// /proc as far as glibc and shells need it (ARCHITECTURE.md "vkernel":
// minimal /proc/self): /proc/self, a symlink to the process's own
// /proc/<pid>, holding exe and cwd (symlinks), fd/ (a symlink per open
// descriptor), cmdline, comm, maps and status. Other pids do not exist. The
// contents come from a ProcessView (proc-content.ts) and are rendered when
// a file is opened; the tree is read-only, as procfs mostly is.
import { EACCES, EINVAL, ENOENT, ENOTDIR } from "../errno.js";
import { makeStat } from "./constants.js";
import {
  commOf,
  renderCmdline,
  renderMaps,
  renderStatus,
  type ProcessView,
} from "./proc-content.js";
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

/** What a path inside the mount names. */
type ProcEntry =
  | {
      readonly type: "directory";
      readonly ino: number;
      readonly permissions: number;
      list(): DirEntry[];
    }
  | {
      readonly type: "symlink";
      readonly ino: number;
      readonly permissions: number;
      target(): string;
    }
  | { readonly type: "file"; readonly ino: number; readonly permissions: number; render(): string };

const PROCESS_FILES = ["cmdline", "comm", "cwd", "exe", "fd", "maps", "status"] as const;

export class ProcBackend implements FsBackend {
  /** Fixed times: procfs reports the time an inode was first looked up. */
  private readonly mountedMs = Date.now();

  constructor(private readonly view: ProcessView) {}

  /** The entry at an inner path ("/", "/self", "/<pid>/fd/3"), or undefined. */
  private entry(path: string): ProcEntry | undefined {
    const view = this.view;
    const pid = String(view.pid);
    const parts = path.split("/").filter((p) => p !== "");
    if (parts.length === 0) {
      return {
        type: "directory",
        ino: 1,
        permissions: 0o555,
        list: () =>
          [
            { name: pid, ino: 2, type: "directory" as const },
            { name: "self", ino: 3, type: "symlink" as const },
          ].sort((a, b) => (a.name < b.name ? -1 : 1)),
      };
    }
    if (parts[0] === "self" && parts.length === 1) {
      return { type: "symlink", ino: 3, permissions: 0o777, target: () => pid };
    }
    if (parts[0] !== pid) return undefined;
    if (parts.length === 1) {
      return {
        type: "directory",
        ino: 2,
        permissions: 0o555,
        list: () =>
          PROCESS_FILES.map((name) => {
            const e = this.entry(`/${pid}/${name}`) as ProcEntry;
            return { name, ino: e.ino, type: e.type };
          }),
      };
    }
    const name = parts[1];
    if (parts.length === 2) {
      const ino = 10 + PROCESS_FILES.indexOf(name as (typeof PROCESS_FILES)[number]);
      switch (name) {
        case "cmdline":
          return { type: "file", ino, permissions: 0o444, render: () => renderCmdline(view) };
        case "comm":
          return { type: "file", ino, permissions: 0o644, render: () => `${commOf(view)}\n` };
        case "maps":
          return { type: "file", ino, permissions: 0o444, render: () => renderMaps(view) };
        case "status":
          return { type: "file", ino, permissions: 0o444, render: () => renderStatus(view) };
        case "cwd":
          return { type: "symlink", ino, permissions: 0o777, target: () => view.cwd };
        case "exe":
          return { type: "symlink", ino, permissions: 0o777, target: () => view.exe };
        case "fd":
          return {
            type: "directory",
            ino,
            permissions: 0o500,
            list: () =>
              [...view.fds().keys()]
                .sort((a, b) => a - b)
                .map((fd) => ({ name: String(fd), ino: 100 + fd, type: "symlink" as const })),
          };
        default:
          return undefined;
      }
    }
    if (parts.length === 3 && name === "fd" && /^(0|[1-9][0-9]*)$/.test(parts[2] as string)) {
      const fd = Number(parts[2]);
      const target = view.fds().get(fd);
      if (target === undefined) return undefined;
      return { type: "symlink", ino: 100 + fd, permissions: 0o700, target: () => target };
    }
    return undefined;
  }

  lstat(path: string): VfsStat | number {
    const e = this.entry(path);
    if (e === undefined) return -ENOENT;
    return this.statOf(e);
  }

  readlink(path: string): string | number {
    const e = this.entry(path);
    if (e === undefined) return -ENOENT;
    return e.type === "symlink" ? e.target() : -EINVAL;
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
      size: type === "symlink" ? Buffer.byteLength(e.type === "symlink" ? e.target() : "") : 0,
      nlink: type === "directory" ? 2 : 1,
      uid: this.view.uid,
      gid: this.view.gid,
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
