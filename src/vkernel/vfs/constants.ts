// Linux constants the Vfs speaks: open(2) flags (asm-generic/fcntl.h), the
// st_mode type bits (inode(7)), the errno values errno.ts does not name yet
// (asm-generic/errno-base.h), and helpers to build st_mode and stat values.
import type { NodeType, VfsStat } from "./types.js";

export const O_ACCMODE = 3;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;
export const O_NOCTTY = 0o400;
/** Set by the kernel on every open file of a 64-bit process; F_GETFL shows it. */
export const O_LARGEFILE = 0o100000;
/** O_TMPFILE includes O_DIRECTORY (asm-generic/fcntl.h __O_TMPFILE | O_DIRECTORY). */
export const O_TMPFILE_BITS = 0o20000000;

export const EIO = 5;
export const ENXIO = 6;
export const EBUSY = 16;
export const EXDEV = 18;
export const EROFS = 30;
export const EMLINK = 31;
export const EOPNOTSUPP = 95;

/** The permission bits chmod(2) sets: rwx for all, setuid, setgid, sticky. */
export const PERMISSION_BITS = 0o7777;
export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;
export const S_IXGRP = 0o010;

const TYPE_BITS: Record<NodeType, number> = {
  fifo: 0o010000,
  char: 0o020000,
  directory: 0o040000,
  block: 0o060000,
  file: 0o100000,
  symlink: 0o120000,
  socket: 0o140000,
};

/** st_mode from a node type and permission bits (inode(7)). */
export function modeOf(type: NodeType, permissions: number): number {
  return TYPE_BITS[type] | (permissions & 0o7777);
}

/** Node types by their S_IFMT bits shifted down (asked on every stat and exec). */
const TYPE_OF_BITS: readonly (NodeType | undefined)[] = (() => {
  const table: (NodeType | undefined)[] = new Array<NodeType | undefined>(16).fill(undefined);
  for (const [type, value] of Object.entries(TYPE_BITS)) table[value >>> 12] = type as NodeType;
  return table;
})();

/** The node type st_mode names. */
export function typeOfMode(mode: number): NodeType {
  return TYPE_OF_BITS[(mode & 0o170000) >>> 12] ?? "file";
}

/** d_type for getdents64(2) (DT_* in dirent.h). */
export function direntType(type: NodeType): number {
  return { fifo: 1, char: 2, directory: 4, block: 6, file: 8, symlink: 10, socket: 12 }[type];
}

/** makedev(3) for the small major/minor numbers the vkernel uses. */
export const makedev = (major: number, minor: number): number => (major << 8) | minor;

/** A stat value with Linux's defaults for the fields a tree does not keep. */
export function makeStat(fields: {
  dev: number;
  ino: number;
  type: NodeType;
  permissions: number;
  size: number;
  nlink?: number;
  uid?: number;
  gid?: number;
  rdev?: number;
  mtimeMs?: number;
  atimeMs?: number;
  ctimeMs?: number;
}): VfsStat {
  const mtimeMs = fields.mtimeMs ?? 0;
  return {
    dev: fields.dev,
    ino: fields.ino,
    mode: modeOf(fields.type, fields.permissions),
    nlink: fields.nlink ?? 1,
    uid: fields.uid ?? 0,
    gid: fields.gid ?? 0,
    rdev: fields.rdev ?? 0,
    size: fields.size,
    blksize: 4096,
    // st_blocks counts 512-byte units of whole 4 KiB blocks (stat(2)).
    blocks: Math.ceil(fields.size / 4096) * 8,
    atimeMs: fields.atimeMs ?? mtimeMs,
    mtimeMs,
    ctimeMs: fields.ctimeMs ?? mtimeMs,
  };
}
