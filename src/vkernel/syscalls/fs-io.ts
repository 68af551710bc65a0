// File syscalls on descriptors: read(2), write(2), readv(2)/writev(2),
// pread(2)/pwrite(2), lseek(2), close(2), dup(2)/dup2/dup3, fcntl(2),
// ioctl(2), fsync(2), sync(2)/syncfs(2), ftruncate(2), fstat(2) and
// getdents(2)/getdents64(2). They work on the open file description
// (vfs/open-file.ts), so dup'd descriptors share one offset as on Linux.
import { EBADF, EFAULT, EINVAL } from "../errno.js";
import { MAX_OPEN_FILES, type Kernel } from "../kernel.js";
import {
  O_APPEND,
  O_CLOEXEC,
  O_CREAT,
  O_EXCL,
  O_LARGEFILE,
  O_NOCTTY,
  O_TRUNC,
  direntType,
} from "../vfs/constants.js";
import type { DirEntry } from "../vfs/types.js";
import { descriptor, guestBytes, writeStat } from "./fs-common.js";
import { ioctl } from "./tty.js";
import { int, num, type SyscallArgs, type SyscallEntry } from "./types.js";

/** fcntl(2) F_SETFL may change only these status flags (O_APPEND, O_NONBLOCK, O_ASYNC, O_DIRECT, O_NOATIME). */
const SETFL_MASK = O_APPEND | 0o4000 | 0o20000 | 0o40000 | 0o1000000;
/**
 * Open-time flags the file description does not keep (fs/open.c
 * do_dentry_open), and O_CLOEXEC, a descriptor flag: F_GETFL never shows them.
 */
const NOT_STATUS_FLAGS = O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC;
const F_UNLCK = 2;

function read(k: Kernel, a: SyscallArgs): number {
  const entry = descriptor(k, a[0]);
  if (entry === undefined) return -EBADF;
  const buffer = guestBytes(k, num(a[1]), num(a[2]));
  return typeof buffer === "number" ? buffer : entry.file.read(buffer);
}

function write(k: Kernel, a: SyscallArgs): number {
  const entry = descriptor(k, a[0]);
  if (entry === undefined) return -EBADF;
  const buffer = guestBytes(k, num(a[1]), num(a[2]));
  return typeof buffer === "number" ? buffer : entry.file.write(buffer);
}

function pread(k: Kernel, a: SyscallArgs): number {
  const entry = descriptor(k, a[0]);
  if (entry === undefined) return -EBADF;
  const buffer = guestBytes(k, num(a[1]), num(a[2]));
  return typeof buffer === "number" ? buffer : entry.file.pread(buffer, num(a[3]));
}

function pwrite(k: Kernel, a: SyscallArgs): number {
  const entry = descriptor(k, a[0]);
  if (entry === undefined) return -EBADF;
  const buffer = guestBytes(k, num(a[1]), num(a[2]));
  return typeof buffer === "number" ? buffer : entry.file.pwrite(buffer, num(a[3]));
}

/** readv(2)/writev(2): struct iovec { void *base; size_t len; }, stopping at a short transfer. */
function vectored(op: (k: Kernel, a: SyscallArgs) => number) {
  return (k: Kernel, a: SyscallArgs): number => {
    const v = k.view();
    let total = 0;
    for (let i = 0; i < int(a[2]); i++) {
      const base = num(a[1]) + i * 16;
      const ptr = v.getBigUint64(base, true);
      const len = v.getBigUint64(base + 8, true);
      if (len === 0n) continue;
      const n = op(k, [a[0], ptr, len, 0n, 0n, 0n]);
      if (n < 0) return total > 0 ? total : n;
      total += n;
      if (n < Number(len)) break;
    }
    return total;
  };
}

function lseek(k: Kernel, a: SyscallArgs): number {
  const entry = descriptor(k, a[0]);
  return entry === undefined ? -EBADF : entry.file.seek(num(a[1]), int(a[2]));
}

function close(k: Kernel, a: SyscallArgs): number {
  return k.closeFd(int(a[0])) ? 0 : -EBADF;
}

/** dup2(2)/dup3(2): `target` is closed first, silently, unless it is the same descriptor. */
function dupTo(k: Kernel, a: SyscallArgs, cloexec: boolean, isDup3: boolean): number {
  const entry = descriptor(k, a[0]);
  if (entry === undefined) return -EBADF;
  const target = int(a[1]);
  if (target === int(a[0])) return isDup3 ? -EINVAL : target;
  if (target < 0) return -EBADF;
  k.closeFd(target);
  return k.installFile(entry.file.retain(), cloexec, target);
}

function fcntl(k: Kernel, a: SyscallArgs): number {
  const entry = descriptor(k, a[0]);
  if (entry === undefined) return -EBADF;
  const command = int(a[1]);
  switch (command) {
    case 0: // F_DUPFD
    case 1030: {
      // F_DUPFD_CLOEXEC; an argument outside [0, RLIMIT_NOFILE) is EINVAL.
      const from = int(a[2]);
      if (from < 0 || from >= MAX_OPEN_FILES) return -EINVAL;
      return k.installFile(entry.file.retain(), command === 1030, from);
    }
    case 1: // F_GETFD
      return entry.closeOnExec ? 1 : 0;
    case 2: // F_SETFD
      entry.closeOnExec = (int(a[2]) & 1) !== 0;
      return 0;
    case 3: // F_GETFL; a 64-bit kernel marks every file O_LARGEFILE.
      return (entry.file.flags & ~NOT_STATUS_FLAGS) | O_LARGEFILE;
    case 4: // F_SETFL
      entry.file.flags = (entry.file.flags & ~SETFL_MASK) | (int(a[2]) & SETFL_MASK);
      return 0;
    case 5: // F_GETLK
    case 36: // F_OFD_GETLK
      return unlockedLock(k, num(a[2]));
    case 6: // F_SETLK
    case 7: // F_SETLKW
    case 37: // F_OFD_SETLK
    case 38: // F_OFD_SETLKW
      // Record locks are granted and not enforced between processes yet.
      return k.valid(num(a[2]), 32) ? 0 : -EFAULT;
    default:
      return -EINVAL;
  }
}

