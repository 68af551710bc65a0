// Memory syscalls: brk(2), mmap(2) (anonymous, and private file mappings by
// copying), munmap(2), mprotect(2) (accepted: wasm memory has no page
// protection), mremap(2) (in place when the range after the mapping is free,
// else moved by copy), madvise(2). Arguments Linux refuses get its errno
// (EINVAL for an unaligned address, a zero length, an unknown mremap flag),
// and MAP_FIXED and MREMAP_FIXED get exactly the address asked for or an error.
import { PAGE_SIZE } from "../../lift/guest-layout.js";
import { EBADF, EEXIST, EINVAL, ENOMEM } from "../errno.js";
import type { Kernel } from "../kernel.js";
import { int, num, type SyscallArgs, type SyscallEntry } from "./types.js";

const MAP_FIXED = 0x10;
const MAP_ANONYMOUS = 0x20;
const MAP_FIXED_NOREPLACE = 0x100000;
const MREMAP_MAYMOVE = 1;
const MREMAP_FIXED = 2;

const aligned = (address: number): boolean => address % PAGE_SIZE === 0;

/** -ENOMEM, with one line the first time the run's --memory limit refused a request. */
function outOfMemory(k: Kernel, length: number): number {
  if (k.space.limitHit && !k.reportedMemoryLimit) {
    k.reportedMemoryLimit = true;
    const mib = (n: number): string => `${(n / (1 << 20)).toFixed(1)} MiB`;
    k.say(
      `vkernel: ${k.comm || "process"} (pid ${k.pid}): memory limit of ${mib(k.space.limitBytes)} reached (${mib(length)} more refused: ENOMEM)`,
    );
  }
  return -ENOMEM;
}

function mmap(k: Kernel, a: SyscallArgs): number {
  const length = num(a[1]);
  const flags = int(a[3]);
  const wanted = num(a[0]);
  if (length <= 0) return -EINVAL;
  // The descriptor is checked first: a MAP_FIXED call that fails replaces nothing.
  const anonymous = (flags & MAP_ANONYMOUS) !== 0;
  const file = anonymous ? undefined : k.files.get(int(a[4]));
  if (!anonymous && file === undefined) return -EBADF;
  let address: number | undefined;
  if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0) {
    if (!aligned(wanted)) return -EINVAL;
    if ((flags & MAP_FIXED) !== 0) {
      address = k.space.mapFixed(wanted, length);
    } else {
      if (!k.space.isFree(wanted, length)) return -EEXIST;
      address = k.space.map(length, wanted);
    }
  } else {
    // Without MAP_FIXED the address is only a hint (mmap(2)); this one is not taken.
    address = k.space.map(length);
  }
  if (address === undefined) return outOfMemory(k, length);
  if (file !== undefined) {
    // A private file mapping is a copy (wasm memory cannot share pages with a
    // file): read through the open file, so image and device files map too.
    // Bytes past the end of the file stay zero, as mmap(2) gives them.
    const target = new Uint8Array(k.memory.buffer, address, length);
    target.fill(0);
    const n = file.file.pread(target, num(a[5]));
    if (n < 0) {
      k.space.unmap(address, length);
      return n;
    }
  }
  return address;
}

function munmap(k: Kernel, a: SyscallArgs): number {
  if (!aligned(num(a[0])) || num(a[1]) <= 0) return -EINVAL;
  k.space.unmap(num(a[0]), num(a[1]));
  return 0;
}

/**
 * mremap(2). An old size of 0 (a second mapping of a shared one) is EINVAL,
 * as for Linux's private mappings: every mapping here is private. So is
 * MREMAP_DONTUNMAP, as on Linux before 5.7.
 */
function mremap(k: Kernel, a: SyscallArgs): number {
  const old = num(a[0]);
  const oldSize = num(a[1]);
  const newSize = num(a[2]);
  const flags = int(a[3]);
  const fixed = (flags & MREMAP_FIXED) !== 0;
  if ((flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED)) !== 0) return -EINVAL;
  if (fixed && (flags & MREMAP_MAYMOVE) === 0) return -EINVAL;
  if (!aligned(old) || oldSize <= 0 || newSize <= 0) return -EINVAL;
  if (!fixed && k.space.resize(old, oldSize, newSize)) return old;
  if ((flags & MREMAP_MAYMOVE) === 0) return -ENOMEM;
  const target = num(a[4]);
  if (fixed && (!aligned(target) || (target < old + oldSize && old < target + newSize))) {
    return -EINVAL;
  }
  const address = fixed ? k.space.mapFixed(target, newSize) : k.space.map(newSize);
  if (address === undefined) return outOfMemory(k, newSize);
  k.bytes().copyWithin(address, old, old + Math.min(oldSize, newSize));
  k.space.unmap(old, oldSize);
  return address;
}

export const mmSyscalls: readonly SyscallEntry[] = [
  [9, "mmap", mmap],
  [10, "mprotect", () => 0],
  [11, "munmap", munmap],
  [
    12,
    "brk",
    (k, a) => {
      const brk = k.space.setBreak(num(a[0]));
      if (brk < num(a[0])) outOfMemory(k, num(a[0]) - brk);
      return brk;
    },
  ],
  [25, "mremap", mremap],
  [28, "madvise", () => 0],
];
