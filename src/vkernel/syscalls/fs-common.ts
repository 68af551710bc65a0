// What the file syscalls share: the descriptor an argument names, the
// directory a *at() path starts from (openat(2) "dirfd"), the path argument,
// the node a *at() call with AT_EMPTY_PATH names, guest buffers as byte
// views, and stat(2)'s struct stat for x86-64 (asm/stat.h).
import { EBADF, EFAULT, ENOENT, ENOTDIR } from "../errno.js";
import type { FileDescriptor, Kernel } from "../kernel.js";
import type { VfsStat } from "../vfs/types.js";
import { int, num } from "./types.js";

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;
export const AT_SYMLINK_FOLLOW = 0x400;
export const AT_EMPTY_PATH = 0x1000;
export const CWD = BigInt(AT_FDCWD);

/** The path argument and the directory it starts from, or -errno. */
export function pathArg(
  k: Kernel,
  dirfd: bigint,
  pathPtr: bigint,
): { path: string; base: string } | number {
  if (!k.valid(num(pathPtr), 1)) return -EFAULT;
  const path = k.readString(num(pathPtr));
  if (path === "") return -ENOENT;
  const base = path.startsWith("/") ? "/" : baseDir(k, dirfd);
  return typeof base === "number" ? base : { path, base };
}

/**
 * True when a *at() call names dirfd itself: AT_EMPTY_PATH with an empty
 * path (openat(2) "AT_EMPTY_PATH"), or a NULL path where Linux allows one.
 */
export function namesDirfd(
  k: Kernel,
  pathPtr: bigint,
  flags: number,
  nullAllowed = false,
): boolean {
  if (pathPtr === 0n) return nullAllowed || (flags & AT_EMPTY_PATH) !== 0;
  return (
    (flags & AT_EMPTY_PATH) !== 0 && k.valid(num(pathPtr), 1) && k.readString(num(pathPtr)) === ""
  );
}

/** stat of what a (dirfd, path, flags) triple names: fstatat(2) and statx(2). */
export function statTarget(
  k: Kernel,
  dirfd: bigint,
  pathPtr: bigint,
  flags: number,
): VfsStat | number {
  if (namesDirfd(k, pathPtr, flags)) {
    if (int(dirfd) === AT_FDCWD) return k.vfs.stat(k.cwd, false);
    const entry = descriptor(k, dirfd);
    return entry === undefined ? -EBADF : entry.file.stat();
  }
  const where = pathArg(k, dirfd, pathPtr);
  if (typeof where === "number") return where;
  return k.vfs.stat(where.path, (flags & AT_SYMLINK_NOFOLLOW) !== 0, where.base);
}

export function descriptor(k: Kernel, fd: bigint): FileDescriptor | undefined {
  return k.files.get(int(fd));
}

/** The directory a relative path in a *at() call starts from, or -errno. */
export function baseDir(k: Kernel, dirfd: bigint): string | number {
  const d = int(dirfd);
  if (d === AT_FDCWD) return k.cwd;
  const entry = k.files.get(d);
  if (entry === undefined) return -EBADF;
  return entry.file.directory ? entry.file.path : -ENOTDIR;
}

/** A view of guest memory [address, address+length), or -EFAULT outside it. */
export function guestBytes(k: Kernel, address: number, length: number): Uint8Array | number {
  if (length === 0) return new Uint8Array(0);
  if (!k.valid(address, length)) return -EFAULT;
  return new Uint8Array(k.memory.buffer, address, length);
}

/** struct stat for x86-64, 144 bytes (stat(2), arch/x86/include/uapi/asm/stat.h). */
export function writeStat(k: Kernel, address: number, st: VfsStat): number {
  if (!k.valid(address, 144)) return -EFAULT;
  const v = k.view();
  const u64 = (off: number, value: number): void =>
    v.setBigUint64(address + off, BigInt.asUintN(64, BigInt(Math.trunc(value))), true);
  k.bytes().fill(0, address, address + 144);
  u64(0, st.dev);
  u64(8, st.ino);
  u64(16, st.nlink);
  v.setUint32(address + 24, st.mode, true);
  v.setUint32(address + 28, st.uid, true);
  v.setUint32(address + 32, st.gid, true);
  u64(40, st.rdev);
  u64(48, st.size);
  u64(56, st.blksize);
  u64(64, st.blocks);
  const time = (off: number, ms: number): void => {
    const seconds = Math.floor(ms / 1000);
    u64(off, seconds);
    u64(off + 8, Math.floor((ms - seconds * 1000) * 1e6));
  };
  time(72, st.atimeMs);
  time(88, st.mtimeMs);
  time(104, st.ctimeMs);
  return 0;
}
