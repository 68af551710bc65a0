// A host directory as the guest's root (`megalift exec --root DIR`). Paths
// reach it already resolved by resolve.ts, so every symlink is followed
// inside DIR (a chroot(2), never the host's own root); the backend opens
// with O_NOFOLLOW so a component is never followed by the host instead.
// Owners are reported as root (uid/gid 0): the guest runs as root.
import * as fs from "node:fs";
import { join } from "node:path";
import { ENOTDIR, errnoOf } from "../errno.js";
import { typeOfMode } from "./constants.js";
import type { DirEntry, FsBackend, OpenIntent, VfsNode, VfsStat } from "./types.js";

export class HostBackend implements FsBackend {
  readonly root: string;

  constructor(root: string) {
    this.root = fs.realpathSync(root);
  }

  hostPath(path: string): string {
    return join(this.root, path);
  }

  lstat(path: string): VfsStat | number {
    return attempt(() => hostStat(fs.lstatSync(this.hostPath(path))));
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
    return attempt(() => new HostFileNode(fs.openSync(this.hostPath(path), flags)));
  }

  create(path: string, mode: number): VfsNode | number {
    const { constants: c } = fs;
    const flags = c.O_RDWR | c.O_CREAT | c.O_EXCL | c.O_NOFOLLOW;
    return attempt(() => new HostFileNode(fs.openSync(this.hostPath(path), flags, mode)));
  }

  mkdir(path: string, mode: number): number {
    return attempt(() => (fs.mkdirSync(this.hostPath(path), mode), 0));
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
}

/** An open host file; reads and writes go straight to the host fd. */
export class HostFileNode implements VfsNode {
  readonly seekable = true;

  constructor(readonly hostFd: number) {}

  pread(buffer: Uint8Array, position: number): number {
    return attempt(() => fs.readSync(this.hostFd, buffer, 0, buffer.length, position));
  }

  pwrite(buffer: Uint8Array, position: number): number {
    return attempt(() => fs.writeSync(this.hostFd, buffer, 0, buffer.length, position));
  }

  stat(): VfsStat | number {
    return attempt(() => hostStat(fs.fstatSync(this.hostFd)));
  }

  truncate(size: number): number {
    return attempt(() => (fs.ftruncateSync(this.hostFd, size), 0));
  }

  readdir(): number {
    return -ENOTDIR;
  }

  close(): void {
    attempt(() => fs.closeSync(this.hostFd));
  }
}

/** A host fs.Stats as the guest sees it (owner root, as the guest runs as root). */
export function hostStat(st: fs.Stats): VfsStat {
  return {
    dev: st.dev,
    ino: st.ino,
    mode: st.mode,
    nlink: st.nlink,
    uid: 0,
    gid: 0,
    rdev: st.rdev,
    size: st.size,
    blksize: st.blksize || 4096,
    blocks: st.blocks,
    atimeMs: st.atimeMs,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
  };
}

/** Runs a host call, turning a thrown Node error into -errno. */
export function attempt<T>(call: () => T): T | number {
  try {
    return call();
  } catch (err) {
    return errnoOf(err);
  }
}
