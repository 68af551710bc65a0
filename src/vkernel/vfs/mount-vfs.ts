// The Vfs the syscalls use: one root backend with others mounted over
// directories of it (/dev), guest paths resolved by resolve.ts, and the
// checks open(2), mkdir(2), unlink(2), rmdir(2), rename(2), symlink(2),
// readlink(2), truncate(2), link(2), chmod(2)/chown(2)/utimensat(2) and
// statfs(2) make before a backend acts, in the order Linux makes them, so
// each backend only does the operation itself.
import { EEXIST, EINVAL, EISDIR, ELOOP, ENOENT, ENOTDIR, EPERM } from "../errno.js";
import {
  EBUSY,
  EOPNOTSUPP,
  EXDEV,
  O_ACCMODE,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOFOLLOW,
  O_PATH,
  O_TMPFILE_BITS,
  O_TRUNC,
  typeOfMode,
} from "./constants.js";
import { DirectoryNode } from "./directory-node.js";
import { OpenFile } from "./open-file.js";
import { PathNode } from "./path-node.js";
import { resolvePath, type PathLookup, type Resolved } from "./resolve.js";
import { noteWrite } from "./write-log.js";
import type {
  AttributeChange,
  BaseDir,
  FsBackend,
  FsStats,
  Lookup,
  NodeType,
  Vfs,
  VfsStat,
} from "./types.js";

export interface Mount {
  /** Absolute canonical directory the backend's "/" appears at. */
  readonly at: string;
  readonly backend: FsBackend;
}

/**
 * Per root tree, a count of the changes made to its names through any
 * process's MountVfs; lookups cached against it (exec.ts) are stale once it
 * moves. Changes made on the host behind the run's back are not counted.
 */
const generations = new WeakMap<FsBackend, number>();

/** The count of name changes made in `root` so far (create, unlink, rename, chmod, …). */
export function nameGeneration(root: FsBackend): number {
  return generations.get(root) ?? 0;
}

export class MountVfs implements Vfs, PathLookup {
  private readonly mounts: readonly Mount[];
  /** lstat/readlink calls answered by a mount other than the root (lookup()). */
  private mountedLookups = 0;

  constructor(
    private readonly root: FsBackend,
    mounts: readonly Mount[] = [],
  ) {
    // Longest mount point first, so the innermost mount serves a path.
    this.mounts = [...mounts, { at: "/", backend: root }].sort((a, b) => b.at.length - a.at.length);
  }

  /** The backend serving a canonical path and the path inside it. */
  private where(path: string): { backend: FsBackend; inner: string; mount: Mount } {
    for (const mount of this.mounts) {
      if (mount.at === "/") return { backend: mount.backend, inner: path, mount };
      if (path === mount.at) return { backend: mount.backend, inner: "/", mount };
      if (path.startsWith(`${mount.at}/`)) {
        return { backend: mount.backend, inner: path.slice(mount.at.length), mount };
      }
    }
    throw new Error("MountVfs: no root mount");
  }

  /** Before any change of names: cached lookups of the root tree are stale. */
  private changing(): void {
    generations.set(this.root, nameGeneration(this.root) + 1);
  }

  lstat(path: string): VfsStat | number {
    const { backend, inner, mount } = this.where(path);
    if (mount.at !== "/") this.mountedLookups++;
    return backend.lstat(inner);
  }

  readlink(path: string, base?: BaseDir): string | number {
    const r = this.existing(path, false, base);
    if (typeof r === "number") return r;
    if (kindOf(r.stat) !== "symlink") return -EINVAL;
    const { backend, inner, mount } = this.where(r.path);
    if (mount.at !== "/") this.mountedLookups++;
    return backend.readlink(inner);
  }

  lookup(path: string, base?: BaseDir): Lookup | number {
    const before = this.mountedLookups;
    const r = this.existing(path, true, base);
    if (typeof r === "number") return r;
    return { path: r.path, stat: r.stat, rootOnly: this.mountedLookups === before };
  }

