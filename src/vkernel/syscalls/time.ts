// Time syscalls: clock_gettime(2), clock_getres(2), gettimeofday(2),
// time(2), nanosleep(2)/clock_nanosleep(2) (returning at once: a single
// process has nothing to wait for yet). No vDSO, so libcs make real calls.
import { EINVAL } from "../errno.js";
import type { Kernel } from "../kernel.js";
import { int, num, type SyscallArgs, type SyscallEntry } from "./types.js";

const start = process.hrtime.bigint();

function nowNs(clock: number): bigint | undefined {
  switch (clock) {
    case 0: // CLOCK_REALTIME
    case 5: // CLOCK_REALTIME_COARSE
      return BigInt(Date.now()) * 1_000_000n;
    case 1: // CLOCK_MONOTONIC
    case 4: // CLOCK_MONOTONIC_RAW
    case 6: // CLOCK_MONOTONIC_COARSE
    case 7: // CLOCK_BOOTTIME
    case 2: // CLOCK_PROCESS_CPUTIME_ID
    case 3: // CLOCK_THREAD_CPUTIME_ID
      return process.hrtime.bigint() - start + 1_000_000_000n;
    default:
      return undefined;
  }
}

function clockGettime(k: Kernel, a: SyscallArgs): number {
  const ns = nowNs(int(a[0]));
  if (ns === undefined) return -EINVAL;
  const v = k.view();
  v.setBigInt64(num(a[1]), ns / 1_000_000_000n, true);
  v.setBigInt64(num(a[1]) + 8, ns % 1_000_000_000n, true);
  return 0;
}

function gettimeofday(k: Kernel, a: SyscallArgs): number {
  if (num(a[0]) !== 0) {
    const ms = BigInt(Date.now());
    k.view().setBigInt64(num(a[0]), ms / 1000n, true);
    k.view().setBigInt64(num(a[0]) + 8, (ms % 1000n) * 1000n, true);
  }
  return 0;
}

export const timeSyscalls: readonly SyscallEntry[] = [
  [35, "nanosleep", () => 0],
  [96, "gettimeofday", gettimeofday],
  [
    201,
    "time",
    (k, a) => {
      const t = Math.floor(Date.now() / 1000);
      if (num(a[0]) !== 0) k.view().setBigInt64(num(a[0]), BigInt(t), true);
      return t;
    },
  ],
  [228, "clock_gettime", clockGettime],
  [
    229,
    "clock_getres",
    (k, a) => {
      if (num(a[1]) !== 0) {
        k.view().setBigInt64(num(a[1]), 0n, true);
        k.view().setBigInt64(num(a[1]) + 8, 1n, true);
      }
      return 0;
    },
  ],
  [230, "clock_nanosleep", () => 0],
];
