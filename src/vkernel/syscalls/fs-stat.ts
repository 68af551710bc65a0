// File-status syscalls beyond stat(2): statx(2) with struct statx, and
// statfs(2)/fstatfs(2) with x86-64's struct statfs (asm-generic/statfs.h,
// 64-bit words). Both describe what the Vfs reports; statx offers the basic
// stats (no birth time), as a filesystem without btime does.
import { EBADF, EFAULT, EINVAL } from "../errno.js";
import type { Kernel } from "../kernel.js";
import type { FsStats, VfsStat } from "../vfs/types.js";
import {
  AT_EMPTY_PATH,
  AT_SYMLINK_NOFOLLOW,
  CWD,
  descriptor,
  pathArg,
  statTarget,
} from "./fs-common.js";
import { int, num, type SyscallEntry } from "./types.js";

/** STATX_BASIC_STATS: type, mode, nlink, uid, gid, atime, mtime, ctime, ino, size, blocks. */
const STATX_BASIC_STATS = 0x7ff;
/** STATX__RESERVED: a mask asking for it is EINVAL (statx(2)). */
const STATX_RESERVED = 0x80000000;
const AT_NO_AUTOMOUNT = 0x800;
/** AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC: how fresh; all answers are. */
const AT_STATX_SYNC_TYPE = 0x6000;
const STATX_SIZE = 256;
const STATFS_SIZE = 120;

/** gnu_dev_major/gnu_dev_minor (sys/sysmacros.h) of a dev_t. */
function majorMinor(dev: number): [number, number] {
  const d = BigInt(dev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return [Number(BigInt.asUintN(32, major)), Number(BigInt.asUintN(32, minor))];
}

/** struct statx (linux/stat.h), 256 bytes. */
function writeStatx(k: Kernel, address: number, st: VfsStat): number {
  if (!k.valid(address, STATX_SIZE)) return -EFAULT;
  const v = k.view();
  k.bytes().fill(0, address, address + STATX_SIZE);
  const u32 = (off: number, value: number): void => v.setUint32(address + off, value >>> 0, true);
  const u64 = (off: number, value: number): void =>
    v.setBigUint64(address + off, BigInt.asUintN(64, BigInt(Math.trunc(value))), true);
  const time = (off: number, ms: number): void => {
    const seconds = Math.floor(ms / 1000);
    v.setBigInt64(address + off, BigInt(seconds), true);
    u32(off + 8, Math.floor((ms - seconds * 1000) * 1e6));
  };
  u32(0, STATX_BASIC_STATS); // stx_mask
  u32(4, st.blksize);
  u32(16, st.nlink);
  u32(20, st.uid);
  u32(24, st.gid);
  v.setUint16(address + 28, st.mode, true);
  u64(32, st.ino);
  u64(40, st.size);
  u64(48, st.blocks);
  time(64, st.atimeMs);
  time(96, st.ctimeMs);
  time(112, st.mtimeMs);
  const [rdevMajor, rdevMinor] = majorMinor(st.rdev);
  const [devMajor, devMinor] = majorMinor(st.dev);
  u32(128, rdevMajor);
  u32(132, rdevMinor);
  u32(136, devMajor);
  u32(140, devMinor);
  return 0;
}

/** statx(2): dirfd, path, flags, mask, struct statx *. */
function statx(
  k: Kernel,
  dirfd: bigint,
  pathPtr: bigint,
  flags: number,
  mask: number,
  out: bigint,
): number {
  const allowed = AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE;
  if ((flags & ~allowed) !== 0 || (flags & AT_STATX_SYNC_TYPE) === AT_STATX_SYNC_TYPE)
    return -EINVAL;
  if ((mask & STATX_RESERVED) !== 0) return -EINVAL;
  const st = statTarget(k, dirfd, pathPtr, flags);
  return typeof st === "number" ? st : writeStatx(k, num(out), st);
}

/** struct statfs for x86-64: every field a 64-bit word, f_fsid two ints. */
function writeStatfs(k: Kernel, address: number, fs: FsStats): number {
  if (!k.valid(address, STATFS_SIZE)) return -EFAULT;
  const v = k.view();
  k.bytes().fill(0, address, address + STATFS_SIZE);
  const u64 = (off: number, value: number): void =>
    v.setBigUint64(address + off, BigInt.asUintN(64, BigInt(Math.trunc(value))), true);
  u64(0, fs.type);
  u64(8, fs.bsize);
  u64(16, fs.blocks);
  u64(24, fs.bfree);
  u64(32, fs.bavail);
  u64(40, fs.files);
  u64(48, fs.ffree);
  // f_fsid (56) stays zero, as on many Linux filesystems.
  u64(64, fs.namelen);
  u64(72, fs.bsize); // f_frsize
  u64(80, fs.flags);
  return 0;
}

function statfs(k: Kernel, pathPtr: bigint, out: bigint): number {
  const where = pathArg(k, CWD, pathPtr);
  if (typeof where === "number") return where;
  const fs = k.vfs.statfs(where.path, where.base);
  return typeof fs === "number" ? fs : writeStatfs(k, num(out), fs);
}

function fstatfs(k: Kernel, fd: bigint, out: bigint): number {
  const entry = descriptor(k, fd);
  if (entry === undefined) return -EBADF;
  // The filesystem of the descriptor's path, or of the root once the path is gone.
  let fs = k.vfs.statfs(entry.file.path);
  if (typeof fs === "number") fs = k.vfs.statfs("/");
  return typeof fs === "number" ? fs : writeStatfs(k, num(out), fs);
}

export const fsStatSyscalls: readonly SyscallEntry[] = [
  [137, "statfs", (k, a) => statfs(k, a[0], a[1])],
  [138, "fstatfs", (k, a) => fstatfs(k, a[0], a[1])],
  [332, "statx", (k, a) => statx(k, a[0], a[1], int(a[2]), int(a[3]), a[4])],
];
