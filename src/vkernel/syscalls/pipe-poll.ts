// pipe(2)/pipe2(2) (process/pipe.ts) and readiness: poll(2), ppoll(2),
// select(2) and pselect6(2) over pipes, the host's stdio and files. A call
// that finds nothing ready and may wait blocks; the scheduler asks again
// each round and wakes it at its timeout. Regular files are always ready
// (poll(2) NOTES); the host's stdin is readable once input has arrived
// (vfs/host-input.ts).
import { EBADF, EFAULT, EINVAL } from "../errno.js";
import type { Kernel } from "../kernel.js";
import { O_NONBLOCK, PipeBuffer, PipeEnd } from "../process/pipe.js";
import { OpenFile } from "../vfs/open-file.js";
import { StdioNode } from "../vfs/stdio-node.js";
import {
  BLOCK,
  int,
  num,
  type SyscallArgs,
  type SyscallEntry,
  type SyscallResult,
} from "./types.js";

const O_CLOEXEC = 0o2000000;
const O_WRONLY = 1;
const POLLIN = 0x1;
const POLLPRI = 0x2;
const POLLOUT = 0x4;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const POLLNVAL = 0x20;
const POLLRDNORM = 0x40;
const POLLWRNORM = 0x100;

function pipe2(k: Kernel, a: SyscallArgs): number {
  const flags = int(a[1]);
  if ((flags & ~(O_CLOEXEC | O_NONBLOCK)) !== 0) return -EINVAL;
  const address = num(a[0]);
  if (!k.valid(address, 8)) return -EFAULT;
  const buffer = new PipeBuffer();
  const status = flags & O_NONBLOCK;
  const cloexec = (flags & O_CLOEXEC) !== 0;
  const read = k.installFile(
    new OpenFile(new PipeEnd(buffer, "read"), "pipe:[read]", status, false),
    cloexec,
  );
  if (read < 0) return read;
  const write = k.installFile(
    new OpenFile(new PipeEnd(buffer, "write"), "pipe:[write]", O_WRONLY | status, false),
    cloexec,
  );
  if (write < 0) {
    k.closeFd(read);
    return write;
  }
  k.view().setInt32(address, read, true);
  k.view().setInt32(address + 4, write, true);
  return 0;
}

/** poll(2) revents for one descriptor, given the events asked for. */
function readiness(k: Kernel, fd: number, events: number): number {
  const file = k.files.get(fd)?.file;
  if (file === undefined) return POLLNVAL;
  const node = file.node;
  let ready = 0;
  if (node instanceof PipeEnd) {
    if (node.end === "read") {
      if (node.pipe.size > 0) ready |= POLLIN | POLLRDNORM;
      if (node.pipe.writers === 0) ready |= POLLHUP;
    } else {
      if (node.pipe.readers === 0) ready |= POLLERR;
      else if (node.pipe.writable) ready |= POLLOUT | POLLWRNORM;
    }
  } else if (node instanceof StdioNode && node.input !== undefined) {
    if (file.readable && node.input.readable) ready |= POLLIN | POLLRDNORM;
    if (file.writable) ready |= POLLOUT | POLLWRNORM;
  } else {
    if (file.readable) ready |= POLLIN | POLLRDNORM;
    if (file.writable) ready |= POLLOUT | POLLWRNORM;
  }
  return ready & (events | POLLERR | POLLHUP | POLLNVAL);
}

/** A timeout in ms as a deadline on performance.now(); undefined: forever. */
function deadlineAfter(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : performance.now() + ms;
}

/** Completes now, or blocks until `attempt` finds something or the deadline passes. */
function waitReady(
  k: Kernel,
  deadline: number | undefined,
  attempt: (final: boolean) => number,
): SyscallResult {
  const first = attempt(deadline !== undefined && deadline <= performance.now());
  if (first !== 0 || (deadline !== undefined && deadline <= performance.now())) return first;
  return k.block(() => {
    const expired = deadline !== undefined && deadline <= performance.now();
    const n = attempt(expired);
    if (n !== 0 || expired) return n;
    if (deadline !== undefined) k.wakeAt = deadline;
    return BLOCK;
  });
}

