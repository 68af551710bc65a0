// Time syscalls: clock_gettime(2), clock_getres(2), gettimeofday(2),
// time(2), nanosleep(2)/clock_nanosleep(2): the process blocks until its
// deadline and other processes run meanwhile. alarm(2) and ITIMER_REAL of
// setitimer(2)/getitimer(2) arm SIGALRM (process/system.ts fires it). No
// vDSO, so libcs make real calls.
import { EINVAL } from "../errno.js";
import type { Kernel } from "../kernel.js";
import {
  BLOCK,
  int,
  num,
  type SyscallArgs,
  type SyscallEntry,
  type SyscallResult,
} from "./types.js";

const TIMER_ABSTIME = 1;
const ITIMER_REAL = 0;

/** Milliseconds until the process's ITIMER_REAL fires (0: disarmed). */
function alarmLeftMs(k: Kernel): number {
  return k.alarmAt === undefined ? 0 : Math.max(0, k.alarmAt - performance.now());
}

/** alarm(2): SIGALRM after `seconds` (0 cancels); the seconds left of the previous one. */
function alarm(k: Kernel, a: SyscallArgs): number {
  const left = Math.ceil(alarmLeftMs(k) / 1000);
  const seconds = Number(a[0] & 0xffffffffn);
  k.alarmAt = seconds === 0 ? undefined : performance.now() + seconds * 1000;
  k.alarmIntervalMs = 0;
  return left;
}

const timevalMs = (k: Kernel, at: number): number =>
  Number(k.view().getBigInt64(at, true)) * 1000 + Number(k.view().getBigInt64(at + 8, true)) / 1000;

function writeTimeval(k: Kernel, at: number, ms: number): void {
  const us = Math.round(ms * 1000);
  k.view().setBigInt64(at, BigInt(Math.floor(us / 1e6)), true);
  k.view().setBigInt64(at + 8, BigInt(us % 1e6), true);
}

/** getitimer(2) for ITIMER_REAL: struct itimerval { it_interval, it_value }. */
function getitimer(k: Kernel, a: SyscallArgs): number {
  if (int(a[0]) !== ITIMER_REAL) return -EINVAL;
  const at = num(a[1]);
  if (!k.valid(at, 32)) return -14;
  writeTimeval(k, at, k.alarmIntervalMs);
  writeTimeval(k, at + 16, alarmLeftMs(k));
  return 0;
}

/** setitimer(2) for ITIMER_REAL (SIGALRM, repeating with it_interval); others EINVAL. */
function setitimer(k: Kernel, a: SyscallArgs): number {
  if (int(a[0]) !== ITIMER_REAL) return -EINVAL;
  if (num(a[2]) !== 0) {
    const old = getitimer(k, [a[0], a[2], 0n, 0n, 0n, 0n]);
    if (old !== 0) return old;
  }
  const at = num(a[1]);
  if (at === 0) return 0;
  if (!k.valid(at, 32)) return -14;
  const value = timevalMs(k, at + 16);
  k.alarmIntervalMs = timevalMs(k, at);
  k.alarmAt = value === 0 ? undefined : performance.now() + value;
  return 0;
}

/** Sleeps `ns` nanoseconds from now: blocks, and the scheduler wakes the process then. */
function sleepFor(k: Kernel, ns: bigint): SyscallResult {
  if (ns <= 0n) return 0;
  const deadline = performance.now() + Number(ns) / 1e6;
  const check = (): SyscallResult => {
    if (performance.now() >= deadline) return 0;
    k.wakeAt = deadline;
    return BLOCK;
  };
  const first = check();
  return first === BLOCK ? k.block(check) : first;
}

/** A struct timespec in guest memory as nanoseconds, or undefined when it is invalid. */
function timespecNs(k: Kernel, address: number): bigint | undefined {
  if (!k.valid(address, 16)) return undefined;
  const sec = k.view().getBigInt64(address, true);
  const nsec = k.view().getBigInt64(address + 8, true);
  if (sec < 0n || nsec < 0n || nsec >= 1_000_000_000n) return undefined;
  return sec * 1_000_000_000n + nsec;
}

function nanosleep(k: Kernel, a: SyscallArgs): SyscallResult {
  const ns = timespecNs(k, num(a[0]));
  return ns === undefined ? -EINVAL : sleepFor(k, ns);
}

function clockNanosleep(k: Kernel, a: SyscallArgs): SyscallResult {
  const ns = timespecNs(k, num(a[2]));
  if (ns === undefined) return -EINVAL;
  if ((int(a[1]) & TIMER_ABSTIME) === 0) return sleepFor(k, ns);
  const now = nowNs(int(a[0]));
  return now === undefined ? -EINVAL : sleepFor(k, ns - now);
}

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
  [35, "nanosleep", nanosleep],
  [36, "getitimer", getitimer],
  [37, "alarm", alarm],
  [38, "setitimer", setitimer],
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
  [230, "clock_nanosleep", clockNanosleep],
];
