// Linux errno values (include/uapi/asm-generic/errno-base.h, errno.h) that
// the vkernel returns negated to the guest, and the mapping from Node's
// error codes.
export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EIO = 5;
export const E2BIG = 7;
export const ENOEXEC = 8;
export const EBADF = 9;
export const ECHILD = 10;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EEXIST = 17;
export const ENOTDIR = 20;
export const EISDIR = 21;
export const EINVAL = 22;
export const EMFILE = 24;
export const ENOTTY = 25;
export const ESPIPE = 29;
export const EPIPE = 32;
export const ERANGE = 34;
export const ENOSYS = 38;
export const ENOTEMPTY = 39;
export const ELOOP = 40;
export const ENAMETOOLONG = 36;

const BY_NODE_CODE: Record<string, number> = {
  EPERM,
  ENOENT,
  EBADF,
  ENOMEM,
  EACCES,
  EEXIST,
  ENOTDIR,
  EISDIR,
  EINVAL,
  EMFILE,
  ENOTTY,
  ESPIPE,
  ENOTEMPTY,
  ELOOP,
  ENAMETOOLONG,
};

/** -errno for a Node fs error (EIO when it has no known code). */
export function errnoOf(err: unknown): number {
  const code = (err as { code?: unknown }).code;
  return -(typeof code === "string" ? (BY_NODE_CODE[code] ?? 5) : 5);
}
