// File syscalls on paths, served by the Vfs (vfs/): open(2)/openat(2)/
// creat(2), stat(2)/lstat(2)/newfstatat, access(2)/faccessat(2), mkdir(2),
// rmdir(2), unlink(2)/unlinkat, rename(2)/renameat2, link(2)/linkat,
// symlink(2), readlink(2), truncate(2), getcwd(2), chdir(2)/fchdir. A relative path starts at the
// cwd or at the directory a dirfd names; no path leaves the guest root.
import { EACCES, EBADF, EEXIST, EINVAL, ENOTDIR, ERANGE } from "../errno.js";
import type { Kernel } from "../kernel.js";
import { O_CLOEXEC, O_CREAT, O_TRUNC, O_WRONLY, typeOfMode } from "../vfs/constants.js";
import {
  AT_EMPTY_PATH,
  AT_REMOVEDIR,
  AT_SYMLINK_FOLLOW,
  AT_SYMLINK_NOFOLLOW,
  CWD,
  descriptor,
  guestBytes,
  pathArg,
  statTarget,
  writeStat,
} from "./fs-common.js";
import { int, num, type SyscallArgs, type SyscallEntry } from "./types.js";

const X_OK = 1;
const AT_NO_AUTOMOUNT = 0x800;
const RENAME_NOREPLACE = 1;

function openAt(k: Kernel, dirfd: bigint, pathPtr: bigint, flags: bigint, mode: bigint): number {
  const where = pathArg(k, dirfd, pathPtr);
  if (typeof where === "number") return where;
  const file = k.vfs.open(where.path, int(flags), int(mode) & ~k.umask, where.base);
  if (typeof file === "number") return file;
  return k.installFile(file, (int(flags) & O_CLOEXEC) !== 0);
}

function statAt(k: Kernel, dirfd: bigint, pathPtr: bigint, out: bigint, flags: number): number {
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT)) !== 0) return -EINVAL;
  const st = statTarget(k, dirfd, pathPtr, flags);
  return typeof st === "number" ? st : writeStat(k, num(out), st);
}

/** link(2)/linkat(2): the existing path's final symlink is followed only with AT_SYMLINK_FOLLOW. */
function linkAt(
  k: Kernel,
  from: { dir: bigint; path: bigint },
  to: { dir: bigint; path: bigint },
  flags: number,
): number {
  if ((flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) !== 0) return -EINVAL;
  const b = pathArg(k, to.dir, to.path);
  if (typeof b === "number") return b;
  // AT_EMPTY_PATH links the file dirfd names (a descriptor of an existing file).
  if (
    (flags & AT_EMPTY_PATH) !== 0 &&
    k.valid(num(from.path), 1) &&
    k.readString(num(from.path)) === ""
  ) {
    const entry = descriptor(k, from.dir);
    if (entry === undefined) return -EBADF;
    return k.vfs.link(entry.file.path, b.path, false, "/", b.base);
  }
  const a = pathArg(k, from.dir, from.path);
  if (typeof a === "number") return a;
  return k.vfs.link(a.path, b.path, (flags & AT_SYMLINK_FOLLOW) !== 0, a.base, b.base);
}

/** access(2) as root: read and write are always granted; execute needs an x bit on a non-directory. */
function accessAt(k: Kernel, dirfd: bigint, pathPtr: bigint, mode: bigint): number {
  const where = pathArg(k, dirfd, pathPtr);
  if (typeof where === "number") return where;
  if ((int(mode) & ~7) !== 0) return -EINVAL;
  const st = k.vfs.stat(where.path, false, where.base);
  if (typeof st === "number") return st;
  const executable = typeOfMode(st.mode) === "directory" || (st.mode & 0o111) !== 0;
  return (int(mode) & X_OK) !== 0 && !executable ? -EACCES : 0;
}

function pathCall(
  k: Kernel,
  dirfd: bigint,
  pathPtr: bigint,
  op: (path: string, base: string) => number,
): number {
  const where = pathArg(k, dirfd, pathPtr);
  return typeof where === "number" ? where : op(where.path, where.base);
}

function rename2(
  k: Kernel,
  from: { dir: bigint; path: bigint },
  to: { dir: bigint; path: bigint },
  flags: number,
): number {
  if ((flags & ~RENAME_NOREPLACE) !== 0) return -EINVAL;
  const a = pathArg(k, from.dir, from.path);
  if (typeof a === "number") return a;
  const b = pathArg(k, to.dir, to.path);
  if (typeof b === "number") return b;
  if ((flags & RENAME_NOREPLACE) !== 0) {
    const existing = k.vfs.stat(b.path, true, b.base);
    if (typeof existing !== "number") return -EEXIST;
  }
  return k.vfs.rename(a.path, b.path, a.base, b.base);
}

function readlinkAt(k: Kernel, dirfd: bigint, pathPtr: bigint, buf: bigint, size: bigint): number {
  if (num(size) <= 0) return -EINVAL;
  const where = pathArg(k, dirfd, pathPtr);
  if (typeof where === "number") return where;
  const target = k.vfs.readlink(where.path, where.base);
  if (typeof target === "number") return target;
  // readlink(2) does not append a NUL and silently truncates.
  const bytes = Buffer.from(target).subarray(0, num(size));
  const out = guestBytes(k, num(buf), bytes.length);
  if (typeof out === "number") return out;
  out.set(bytes);
  return bytes.length;
}

