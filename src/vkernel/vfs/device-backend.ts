// The device tree mounted at /dev (ARCHITECTURE.md "vkernel"): null(4),
// zero(4), full(4), random(4)/urandom(4) with their Linux device numbers,
// tty(4) (ENXIO: a guest has no controlling terminal), and stdin, stdout,
// stderr. On Linux those three are symlinks to /proc/self/fd/0..2; here they
// open the process's descriptor directly (the same node, as reopening
// /proc/self/fd/N does), because there is no /proc yet.
import { randomFillSync } from "node:crypto";
import { EINVAL, ENOENT, ENOTDIR } from "../errno.js";
import { ENXIO, EROFS, makeStat, makedev } from "./constants.js";
import type { DirEntry, FsBackend, FsStats, VfsNode, VfsStat } from "./types.js";

/** The node behind a process's file descriptor, if it is open. */
export type FdLookup = (fd: number) => VfsNode | undefined;

const ENOSPC = 28;
/** st_dev of the device tree (devtmpfs is an anonymous filesystem, major 0). */
const DEVICE_DEV = 5;

interface DeviceSpec {
  readonly ino: number;
  readonly rdev: number;
  readonly read: (buffer: Uint8Array) => number;
  readonly write: (buffer: Uint8Array) => number;
}

const zeros = (buffer: Uint8Array): number => (buffer.fill(0), buffer.length);
const sink = (buffer: Uint8Array): number => buffer.length;
const random = (buffer: Uint8Array): number => (randomFillSync(buffer), buffer.length);

/** mem.c's devices: major 1, minors from devices.txt. */
const DEVICES: Readonly<Record<string, DeviceSpec>> = {
  full: { ino: 10, rdev: makedev(1, 7), read: zeros, write: () => -ENOSPC },
  null: { ino: 11, rdev: makedev(1, 3), read: () => 0, write: sink },
  random: { ino: 12, rdev: makedev(1, 8), read: random, write: sink },
  tty: { ino: 13, rdev: makedev(5, 0), read: () => -ENXIO, write: () => -ENXIO },
  urandom: { ino: 14, rdev: makedev(1, 9), read: random, write: sink },
  zero: { ino: 15, rdev: makedev(1, 5), read: zeros, write: sink },
};
const STDIO: Readonly<Record<string, number>> = { stdin: 0, stdout: 1, stderr: 2 };
const NAMES = [...Object.keys(DEVICES), ...Object.keys(STDIO)].sort();

export class DeviceBackend implements FsBackend {
  constructor(private readonly fdNode: FdLookup) {}

  lstat(path: string): VfsStat | number {
    if (path === "/") {
      return makeStat({
        dev: DEVICE_DEV,
        ino: 1,
        type: "directory",
        permissions: 0o755,
        size: 0,
        nlink: 2,
      });
    }
    const name = path.slice(1);
    const device = DEVICES[name];
    if (device !== undefined) return deviceStat(device);
    const fd = STDIO[name];
    if (fd === undefined) return -ENOENT;
    const node = this.fdNode(fd);
    if (node === undefined) return -ENOENT;
    // What the descriptor is (a pipe, a file, a terminal), or a terminal-like
    // character device when that cannot be told.
    const st = node.stat();
    if (typeof st !== "number") return st;
    const rdev = makedev(136, 0); // /dev/pts/0
    return makeStat({
      dev: DEVICE_DEV,
      ino: 20 + fd,
      type: "char",
      permissions: 0o620,
      size: 0,
      rdev,
    });
  }

  readlink(): number {
    return -EINVAL;
  }

  readdir(path: string): readonly DirEntry[] | number {
    if (path !== "/") return -ENOTDIR;
    return NAMES.map((name) => {
      const st = this.lstat(`/${name}`);
      return { name, ino: typeof st === "number" ? 0 : st.ino, type: "char" as const };
    });
  }

  open(path: string): VfsNode | number {
    const name = path.slice(1);
    const device = DEVICES[name];
    if (device !== undefined) {
      return name === "tty" ? -ENXIO : new DeviceNode(device);
    }
    const fd = STDIO[name];
    const node = fd === undefined ? undefined : this.fdNode(fd);
    return node === undefined ? -ENOENT : new BorrowedNode(node);
  }

  create(): number {
    return -EROFS;
  }
  mkdir(): number {
    return -EROFS;
  }
  unlink(): number {
    return -EROFS;
  }
  rmdir(): number {
    return -EROFS;
  }
  rename(): number {
    return -EROFS;
  }
  symlink(): number {
    return -EROFS;
  }
  truncate(): number {
    return -EROFS;
  }
  link(): number {
    return -EROFS;
  }
  /** The device nodes are fixed: their modes and owners cannot change here. */
  setAttributes(): number {
    return -EROFS;
  }

  /** devtmpfs reports itself as tmpfs (linux/magic.h TMPFS_MAGIC), empty. */
  statfs(): FsStats {
    return {
      type: 0x01021994,
      bsize: 4096,
      blocks: 0,
      bfree: 0,
      bavail: 0,
      files: 64,
      ffree: 0,
      namelen: 255,
      flags: 0x20,
    };
  }
}

function deviceStat(device: DeviceSpec): VfsStat {
  return makeStat({
    dev: DEVICE_DEV,
    ino: device.ino,
    type: "char",
    permissions: 0o666,
    size: 0,
    rdev: device.rdev,
  });
}

/** A character device: the offset is accepted and ignored (lseek(2) on /dev/null returns 0). */
class DeviceNode implements VfsNode {
  readonly seekable = true;

  constructor(private readonly device: DeviceSpec) {}

  pread(buffer: Uint8Array): number {
    return this.device.read(buffer);
  }

  pwrite(buffer: Uint8Array): number {
    return this.device.write(buffer);
  }

  stat(): VfsStat {
    return deviceStat(this.device);
  }

  truncate(): number {
    // O_TRUNC on a device is ignored (open(2)); so is truncate of one.
    return 0;
  }

  readdir(): number {
    return -ENOTDIR;
  }

  close(): void {}
}

/** Another descriptor's node, reopened: closing it must not close the original. */
class BorrowedNode implements VfsNode {
  constructor(private readonly node: VfsNode) {}

  get seekable(): boolean {
    return this.node.seekable;
  }

  pread(buffer: Uint8Array, position: number): number {
    return this.node.pread(buffer, position);
  }

  pwrite(buffer: Uint8Array, position: number): number {
    return this.node.pwrite(buffer, position);
  }

  stat(): VfsStat | number {
    return this.node.stat();
  }

  truncate(size: number): number {
    return this.node.truncate(size);
  }

  readdir(): readonly DirEntry[] | number {
    return this.node.readdir();
  }

  close(): void {}
}
