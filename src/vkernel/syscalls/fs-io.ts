// File syscalls on descriptors: read(2), write(2), readv(2)/writev(2),
// pread(2)/pwrite(2), lseek(2), close(2), dup(2)/dup2/dup3, fcntl(2),
// ioctl(2), fsync(2), ftruncate(2), fstat(2) and getdents64(2). They work on
// the open file description (vfs/open-file.ts), so dup'd descriptors share
// one offset as on Linux.
import { EBADF, EINVAL, ENOTTY } from "../errno.js";
import type { Kernel } from "../kernel.js";
import { O_APPEND, O_CLOEXEC, direntType } from "../vfs/constants.js";
import { descriptor, guestBytes, writeStat } from "./fs-common.js";
import { int, num, type SyscallArgs, type SyscallEntry } from "./types.js";

/** fcntl(2) F_SETFL may change only these status flags (O_APPEND, O_NONBLOCK, O_ASYNC, O_DIRECT, O_NOATIME). */
const SETFL_MASK = O_APPEND | 0o4000 | 0o20000 | 0o40000 | 0o1000000;

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
  switch (int(a[1])) {
    case 0: // F_DUPFD
      return k.installFile(entry.file.retain(), false, int(a[2]));
    case 1030: // F_DUPFD_CLOEXEC
      return k.installFile(entry.file.retain(), true, int(a[2]));
    case 1: // F_GETFD
      return entry.closeOnExec ? 1 : 0;
    case 2: // F_SETFD
      entry.closeOnExec = (int(a[2]) & 1) !== 0;
      return 0;
    case 3: // F_GETFL
      return entry.file.flags & ~O_CLOEXEC;
    case 4: // F_SETFL
      entry.file.flags = (entry.file.flags & ~SETFL_MASK) | (int(a[2]) & SETFL_MASK);
      return 0;
    default:
      return -EINVAL;
  }
}

function fstat(k: Kernel, a: SyscallArgs): number {
  const entry = descriptor(k, a[0]);
  if (entry === undefined) return -EBADF;
  const st = entry.file.stat();
  return typeof st === "number" ? st : writeStat(k, num(a[1]), st);
}

/** getdents64(2): struct linux_dirent64 { u64 ino; s64 off; u16 reclen; u8 type; char name[]; }. */
function getdents64(k: Kernel, a: SyscallArgs): number {
  const entry = descriptor(k, a[0]);
  if (entry === undefined) return -EBADF;
  const entries = entry.file.entries();
  if (typeof entries === "number") return entries;
  const capacity = num(a[2]);
  const out = guestBytes(k, num(a[1]), capacity);
  if (typeof out === "number") return out;
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let used = 0;
  let count = 0;
  for (const dirent of entries) {
    const name = Buffer.from(dirent.name);
    const reclen = Math.ceil((19 + name.length + 1) / 8) * 8;
    if (used + reclen > capacity) break;
    count++;
    v.setBigUint64(used, BigInt(dirent.ino), true);
    // d_off: the offset a later lseek(2) resumes after this entry.
    v.setBigUint64(used + 8, BigInt(entry.file.position + count), true);
    v.setUint16(used + 16, reclen, true);
    v.setUint8(used + 18, direntType(dirent.type));
    out.set(name, used + 19);
    out.fill(0, used + 19 + name.length, used + reclen);
    used += reclen;
  }
  // A buffer too small for the next entry is EINVAL (getdents64(2) ERRORS).
  if (count === 0 && entries.length > 0) return -EINVAL;
  entry.file.consume(count);
  return used;
}

/** ioctl(2): no descriptor is a terminal to the guest yet (TCGETS/TIOCGWINSZ answer ENOTTY). */
function ioctl(k: Kernel, a: SyscallArgs): number {
  return descriptor(k, a[0]) === undefined ? -EBADF : -ENOTTY;
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
  [217, "getdents64", getdents64],
  [292, "dup3", (k, a) => dupTo(k, a, (int(a[2]) & O_CLOEXEC) !== 0, true)],
];