function getcwd(k: Kernel, a: SyscallArgs): number {
  const bytes = Buffer.from(`${k.cwd}\0`);
  if (bytes.length > num(a[1])) return -ERANGE;
  const out = guestBytes(k, num(a[0]), bytes.length);
  if (typeof out === "number") return out;
  out.set(bytes);
  return bytes.length;
}

function chdir(k: Kernel, a: SyscallArgs): number {
  const where = pathArg(k, CWD, a[0]);
  if (typeof where === "number") return where;
  const dir = k.vfs.directory(where.path, where.base);
  if (typeof dir === "number") return dir;
  k.cwd = dir;
  return 0;
}

function fchdir(k: Kernel, a: SyscallArgs): number {
  const entry = descriptor(k, a[0]);
  if (entry === undefined) return -EBADF;
  if (!entry.file.directory) return -ENOTDIR;
  k.cwd = entry.file.path;
  return 0;
}

export const fsPathSyscalls: readonly SyscallEntry[] = [
  [2, "open", (k, a) => openAt(k, CWD, a[0], a[1], a[2])],
  [4, "stat", (k, a) => statAt(k, CWD, a[0], a[1], 0)],
  [6, "lstat", (k, a) => statAt(k, CWD, a[0], a[1], AT_SYMLINK_NOFOLLOW)],
  [21, "access", (k, a) => accessAt(k, CWD, a[0], a[1])],
  [76, "truncate", (k, a) => pathCall(k, CWD, a[0], (p, b) => k.vfs.truncate(p, num(a[1]), b))],
  [79, "getcwd", getcwd],
  [80, "chdir", chdir],
  [81, "fchdir", fchdir],
  [82, "rename", (k, a) => rename2(k, { dir: CWD, path: a[0] }, { dir: CWD, path: a[1] }, 0)],
  [
    83,
    "mkdir",
    (k, a) => pathCall(k, CWD, a[0], (p, b) => k.vfs.mkdir(p, int(a[1]) & ~k.umask, b)),
  ],
  [84, "rmdir", (k, a) => pathCall(k, CWD, a[0], (p, b) => k.vfs.rmdir(p, b))],
  // creat(2) is open(2) with O_CREAT | O_WRONLY | O_TRUNC.
  [85, "creat", (k, a) => openAt(k, CWD, a[0], BigInt(O_CREAT | O_WRONLY | O_TRUNC), a[1])],
  [86, "link", (k, a) => linkAt(k, { dir: CWD, path: a[0] }, { dir: CWD, path: a[1] }, 0)],
  [87, "unlink", (k, a) => pathCall(k, CWD, a[0], (p, b) => k.vfs.unlink(p, b))],
  [88, "symlink", (k, a) => symlinkAt(k, a[0], CWD, a[1])],
  [89, "readlink", (k, a) => readlinkAt(k, CWD, a[0], a[1], a[2])],
  [257, "openat", (k, a) => openAt(k, a[0], a[1], a[2], a[3])],
  [
    258,
    "mkdirat",
    (k, a) => pathCall(k, a[0], a[1], (p, b) => k.vfs.mkdir(p, int(a[2]) & ~k.umask, b)),
  ],
  [262, "newfstatat", (k, a) => statAt(k, a[0], a[1], a[2], int(a[3]))],
  [
    263,
    "unlinkat",
    (k, a) =>
      (int(a[2]) & ~AT_REMOVEDIR) !== 0
        ? -EINVAL
        : pathCall(k, a[0], a[1], (p, b) =>
            (int(a[2]) & AT_REMOVEDIR) !== 0 ? k.vfs.rmdir(p, b) : k.vfs.unlink(p, b),
          ),
  ],
  [264, "renameat", (k, a) => rename2(k, { dir: a[0], path: a[1] }, { dir: a[2], path: a[3] }, 0)],
  [
    265,
    "linkat",
    (k, a) => linkAt(k, { dir: a[0], path: a[1] }, { dir: a[2], path: a[3] }, int(a[4])),
  ],
  [266, "symlinkat", (k, a) => symlinkAt(k, a[0], a[1], a[2])],
  [267, "readlinkat", (k, a) => readlinkAt(k, a[0], a[1], a[2], a[3])],
  [269, "faccessat", (k, a) => accessAt(k, a[0], a[1], a[2])],
  [
    316,
    "renameat2",
    (k, a) => rename2(k, { dir: a[0], path: a[1] }, { dir: a[2], path: a[3] }, int(a[4])),
  ],
  [439, "faccessat2", (k, a) => accessAt(k, a[0], a[1], a[2])],
];

/** symlink(2)/symlinkat: the target is stored as given, never resolved. */
function symlinkAt(k: Kernel, targetPtr: bigint, dirfd: bigint, pathPtr: bigint): number {
  const target = k.readString(num(targetPtr));
  return pathCall(k, dirfd, pathPtr, (p, b) => k.vfs.symlink(target, p, b));
}