  open(path: string, flags: number, mode: number, base?: BaseDir): OpenFile | number {
    // No unnamed temporary files (O_TMPFILE): callers fall back to a named
    // one on EOPNOTSUPP, as on a filesystem without them (open(2)).
    if ((flags & O_TMPFILE_BITS) !== 0) return -EOPNOTSUPP;
    // O_CREAT | O_DIRECTORY is EINVAL since Linux 6.4 (open(2) ERRORS).
    if ((flags & O_CREAT) !== 0 && (flags & O_DIRECTORY) !== 0) return -EINVAL;
    if ((flags & O_CREAT) !== 0) this.changing();
    const exclusive = (flags & O_CREAT) !== 0 && (flags & O_EXCL) !== 0;
    // O_EXCL never follows a final symlink: the link itself makes it exist.
    const follow = (flags & O_NOFOLLOW) === 0 && !exclusive;
    const r = resolvePath(this, path, { followFinal: follow, base });
    if (typeof r === "number") return r;
    const write = (flags & O_PATH) === 0 && (flags & O_ACCMODE) !== 0;
    const { backend, inner } = this.where(r.path);
    if (r.stat === undefined) {
      if ((flags & O_CREAT) === 0) return -ENOENT;
      if (path.endsWith("/")) return -EISDIR;
      const node = backend.create(inner, mode & 0o7777);
      return typeof node === "number" ? node : new OpenFile(node, r.path, flags, false);
    }
    if (exclusive) return -EEXIST;
    const kind = kindOf(r.stat);
    if (kind === "symlink") {
      // O_PATH | O_NOFOLLOW opens the link itself; anything else is ELOOP.
      if ((flags & O_PATH) === 0) return -ELOOP;
      return new OpenFile(new PathNode(backend, inner), r.path, flags, false);
    }
    // Linux truncates with O_TRUNC whatever the access mode (open(2) NOTES).
    const truncate = (flags & O_PATH) === 0 && (flags & O_TRUNC) !== 0;
    if (kind === "directory") {
      if (write || truncate || (flags & O_CREAT) !== 0) return -EISDIR;
      return new OpenFile(new DirectoryNode(backend, inner), r.path, flags, true);
    }
    if ((flags & O_DIRECTORY) !== 0) return -ENOTDIR;
    const node = backend.open(inner, { write, truncate });
    return typeof node === "number" ? node : new OpenFile(node, r.path, flags, false);
  }

  stat(path: string, noFollow: boolean, base?: BaseDir): VfsStat | number {
    const r = this.existing(path, !noFollow, base);
    return typeof r === "number" ? r : r.stat;
  }

  directory(path: string, base?: BaseDir): string | number {
    const r = this.existing(path, true, base);
    if (typeof r === "number") return r;
    return kindOf(r.stat) === "directory" ? r.path : -ENOTDIR;
  }

  mkdir(path: string, mode: number, base?: BaseDir): number {
    this.changing();
    // mkdir(2) accepts "name/": the slash only says it is to be a directory.
    const r = resolvePath(this, stripSlashes(path), { followFinal: false, base });
    if (typeof r === "number") return r;
    if (r.stat !== undefined) return -EEXIST;
    const { backend, inner } = this.where(r.path);
    // mkdir(2) keeps the permission and sticky bits only; set-group-ID comes
    // from the parent directory, which each backend handles.
    return backend.mkdir(inner, mode & 0o1777);
  }

  unlink(path: string, base?: BaseDir): number {
    this.changing();
    const r = this.existing(path, false, base);
    if (typeof r === "number") return r;
    if (kindOf(r.stat) === "directory") return -EISDIR;
    const { backend, inner } = this.where(r.path);
    return backend.unlink(inner);
  }

  rmdir(path: string, base?: BaseDir): number {
    this.changing();
    const last = stripSlashes(path).split("/").pop();
    if (last === ".") return -EINVAL;
    const r = this.existing(stripSlashes(path), false, base);
    if (typeof r === "number") return r;
    if (kindOf(r.stat) !== "directory") return -ENOTDIR;
    const { backend, inner } = this.where(r.path);
    if (inner === "/") return -EBUSY;
    return backend.rmdir(inner);
  }

