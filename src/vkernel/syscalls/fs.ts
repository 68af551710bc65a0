// File syscalls (read(2), write(2), readv(2), writev(2), pread(2), openat(2),
// close(2), fstat(2)/newfstatat, lseek(2), getdents64(2), ioctl(2) TCGETS/
// TIOCGWINSZ, fcntl(2), access, unlink, rename, mkdir, ftruncate, getcwd,
// readlink) over the host files under the root directory.
import * as fs from "node:fs";
import { EBADF, EINVAL, ENOENT, ENOTDIR, ENOTTY, ESPIPE, errnoOf } from "../errno.js";
import { writeStat, type Kernel, type OpenFile } from "../kernel.js";
import { int, num, type SyscallArgs, type SyscallEntry } from "./types.js";

const AT_FDCWD = -100;
const AT_EMPTY_PATH = 0x1000;
const O_ACCMODE = 3;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_TRUNC = 0o1000;
const O_APPEND = 0o2000;
const O_DIRECTORY = 0o200000;
const O_CLOEXEC = 0o2000000;

function file(k: Kernel, fd: bigint): OpenFile | undefined {
  return k.files.get(int(fd));
}

/** The directory a *at() path is relative to, as a guest path. */
function baseDir(k: Kernel, dirfd: bigint): string | number {
  const d = int(dirfd);
  if (d === AT_FDCWD) return k.fs.cwd;
  const f = k.files.get(d);
  if (f === undefined) return -EBADF;
  return f.directory ? f.path : -ENOTDIR;
}

function resolve(
  k: Kernel,
  dirfd: bigint,
  pathPtr: bigint,
): { guest: string; host: string } | number {
  const path = k.readString(num(pathPtr));
  if (path === "") return -ENOENT;
  const dir = baseDir(k, dirfd);
  if (typeof dir === "number") return dir;
  const host = k.fs.hostPath(path, dir);
  if (typeof host === "number") return host;
  return { guest: k.fs.guestPath(path, dir), host };
}

function readInto(
  k: Kernel,
  f: OpenFile,
  address: number,
  length: number,
  at: number | null,
): number {
  if (f.directory) return -21;
  const buffer = Buffer.from(k.memory.buffer, address, length);
  try {
    const n = fs.readSync(f.hostFd, buffer, 0, length, at);
    return n;
  } catch (err) {
    if ((err as { code?: string }).code === "EAGAIN") return 0;
    if ((err as { code?: string }).code === "EOF") return 0;
    return errnoOf(err);
  }
}

function writeFrom(
  k: Kernel,
  f: OpenFile,
  address: number,
  length: number,
  at: number | null,
): number {
  const bytes = new Uint8Array(k.memory.buffer, address, length);
  if (f.hostFd === 1 && k.options.stdout) return (k.options.stdout(bytes.slice()), length);
  if (f.hostFd === 2 && k.options.stderr) return (k.options.stderr(bytes.slice()), length);
  try {
    let done = 0;
    while (done < length) {
      done += fs.writeSync(f.hostFd, bytes, done, length - done, at === null ? null : at + done);
    }
    return done;
  } catch (err) {
    return errnoOf(err);
  }
}

function read(k: Kernel, a: SyscallArgs): number {
  const f = file(k, a[0]);
  if (f === undefined) return -EBADF;
  const n = readInto(k, f, num(a[1]), num(a[2]), f.position);
  if (n > 0 && f.position !== null) f.position += n;
  return n;
}

function write(k: Kernel, a: SyscallArgs): number {
  const f = file(k, a[0]);
  if (f === undefined) return -EBADF;
  const at = f.append ? null : f.position;
  const n = writeFrom(k, f, num(a[1]), num(a[2]), at);
  if (n > 0 && f.position !== null)
    f.position = f.append ? fs.fstatSync(f.hostFd).size : f.position + n;
  return n;
}

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

function pread(k: Kernel, a: SyscallArgs): number {
  const f = file(k, a[0]);
  if (f === undefined) return -EBADF;
  if (f.position === null) return -ESPIPE;
  return readInto(k, f, num(a[1]), num(a[2]), num(a[3]));
}

function pwrite(k: Kernel, a: SyscallArgs): number {
  const f = file(k, a[0]);
  if (f === undefined) return -EBADF;
  if (f.position === null) return -ESPIPE;
  return writeFrom(k, f, num(a[1]), num(a[2]), num(a[3]));
}

