// A host directory as the guest's root (`megalift exec --root DIR`). Paths
// reach it already resolved by resolve.ts, so every symlink is followed
// inside DIR (a chroot(2), never the host's own root); the backend opens
// with O_NOFOLLOW and changes attributes with the l*-calls so that a final
// component is never followed by the host instead. Owners are shown as the
// guest, running as root, sees them (host-owners.ts).
import * as fs from "node:fs";
import { join } from "node:path";
import { EPERM, ENOTDIR, errnoOf } from "../errno.js";
import { S_ISGID, typeOfMode } from "./constants.js";
import { HostOwners } from "./host-owners.js";
import type {
  AttributeChange,
  DirEntry,
  FsBackend,
  FsStats,
  OpenIntent,
  VfsNode,
  VfsStat,
} from "./types.js";

/** f_flags when the host does not say: ST_VALID (statfs(2)). */
const ST_VALID = 0x20;

export class HostBackend implements FsBackend {
  readonly root: string;
  private readonly owners = new HostOwners();

  constructor(root: string) {
    this.root = fs.realpathSync(root);
  }

  hostPath(path: string): string {
    return join(this.root, path);
  }

  lstat(path: string): VfsStat | number {
    return attempt(() => hostStat(fs.lstatSync(this.hostPath(path)), this.owners));
  }

  readlink(path: string): string | number {
    return attempt(() => fs.readlinkSync(this.hostPath(path)));
  }

  readdir(path: string): readonly DirEntry[] | number {
    return attempt(() => {
      const dir = this.hostPath(path);
      const names = fs.readdirSync(dir).sort();
      const entries: DirEntry[] = [];
      for (const name of names) {
        // An entry removed between readdir and lstat is simply not listed.
        const st = attempt(() => fs.lstatSync(join(dir, name)));
        if (typeof st !== "number") entries.push({ name, ino: st.ino, type: typeOfMode(st.mode) });
      }
      return entries;
    });
  }

  open(path: string, intent: OpenIntent): VfsNode | number {
    const { constants: c } = fs;
    let flags = (intent.write ? c.O_RDWR : c.O_RDONLY) | c.O_NOFOLLOW;
    if (intent.truncate) flags |= c.O_TRUNC;
    return attempt(() => new HostFileNode(fs.openSync(this.hostPath(path), flags), this.owners));
  }

  create(path: string, mode: number): VfsNode | number {
    const { constants: c } = fs;
    const flags = c.O_RDWR | c.O_CREAT | c.O_EXCL | c.O_NOFOLLOW;
    return attempt(() => {
      const fd = fs.openSync(this.hostPath(path), flags, mode);
      // The guest's umask is already applied; the host's must not be too.
      if ((fs.fstatSync(fd).mode & 0o7777) !== mode) fs.fchmodSync(fd, mode);
      return new HostFileNode(fd, this.owners);
    });
  }

  mkdir(path: string, mode: number): number {
    return attempt(() => {
      const at = this.hostPath(path);
      fs.mkdirSync(at, mode);
      // Undo the host's umask, keeping the set-group-ID bit a parent passes on.
      fs.chmodSync(at, mode | (fs.lstatSync(at).mode & S_ISGID));
      return 0;
    });
  }

  unlink(path: string): number {
    return attempt(() => (fs.unlinkSync(this.hostPath(path)), 0));
  }

  rmdir(path: string): number {
    return attempt(() => (fs.rmdirSync(this.hostPath(path)), 0));
  }

  rename(from: string, to: string): number {
    return attempt(() => (fs.renameSync(this.hostPath(from), this.hostPath(to)), 0));
  }

  symlink(target: string, path: string): number {
    return attempt(() => (fs.symlinkSync(target, this.hostPath(path)), 0));
  }

  truncate(path: string, size: number): number {
    return attempt(() => (fs.truncateSync(this.hostPath(path), size), 0));
  }

  /** link(2) does not follow a symlink at `from`: a link to the symlink itself. */
  link(from: string, to: string): number {
    return attempt(() => (fs.linkSync(this.hostPath(from), this.hostPath(to)), 0));
  }

