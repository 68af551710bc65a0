// File syscalls that change an inode's attributes: chmod(2)/fchmod/
// fchmodat/fchmodat2, chown(2)/fchown/lchown/fchownat, and the time setters
// utimensat(2), utimes(2), futimesat(2) and utime(2). The guest runs as
// root, so every change is permitted; the Vfs records it (image upper layer
// or host file) and stat(2) reports it.
import { EBADF, EFAULT, EINVAL } from "../errno.js";
import type { Kernel } from "../kernel.js";
import { O_PATH } from "../vfs/constants.js";
import type { AttributeChange } from "../vfs/types.js";
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  CWD,
  descriptor,
  namesDirfd,
  pathArg,
} from "./fs-common.js";
import { int, num, type SyscallEntry } from "./types.js";

/** utimensat(2)'s special tv_nsec values (linux/stat.h). */
const UTIME_NOW = (1 << 30) - 1;
const UTIME_OMIT = (1 << 30) - 2;

/** Applies a change to the node an open descriptor refers to. */
function changeFd(k: Kernel, fd: bigint, change: AttributeChange): number {
  const entry = descriptor(k, fd);
  // An O_PATH descriptor cannot be used to change the file (open(2) O_PATH).
  if (entry === undefined || (entry.file.flags & O_PATH) !== 0) return -EBADF;
  const { node } = entry.file;
  if (node.setAttributes !== undefined) return node.setAttributes(change);
  return k.vfs.setAttributes(entry.file.path, change, true);
}

/**
 * Applies a change to what (dirfd, path, flags) names: dirfd itself with
 * AT_EMPTY_PATH (or a NULL path for utimensat), else the path, its final
 * symlink followed unless AT_SYMLINK_NOFOLLOW.
 */
function changeAt(
  k: Kernel,
  dirfd: bigint,
  pathPtr: bigint,
  flags: number,
  change: AttributeChange,
  nullPathAllowed = false,
): number {
  if (namesDirfd(k, pathPtr, flags, nullPathAllowed)) {
    // A NULL path names a descriptor, never the cwd (utimensat(2) ERRORS).
    if (pathPtr === 0n && int(dirfd) === AT_FDCWD) return -EFAULT;
    return int(dirfd) === AT_FDCWD
      ? k.vfs.setAttributes(k.cwd, change, false)
      : changeFd(k, dirfd, change);
  }
  const where = pathArg(k, dirfd, pathPtr);
  if (typeof where === "number") return where;
  return k.vfs.setAttributes(where.path, change, (flags & AT_SYMLINK_NOFOLLOW) !== 0, where.base);
}

const mode = (v: bigint): AttributeChange => ({ mode: int(v) & 0o7777 });

/** chown(2)'s uid/gid: -1 leaves the id as it is. */
function owner(uid: bigint, gid: bigint): AttributeChange {
  const id = (v: bigint): number | undefined => {
    const n = Number(BigInt.asUintN(32, v));
    return n === 0xffffffff ? undefined : n;
  };
  return { uid: id(uid), gid: id(gid) };
}

const AT_FLAGS = AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH;

function validFlags(flags: number): boolean {
  return (flags & ~AT_FLAGS) === 0;
}

/**
 * Reads two times (atime, mtime) of `size` bytes each — timespec (ns) or
 * timeval (µs) — into a change: NULL means both now; UTIME_NOW/UTIME_OMIT
 * only for timespec. -EINVAL for a sub-second field out of range.
 */
function readTimes(k: Kernel, address: number, unit: "ns" | "us"): AttributeChange | number {
  const now = Date.now();
  if (address === 0) return { atimeMs: now, mtimeMs: now };
  if (!k.valid(address, 32)) return -EFAULT;
  const v = k.view();
  const times: (number | undefined)[] = [];
  for (const at of [address, address + 16]) {
    const seconds = Number(v.getBigInt64(at, true));
    const fraction = Number(v.getBigInt64(at + 8, true));
    if (unit === "ns" && fraction === UTIME_NOW) times.push(now);
    else if (unit === "ns" && fraction === UTIME_OMIT) times.push(undefined);
    else {
      const perSecond = unit === "ns" ? 1e9 : 1e6;
      if (fraction < 0 || fraction >= perSecond) return -EINVAL;
      times.push(seconds * 1000 + (fraction * 1000) / perSecond);
    }
  }
  return { atimeMs: times[0], mtimeMs: times[1] };
}

/** utimensat(2): times may be NULL (now), and so may the path (dirfd itself). */
function utimensat(
  k: Kernel,
  dirfd: bigint,
  pathPtr: bigint,
  timesPtr: bigint,
  flags: number,
): number {
  if (!validFlags(flags)) return -EINVAL;
  const change = readTimes(k, num(timesPtr), "ns");
  if (typeof change === "number") return change;
  return changeAt(k, dirfd, pathPtr, flags, change, true);
}

/** utimes(2)/futimesat(2): struct timeval times[2], or NULL for now. */
function futimesat(k: Kernel, dirfd: bigint, pathPtr: bigint, timesPtr: bigint): number {
  const change = readTimes(k, num(timesPtr), "us");
  if (typeof change === "number") return change;
  return changeAt(k, dirfd, pathPtr, 0, change);
}

/** utime(2): struct utimbuf { time_t actime, modtime; }, or NULL for now. */
function utime(k: Kernel, pathPtr: bigint, bufPtr: bigint): number {
  let change: AttributeChange;
  if (bufPtr === 0n) {
    const now = Date.now();
    change = { atimeMs: now, mtimeMs: now };
  } else {
    if (!k.valid(num(bufPtr), 16)) return -EFAULT;
    const v = k.view();
    const seconds = (at: number): number => Number(v.getBigInt64(num(bufPtr) + at, true)) * 1000;
    change = { atimeMs: seconds(0), mtimeMs: seconds(8) };
  }
  return changeAt(k, CWD, pathPtr, 0, change);
}

export const fsAttrSyscalls: readonly SyscallEntry[] = [
  [90, "chmod", (k, a) => changeAt(k, CWD, a[0], 0, mode(a[1]))],
  [91, "fchmod", (k, a) => changeFd(k, a[0], mode(a[1]))],
  [92, "chown", (k, a) => changeAt(k, CWD, a[0], 0, owner(a[1], a[2]))],
  [93, "fchown", (k, a) => changeFd(k, a[0], owner(a[1], a[2]))],
  [94, "lchown", (k, a) => changeAt(k, CWD, a[0], AT_SYMLINK_NOFOLLOW, owner(a[1], a[2]))],
  [132, "utime", (k, a) => utime(k, a[0], a[1])],
  [235, "utimes", (k, a) => futimesat(k, CWD, a[0], a[1])],
  [
    260,
    "fchownat",
    (k, a) =>
      validFlags(int(a[4])) ? changeAt(k, a[0], a[1], int(a[4]), owner(a[2], a[3])) : -EINVAL,
  ],
  [261, "futimesat", (k, a) => futimesat(k, a[0], a[1], a[2])],
  // fchmodat(2) has no flags argument in the kernel; fchmodat2 (Linux 6.6) has.
  [268, "fchmodat", (k, a) => changeAt(k, a[0], a[1], 0, mode(a[2]))],
  [280, "utimensat", (k, a) => utimensat(k, a[0], a[1], a[2], int(a[3]))],
  [
    452,
    "fchmodat2",
    (k, a) => (validFlags(int(a[3])) ? changeAt(k, a[0], a[1], int(a[3]), mode(a[2])) : -EINVAL),
  ],
];