/** F_GETLK's answer when nothing conflicts: struct flock's l_type set to F_UNLCK. */
function unlockedLock(k: Kernel, address: number): number {
  if (!k.valid(address, 32)) return -EFAULT;
  k.view().setInt16(address, F_UNLCK, true);
  return 0;
}

function fstat(k: Kernel, a: SyscallArgs): number {
  const entry = descriptor(k, a[0]);
  if (entry === undefined) return -EBADF;
  const st = entry.file.stat();
  return typeof st === "number" ? st : writeStat(k, num(a[1]), st);
}

/** Writes one directory record at `at`; its length is `reclen`. */
type DirentWriter = (
  out: Uint8Array,
  at: number,
  reclen: number,
  dirent: DirEntry,
  next: number,
) => void;

/**
 * getdents64(2): struct linux_dirent64 { u64 ino; s64 off; u16 reclen; u8
 * type; char name[]; }, 8-byte aligned.
 */
const dirent64 = {
  reclen: (name: number): number => Math.ceil((19 + name + 1) / 8) * 8,
  write: ((out, at, reclen, dirent, next) => {
    const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
    v.setBigUint64(at, BigInt(dirent.ino), true);
    v.setBigUint64(at + 8, BigInt(next), true);
    v.setUint16(at + 16, reclen, true);
    v.setUint8(at + 18, direntType(dirent.type));
    const name = Buffer.from(dirent.name);
    out.set(name, at + 19);
    out.fill(0, at + 19 + name.length, at + reclen);
  }) satisfies DirentWriter,
};

/**
 * getdents(2): struct linux_dirent { unsigned long ino, off; u16 reclen;
 * char name[]; }, with the type in the record's last byte after the NUL.
 */
const dirent = {
  reclen: (name: number): number => Math.ceil((18 + name + 2) / 8) * 8,
  write: ((out, at, reclen, dirent, next) => {
    const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
    v.setBigUint64(at, BigInt(dirent.ino), true);
    v.setBigUint64(at + 8, BigInt(next), true);
    v.setUint16(at + 16, reclen, true);
    const name = Buffer.from(dirent.name);
    out.set(name, at + 18);
    out.fill(0, at + 18 + name.length, at + reclen);
    out[at + reclen - 1] = direntType(dirent.type);
  }) satisfies DirentWriter,
};

function getdents(format: typeof dirent64) {
  return (k: Kernel, a: SyscallArgs): number => {
    const entry = descriptor(k, a[0]);
    if (entry === undefined) return -EBADF;
    const entries = entry.file.entries();
    if (typeof entries === "number") return entries;
    const capacity = num(a[2]);
    const out = guestBytes(k, num(a[1]), capacity);
    if (typeof out === "number") return out;
    let used = 0;
    let count = 0;
    for (const d of entries) {
      const reclen = format.reclen(Buffer.byteLength(d.name));
      if (used + reclen > capacity) break;
      count++;
      // d_off: the offset a later lseek(2) resumes after this entry.
      format.write(out, used, reclen, d, entry.file.position + count);
      used += reclen;
    }
    // A buffer too small for the next entry is EINVAL (getdents64(2) ERRORS).
    if (count === 0 && entries.length > 0) return -EINVAL;
    entry.file.consume(count);
    return used;
  };
}

function ftruncate(k: Kernel, a: SyscallArgs): number {
  const entry = descriptor(k, a[0]);
  return entry === undefined ? -EBADF : entry.file.truncate(num(a[1]));
}

/** fsync(2)/fdatasync(2): nothing is buffered outside the node. */
function fsync(k: Kernel, a: SyscallArgs): number {
  return descriptor(k, a[0]) === undefined ? -EBADF : 0;
}

export const fsIoSyscalls: readonly SyscallEntry[] = [
  [0, "read", read],
  [1, "write", write],
  [3, "close", close],
  [5, "fstat", fstat],
  [8, "lseek", lseek],
  [16, "ioctl", ioctl],
  [17, "pread64", pread],
  [18, "pwrite64", pwrite],
  [19, "readv", vectored(read)],
  [20, "writev", vectored(write)],
  [
    32,
    "dup",
    (k, a) => {
      const entry = descriptor(k, a[0]);
      return entry === undefined ? -EBADF : k.installFile(entry.file.retain(), false);
    },
  ],
  [33, "dup2", (k, a) => dupTo(k, a, false, false)],
  [72, "fcntl", fcntl],
  [74, "fsync", fsync],
  [75, "fdatasync", fsync],
  [77, "ftruncate", ftruncate],
  [78, "getdents", getdents(dirent)],
  [162, "sync", () => 0],
  [217, "getdents64", getdents(dirent64)],
  [306, "syncfs", fsync],
  [292, "dup3", (k, a) => dupTo(k, a, (int(a[2]) & O_CLOEXEC) !== 0, true)],
];