  setAttributes(path: string, change: AttributeChange): number {
    const at = this.hostPath(path);
    return changeHost(change, this.owners, {
      stat: () => fs.lstatSync(at),
      // Vfs never asks to chmod a symlink (EOPNOTSUPP), so chmod's follow is moot.
      chmod: (mode) => fs.chmodSync(at, mode),
      chown: (uid, gid) => fs.lchownSync(at, uid, gid),
      utimes: (atime, mtime) => fs.lutimesSync(at, atime, mtime),
    });
  }

  statfs(path: string): FsStats | number {
    return attempt(() => {
      const st = fs.statfsSync(this.hostPath(path));
      const { type, bsize, blocks, bfree, bavail, files, ffree } = st;
      return { type, bsize, blocks, bfree, bavail, files, ffree, namelen: 255, flags: ST_VALID };
    });
  }
}

/** An open host file; reads and writes go straight to the host fd. */
export class HostFileNode implements VfsNode {
  readonly seekable = true;

  constructor(
    readonly hostFd: number,
    private readonly owners = new HostOwners(),
  ) {}

  pread(buffer: Uint8Array, position: number): number {
    return attempt(() => fs.readSync(this.hostFd, buffer, 0, buffer.length, position));
  }

  pwrite(buffer: Uint8Array, position: number): number {
    return attempt(() => fs.writeSync(this.hostFd, buffer, 0, buffer.length, position));
  }

  stat(): VfsStat | number {
    return attempt(() => hostStat(fs.fstatSync(this.hostFd), this.owners));
  }

  truncate(size: number): number {
    return attempt(() => (fs.ftruncateSync(this.hostFd, size), 0));
  }

  setAttributes(change: AttributeChange): number {
    const fd = this.hostFd;
    return changeHost(change, this.owners, {
      stat: () => fs.fstatSync(fd),
      chmod: (mode) => fs.fchmodSync(fd, mode),
      chown: (uid, gid) => fs.fchownSync(fd, uid, gid),
      utimes: (atime, mtime) => fs.futimesSync(fd, atime, mtime),
    });
  }

  readdir(): number {
    return -ENOTDIR;
  }

  close(): void {
    attempt(() => fs.closeSync(this.hostFd));
  }
}

/** The host calls that change one inode, by path or by descriptor. */
interface HostInode {
  stat(): fs.Stats;
  chmod(mode: number): void;
  chown(uid: number, gid: number): void;
  utimes(atimeSeconds: number, mtimeSeconds: number): void;
}

function changeHost(change: AttributeChange, owners: HostOwners, inode: HostInode): number {
  return attempt(() => {
    if (change.uid !== undefined || change.gid !== undefined) {
      const ids = owners.hostIds(change.uid, change.gid);
      try {
        inode.chown(ids.uid, ids.gid);
      } catch (err) {
        // An unprivileged host refuses; the guest (root) keeps its chown here.
        if (errnoOf(err) !== -EPERM) throw err;
        owners.record(inode.stat(), change.uid, change.gid);
      }
    }
    if (change.mode !== undefined) inode.chmod(change.mode);
    if (change.atimeMs !== undefined || change.mtimeMs !== undefined) {
      const now = inode.stat();
      const atime = change.atimeMs ?? now.atimeMs;
      const mtime = change.mtimeMs ?? now.mtimeMs;
      inode.utimes(atime / 1000, mtime / 1000);
    }
    return 0;
  });
}

/** A host fs.Stats as the guest sees it (owners as host-owners.ts maps them). */
export function hostStat(st: fs.Stats, owners?: HostOwners): VfsStat {
  const owner = owners?.of(st) ?? { uid: 0, gid: 0 };
  return {
    dev: st.dev,
    ino: st.ino,
    mode: st.mode,
    nlink: st.nlink,
    uid: owner.uid,
    gid: owner.gid,
    rdev: st.rdev,
    size: st.size,
    blksize: st.blksize || 4096,
    blocks: st.blocks,
    atimeMs: st.atimeMs,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
  };
}

/**
 * Runs a host call, turning a thrown Node error into -errno: Node's `errno`
 * is libuv's, which on Linux is the negated Linux errno itself.
 */
export function attempt<T>(call: () => T): T | number {
  try {
    return call();
  } catch (err) {
    const errno = (err as { errno?: unknown }).errno;
    return typeof errno === "number" && errno < 0 && errno > -4096 ? errno : errnoOf(err);
  }
}