function openAt(
  k: Kernel,
  dirfd: bigint,
  pathPtr: bigint,
  flagsArg: bigint,
  modeArg: bigint,
): number {
  const where = resolve(k, dirfd, pathPtr);
  if (typeof where === "number") return where;
  const flags = int(flagsArg);
  try {
    let directory = false;
    try {
      directory = fs.statSync(where.host).isDirectory();
    } catch {
      directory = false;
    }
    if ((flags & O_DIRECTORY) !== 0 && !directory) return -ENOTDIR;
    const access = flags & O_ACCMODE;
    let hostFlags =
      access === 0
        ? fs.constants.O_RDONLY
        : access === 1
          ? fs.constants.O_WRONLY
          : fs.constants.O_RDWR;
    if (flags & O_CREAT) hostFlags |= fs.constants.O_CREAT;
    if (flags & O_EXCL) hostFlags |= fs.constants.O_EXCL;
    if (flags & O_TRUNC) hostFlags |= fs.constants.O_TRUNC;
    if (flags & O_APPEND) hostFlags |= fs.constants.O_APPEND;
    const hostFd = fs.openSync(where.host, hostFlags, int(modeArg) & ~k.umask & 0o7777);
    const fd = k.lowestFreeFd();
    k.files.set(fd, {
      hostFd,
      path: where.guest,
      position: 0,
      append: (flags & O_APPEND) !== 0,
      directory,
      dirCursor: 0,
      closeOnExec: (flags & O_CLOEXEC) !== 0,
      shared: false,
    });
    return fd;
  } catch (err) {
    return errnoOf(err);
  }
}

function close(k: Kernel, a: SyscallArgs): number {
  const f = file(k, a[0]);
  if (f === undefined) return -EBADF;
  k.files.delete(int(a[0]));
  if (!f.shared && ![...k.files.values()].some((o) => o.hostFd === f.hostFd))
    fs.closeSync(f.hostFd);
  return 0;
}

function fstat(k: Kernel, a: SyscallArgs): number {
  const f = file(k, a[0]);
  if (f === undefined) return -EBADF;
  try {
    writeStat(k, num(a[1]), fs.fstatSync(f.hostFd));
    return 0;
  } catch (err) {
    return errnoOf(err);
  }
}

function newfstatat(k: Kernel, a: SyscallArgs): number {
  if ((int(a[3]) & AT_EMPTY_PATH) !== 0 && k.readString(num(a[1])) === "") {
    return fstat(k, [a[0], a[2], 0n, 0n, 0n, 0n]);
  }
  const where = resolve(k, a[0], a[1]);
  if (typeof where === "number") return where;
  try {
    const nofollow = (int(a[3]) & 0x100) !== 0;
    writeStat(k, num(a[2]), nofollow ? fs.lstatSync(where.host) : fs.statSync(where.host));
    return 0;
  } catch (err) {
    return errnoOf(err);
  }
}

function lseek(k: Kernel, a: SyscallArgs): number {
  const f = file(k, a[0]);
  if (f === undefined) return -EBADF;
  if (f.position === null) return -ESPIPE;
  const offset = num(a[1]);
  const whence = int(a[2]);
  let base: number;
  if (whence === 0) base = 0;
  else if (whence === 1) base = f.position;
  else if (whence === 2) base = fs.fstatSync(f.hostFd).size;
  else return -EINVAL;
  if (base + offset < 0) return -EINVAL;
  f.position = base + offset;
  return f.position;
}

/** getdents64(2): struct linux_dirent64 { u64 ino; s64 off; u16 reclen; u8 type; char name[]; }. */
function getdents64(k: Kernel, a: SyscallArgs): number {
  const f = file(k, a[0]);
  if (f === undefined) return -EBADF;
  if (!f.directory) return -ENOTDIR;
  const host = k.fs.hostPath(f.path);
  if (typeof host === "number") return host;
  const entries = [".", "..", ...fs.readdirSync(host).sort()];
  const v = k.view();
  const start = num(a[1]);
  const capacity = num(a[2]);
  let used = 0;
  while (f.dirCursor < entries.length) {
    const name = Buffer.from(entries[f.dirCursor] as string);
    const reclen = Math.ceil((19 + name.length + 1) / 8) * 8;
    if (used + reclen > capacity) break;
    let type = 0;
    try {
      const st = fs.lstatSync(`${host}/${entries[f.dirCursor]}`);
      type = st.isDirectory() ? 4 : st.isSymbolicLink() ? 10 : st.isFile() ? 8 : 0;
    } catch {
      type = 0;
    }
    const at = start + used;
    v.setBigUint64(at, BigInt(f.dirCursor + 1), true);
    v.setBigUint64(at + 8, BigInt(f.dirCursor + 1), true);
    v.setUint16(at + 16, reclen, true);
    v.setUint8(at + 18, type);
    k.bytes().set(name, at + 19);
    k.bytes().fill(0, at + 19 + name.length, at + reclen);
    used += reclen;
    f.dirCursor++;
  }
  if (used === 0 && f.dirCursor < entries.length) return -EINVAL;
  return used;
}

/** ioctl(2): TCGETS and TIOCGWINSZ answer ENOTTY unless the host fd is a terminal. */
function ioctl(k: Kernel, a: SyscallArgs): number {
  const f = file(k, a[0]);
  if (f === undefined) return -EBADF;
  return -ENOTTY;
}