  rename(from: string, to: string, fromBase?: BaseDir, toBase?: BaseDir): number {
    this.changing();
    const source = this.existing(stripSlashes(from), false, fromBase);
    if (typeof source === "number") return source;
    const target = resolvePath(this, stripSlashes(to), { followFinal: false, base: toBase });
    if (typeof target === "number") return target;
    const a = this.where(source.path);
    const b = this.where(target.path);
    if (a.mount !== b.mount) return -EXDEV;
    if (a.inner === "/" || b.inner === "/") return -EBUSY;
    if (source.path === target.path) return 0;
    const sourceIsDir = kindOf(source.stat) === "directory";
    if (sourceIsDir && target.path.startsWith(`${source.path}/`)) return -EINVAL;
    if (target.stat !== undefined) {
      const targetIsDir = kindOf(target.stat) === "directory";
      if (sourceIsDir && !targetIsDir) return -ENOTDIR;
      if (!sourceIsDir && targetIsDir) return -EISDIR;
    }
    return a.backend.rename(a.inner, b.inner);
  }

  symlink(target: string, path: string, base?: BaseDir): number {
    this.changing();
    if (target === "") return -ENOENT;
    const r = resolvePath(this, path, { followFinal: false, base });
    if (typeof r === "number") return r;
    if (r.stat !== undefined) return -EEXIST;
    const { backend, inner } = this.where(r.path);
    return backend.symlink(target, inner);
  }

  truncate(path: string, size: number, base?: BaseDir): number {
    if (size < 0) return -EINVAL;
    const r = this.existing(path, true, base);
    if (typeof r === "number") return r;
    if (kindOf(r.stat) === "directory") return -EISDIR;
    const { backend, inner } = this.where(r.path);
    const result = backend.truncate(inner, size);
    if (result === 0) noteWrite(r.stat.dev, r.stat.ino);
    return result;
  }

  link(from: string, to: string, follow: boolean, fromBase?: BaseDir, toBase?: BaseDir): number {
    this.changing();
    const source = this.existing(from, follow, fromBase);
    if (typeof source === "number") return source;
    // Hard links to directories are never allowed (link(2) EPERM).
    if (kindOf(source.stat) === "directory") return -EPERM;
    const target = resolvePath(this, to, { followFinal: false, base: toBase });
    if (typeof target === "number") return target;
    if (target.stat !== undefined) return -EEXIST;
    const a = this.where(source.path);
    const b = this.where(target.path);
    if (a.mount !== b.mount) return -EXDEV;
    return a.backend.link(a.inner, b.inner);
  }

  setAttributes(path: string, change: AttributeChange, noFollow: boolean, base?: BaseDir): number {
    this.changing();
    const r = this.existing(path, !noFollow, base);
    if (typeof r === "number") return r;
    // A symlink's mode cannot change (fchmodat(2) AT_SYMLINK_NOFOLLOW).
    if (change.mode !== undefined && kindOf(r.stat) === "symlink") return -EOPNOTSUPP;
    const { backend, inner } = this.where(r.path);
    return backend.setAttributes(inner, change);
  }

  statfs(path: string, base?: BaseDir): FsStats | number {
    const r = this.existing(path, true, base);
    if (typeof r === "number") return r;
    const { backend, inner } = this.where(r.path);
    return backend.statfs(inner);
  }

  private existing(
    path: string,
    followFinal: boolean,
    base: BaseDir | undefined,
  ): (Resolved & { stat: VfsStat }) | number {
    const r = resolvePath(this, path, { followFinal, base });
    if (typeof r === "number") return r;
    if (r.stat === undefined) return -ENOENT;
    return { path: r.path, stat: r.stat };
  }
}

function kindOf(stat: VfsStat): NodeType {
  return typeOfMode(stat.mode);
}

function stripSlashes(path: string): string {
  const stripped = path.replace(/\/+$/, "");
  return stripped === "" && path !== "" ? "/" : stripped;
}
