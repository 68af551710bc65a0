// Process syscalls of one process: exit(2)/exit_group(2), the id
// getters, set_tid_address(2), set_robust_list(2), rseq (ENOSYS, which libcs
// accept), arch_prctl(2) for the FS base, uname(2), prlimit64(2),
// sched_getaffinity(2), getrandom(2), prctl(2) for the name.
import { randomFillSync } from "node:crypto";
import { EINVAL, ENOSYS } from "../errno.js";
import type { Kernel } from "../kernel.js";
import { DEFAULT_OPEN_FILES, DEFAULT_PROCESS_LIMIT } from "../process/limits.js";
import { int, num, type SyscallArgs, type SyscallEntry } from "./types.js";

const ARCH_SET_FS = 0x1002;
const ARCH_GET_FS = 0x1003;

function exit(k: Kernel, a: SyscallArgs): number {
  k.exitStatus = int(a[0]) & 0xff;
  return 0;
}

function archPrctl(k: Kernel, a: SyscallArgs): number {
  switch (int(a[0])) {
    case ARCH_SET_FS:
      k.setFsBase(a[1]);
      return 0;
    case ARCH_GET_FS:
      k.view().setBigUint64(num(a[1]), k.fsBase(), true);
      return 0;
    default:
      return -EINVAL;
  }
}

/** struct utsname: six 65-byte fields. */
function uname(k: Kernel, a: SyscallArgs): number {
  const fields = ["Linux", "megalift", "6.1.0-megalift", "#1 SMP megalift", "x86_64", "(none)"];
  const base = num(a[0]);
  k.bytes().fill(0, base, base + 65 * 6);
  fields.forEach((f, i) => k.bytes().set(new TextEncoder().encode(f), base + i * 65));
  return 0;
}

const RLIMIT_CPU = 0;
const RLIMIT_STACK = 3;
const RLIMIT_NPROC = 6;
const RLIMIT_NOFILE = 7;
const RLIMIT_AS = 9;
const UNLIMITED = -1n;

/** The run's limit for `resource` as rlimit values (soft = hard); RLIMIT_STACK is 8 MiB. */
function rlimitOf(k: Kernel, resource: number): bigint {
  const limits = k.options.limits;
  switch (resource) {
    case RLIMIT_STACK:
      return 8n << 20n;
    case RLIMIT_NOFILE:
      return BigInt(limits?.openFiles ?? DEFAULT_OPEN_FILES);
    case RLIMIT_NPROC:
      return BigInt(limits?.processes ?? DEFAULT_PROCESS_LIMIT);
    case RLIMIT_AS:
      return limits?.memoryBytes !== undefined ? BigInt(limits.memoryBytes) : UNLIMITED;
    case RLIMIT_CPU:
      return limits?.cpuMs !== undefined ? BigInt(Math.ceil(limits.cpuMs / 1000)) : UNLIMITED;
    default:
      return UNLIMITED;
  }
}

/** prlimit64(2): reports the run's limits; setting them is accepted and not enforced. */
function prlimit(k: Kernel, a: SyscallArgs): number {
  const old = num(a[3]);
  if (old !== 0) {
    const value = BigInt.asUintN(64, rlimitOf(k, int(a[1])));
    k.view().setBigUint64(old, value, true);
    k.view().setBigUint64(old + 8, value, true);
  }
  return 0;
}

function getrandom(k: Kernel, a: SyscallArgs): number {
  const length = num(a[1]);
  randomFillSync(new Uint8Array(k.memory.buffer, num(a[0]), length));
  return length;
}

const PR_SET_PDEATHSIG = 1;
const PR_SET_NAME = 15;
const PR_GET_NAME = 16;

/** prctl(2): the thread name (comm) and the parent-death signal; others EINVAL. */
function prctl(k: Kernel, a: SyscallArgs): number {
  switch (int(a[0])) {
    case PR_SET_PDEATHSIG:
      return 0;
    case PR_SET_NAME:
      k.comm = k.readString(num(a[1]), 15);
      return 0;
    case PR_GET_NAME: {
      const name = new TextEncoder().encode(k.comm.slice(0, 15));
      k.bytes().fill(0, num(a[1]), num(a[1]) + 16);
      k.bytes().set(name, num(a[1]));
      return 0;
    }
    default:
      return -EINVAL;
  }
}

function affinity(k: Kernel, a: SyscallArgs): number {
  const size = num(a[1]);
  if (size < 8) return -EINVAL;
  k.bytes().fill(0, num(a[2]), num(a[2]) + size);
  k.bytes()[num(a[2])] = 1;
  return 8;
}

export const procSyscalls: readonly SyscallEntry[] = [
  [39, "getpid", (k) => k.pid],
  [60, "exit", exit],
  [63, "uname", uname],
  [
    95,
    "umask",
    (k, a) => {
      const old = k.umask;
      k.umask = int(a[0]) & 0o777;
      return old;
    },
  ],
  [97, "getrlimit", (k, a) => prlimit(k, [0n, a[0], 0n, a[1], 0n, 0n])],
  [102, "getuid", () => 0],
  [104, "getgid", () => 0],
  [107, "geteuid", () => 0],
  [108, "getegid", () => 0],
  [157, "prctl", prctl],
  [158, "arch_prctl", archPrctl],
  [186, "gettid", (k) => k.pid],
  [204, "sched_getaffinity", affinity],
  [218, "set_tid_address", (k) => k.pid],
  [231, "exit_group", exit],
  [273, "set_robust_list", () => 0],
  [302, "prlimit64", prlimit],
  [318, "getrandom", getrandom],
  [334, "rseq", () => -ENOSYS],
];