function pollFds(
  k: Kernel,
  fds: number,
  count: number,
  deadline: number | undefined,
): SyscallResult {
  if (count < 0 || count > 4096) return -EINVAL;
  if (count > 0 && !k.valid(fds, count * 8)) return -EFAULT;
  const v = k.view();
  const result = waitReady(k, deadline, () => {
    let n = 0;
    for (let i = 0; i < count; i++) {
      const at = fds + i * 8;
      const fd = v.getInt32(at, true);
      const revents = fd < 0 ? 0 : readiness(k, fd, v.getInt16(at + 4, true) & 0xffff);
      v.setInt16(at + 6, revents, true);
      if (revents !== 0) n++;
    }
    return n;
  });
  if (result === BLOCK && deadline !== undefined) k.wakeAt = deadline;
  return result;
}

/** A struct timespec at `address` in ms, or undefined for NULL. */
function timespecMs(k: Kernel, address: number): number | undefined {
  if (address === 0) return undefined;
  const v = k.view();
  return (
    Number(v.getBigInt64(address, true)) * 1000 + Number(v.getBigInt64(address + 8, true)) / 1e6
  );
}

function selectFds(
  k: Kernel,
  nfds: number,
  sets: readonly [number, number, number],
  timeoutMs: number | undefined,
): SyscallResult {
  if (nfds < 0 || nfds > 1024) return -EINVAL;
  const bytes = Math.ceil(nfds / 64) * 8;
  const mem = k.bytes();
  const wanted = sets.map((address) =>
    address === 0 ? undefined : mem.slice(address, address + bytes),
  );
  for (let fd = 0; fd < nfds; fd++) {
    const asked = wanted.some(
      (set) => set !== undefined && (set[fd >> 3]! & (1 << (fd & 7))) !== 0,
    );
    if (asked && !k.files.has(fd)) return -EBADF;
  }
  const deadline = deadlineAfter(timeoutMs);
  const result = waitReady(k, deadline, (final) => {
    const out = wanted.map((set) => (set === undefined ? undefined : new Uint8Array(set.length)));
    let n = 0;
    for (let fd = 0; fd < nfds; fd++) {
      const bit = 1 << (fd & 7);
      const revents = readiness(k, fd, POLLIN | POLLOUT | POLLPRI);
      const checks = [
        (revents & (POLLIN | POLLHUP | POLLERR)) !== 0,
        (revents & (POLLOUT | POLLERR)) !== 0,
        (revents & POLLPRI) !== 0,
      ];
      for (let s = 0; s < 3; s++) {
        const set = wanted[s];
        if (set !== undefined && (set[fd >> 3]! & bit) !== 0 && checks[s]) {
          (out[s] as Uint8Array)[fd >> 3]! |= bit;
          n++;
        }
      }
    }
    if (n > 0 || final) {
      out.forEach((set, s) => {
        if (set !== undefined) k.bytes().set(set, sets[s] as number);
      });
    }
    return n;
  });
  if (result === BLOCK && deadline !== undefined) k.wakeAt = deadline;
  return result;
}

export const pipeSyscalls: readonly SyscallEntry[] = [
  [
    7,
    "poll",
    (k, a) =>
      pollFds(k, num(a[0]), int(a[1]), deadlineAfter(int(a[2]) < 0 ? undefined : int(a[2]))),
  ],
  [22, "pipe", (k, a) => pipe2(k, [a[0], 0n, 0n, 0n, 0n, 0n])],
  [
    23,
    "select",
    (k, a) => {
      const tv = num(a[4]);
      const ms =
        tv === 0
          ? undefined
          : Number(k.view().getBigInt64(tv, true)) * 1000 +
            Number(k.view().getBigInt64(tv + 8, true)) / 1000;
      return selectFds(k, int(a[0]), [num(a[1]), num(a[2]), num(a[3])], ms);
    },
  ],
  [
    270,
    "pselect6",
    (k, a) => selectFds(k, int(a[0]), [num(a[1]), num(a[2]), num(a[3])], timespecMs(k, num(a[4]))),
  ],
  [
    271,
    "ppoll",
    (k, a) => pollFds(k, num(a[0]), int(a[1]), deadlineAfter(timespecMs(k, num(a[2])))),
  ],
  [293, "pipe2", pipe2],
];
