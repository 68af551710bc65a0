// What the file syscalls share: the descriptor an argument names, the
// directory a *at() path starts from (openat(2) "dirfd"), guest buffers as
// byte views, and stat(2)'s struct stat for x86-64 (asm/stat.h).
import { EBADF, EFAULT, ENOTDIR } from "../errno.js";
import type { FileDescriptor, Kernel } from "../kernel.js";
import type { VfsStat } from "../vfs/types.js";
import { int } from "./types.js";

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;
export const AT_EMPTY_PATH = 0x1000;

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