function fcntl(k: Kernel, a: SyscallArgs): number {
  const f = file(k, a[0]);
  if (f === undefined) return -EBADF;
  switch (int(a[1])) {
    case 0: // F_DUPFD
    case 1030: {
      // F_DUPFD_CLOEXEC
      const fd = k.lowestFreeFd(int(a[2]));
      k.files.set(fd, { ...f, shared: true });
      return fd;
    }
    case 1: // F_GETFD
      return f.closeOnExec ? 1 : 0;
    case 2: // F_SETFD
      f.closeOnExec = (int(a[2]) & 1) !== 0;
      return 0;
    case 3: // F_GETFL
      return f.append ? O_APPEND | 2 : 2;
    case 4: // F_SETFL
      return 0;
    default:
      return -EINVAL;
  }
}

function pathOp(op: (host: string, k: Kernel, a: SyscallArgs) => void, dirArg: boolean) {
  return (k: Kernel, a: SyscallArgs): number => {
    const where = dirArg ? resolve(k, a[0], a[1]) : resolve(k, BigInt(AT_FDCWD), a[0]);
    if (typeof where === "number") return where;
    try {
      op(where.host, k, a);
      return 0;
    } catch (err) {
      return errnoOf(err);
    }
  };
}

function rename(
  k: Kernel,
  from: { dir: bigint; path: bigint },
  to: { dir: bigint; path: bigint },
): number {
  const a = resolve(k, from.dir, from.path);
  const b = resolve(k, to.dir, to.path);
  if (typeof a === "number") return a;
  if (typeof b === "number") return b;
  try {
    fs.renameSync(a.host, b.host);
    return 0;
  } catch (err) {
    return errnoOf(err);
  }
}

function ftruncate(k: Kernel, a: SyscallArgs): number {
  const f = file(k, a[0]);
  if (f === undefined) return -EBADF;
  try {
    fs.ftruncateSync(f.hostFd, num(a[1]));
    return 0;
  } catch (err) {
    return errnoOf(err);
  }
}

function getcwd(k: Kernel, a: SyscallArgs): number {
  const bytes = Buffer.from(k.fs.cwd + "\0");
  if (bytes.length > num(a[1])) return -34;
  k.bytes().set(bytes, num(a[0]));
  return bytes.length;
}

function dup(k: Kernel, a: SyscallArgs, target?: number): number {
  const f = file(k, a[0]);
  if (f === undefined) return -EBADF;
  const fd = target ?? k.lowestFreeFd();
  if (target !== undefined && k.files.has(target)) close(k, [BigInt(target), 0n, 0n, 0n, 0n, 0n]);
  k.files.set(fd, { ...f, shared: true });
  return fd;
}

export const fsSyscalls: readonly SyscallEntry[] = [
  [0, "read", read],
  [1, "write", write],
  [2, "open", (k, a) => openAt(k, BigInt(AT_FDCWD), a[0], a[1], a[2])],
  [3, "close", close],
  [4, "stat", (k, a) => newfstatat(k, [BigInt(AT_FDCWD), a[0], a[1], 0n, 0n, 0n])],
  [5, "fstat", fstat],
  [6, "lstat", (k, a) => newfstatat(k, [BigInt(AT_FDCWD), a[0], a[1], 0x100n, 0n, 0n])],
  [8, "lseek", lseek],
  [16, "ioctl", ioctl],
  [17, "pread64", pread],
  [18, "pwrite64", pwrite],
  [19, "readv", vectored(read)],
  [20, "writev", vectored(write)],
  [21, "access", pathOp((h) => fs.accessSync(h), false)],
  [32, "dup", (k, a) => dup(k, a)],
  [33, "dup2", (k, a) => dup(k, a, int(a[1]))],
  [72, "fcntl", fcntl],
  [74, "fsync", () => 0],
  [77, "ftruncate", ftruncate],
  [79, "getcwd", getcwd],
  [
    82,
    "rename",
    (k, a) =>
      rename(k, { dir: BigInt(AT_FDCWD), path: a[0] }, { dir: BigInt(AT_FDCWD), path: a[1] }),
  ],
  [83, "mkdir", pathOp((h, _k, a) => fs.mkdirSync(h, int(a[1])), false)],
  [84, "rmdir", pathOp((h) => fs.rmdirSync(h), false)],
  [87, "unlink", pathOp((h) => fs.unlinkSync(h), false)],
  [217, "getdents64", getdents64],
  [257, "openat", (k, a) => openAt(k, a[0], a[1], a[2], a[3])],
  [258, "mkdirat", pathOp((h, _k, a) => fs.mkdirSync(h, int(a[2])), true)],
  [262, "newfstatat", newfstatat],
  [
    263,
    "unlinkat",
    pathOp((h, _k, a) => ((int(a[2]) & 0x200) !== 0 ? fs.rmdirSync(h) : fs.unlinkSync(h)), true),
  ],
  [264, "renameat", (k, a) => rename(k, { dir: a[0], path: a[1] }, { dir: a[2], path: a[3] })],
  [269, "faccessat", pathOp((h) => fs.accessSync(h), true)],
  [316, "renameat2", (k, a) => rename(k, { dir: a[0], path: a[1] }, { dir: a[2], path: a[3] })],
  [439, "faccessat2", pathOp((h) => fs.accessSync(h), true)],
];
