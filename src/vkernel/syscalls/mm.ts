// Memory syscalls: brk(2), mmap(2) (anonymous, and private file mappings by
// copying), munmap(2), mprotect(2) (accepted: wasm memory has no page
// protection), mremap(2) (in place when the range after the mapping is free,
// else moved by copy), madvise(2).
import { EBADF, EINVAL, ENOMEM } from "../errno.js";
import type { Kernel } from "../kernel.js";
import { int, num, type SyscallArgs, type SyscallEntry } from "./types.js";

const MAP_FIXED = 0x10;
const MAP_ANONYMOUS = 0x20;
const MREMAP_MAYMOVE = 1;

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
  if (length <= 0) return -EINVAL;
  const hint = (flags & MAP_FIXED) !== 0 ? num(a[0]) : 0;
  const address = k.space.map(length, hint);
  if (address === undefined) return outOfMemory(k, length);
  if ((flags & MAP_ANONYMOUS) === 0) {
    const f = k.files.get(int(a[4]));
    if (f === undefined) {
      k.space.unmap(address, length);
      return -EBADF;
    }
    // A private file mapping is a copy (wasm memory cannot share pages with a
    // file): read through the open file, so image and device files map too.
    // Bytes past the end of the file stay zero, as mmap(2) gives them.
    const target = new Uint8Array(k.memory.buffer, address, length);
    target.fill(0);
    const n = f.file.pread(target, num(a[5]));
    if (n < 0) {
      k.space.unmap(address, length);
      return n;
    }
  }
  return address;
}

function mremap(k: Kernel, a: SyscallArgs): number {
  const old = num(a[0]);
  const oldSize = num(a[1]);
  const newSize = num(a[2]);
  if (k.space.resize(old, oldSize, newSize)) return old;
  if ((int(a[3]) & MREMAP_MAYMOVE) === 0) return -ENOMEM;
  const address = k.space.map(newSize);
  if (address === undefined) return outOfMemory(k, newSize);
  k.bytes().copyWithin(address, old, old + Math.min(oldSize, newSize));
  k.space.unmap(old, oldSize);
  return address;
}

export const mmSyscalls: readonly SyscallEntry[] = [
  [9, "mmap", mmap],
  [10, "mprotect", () => 0],
  [11, "munmap", (k, a) => (k.space.unmap(num(a[0]), num(a[1])), 0)],
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
