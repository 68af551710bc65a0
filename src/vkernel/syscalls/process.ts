// Process syscalls over process/system.ts: fork(2), vfork(2), clone(2) used
// as fork or vfork (threads are refused), execve(2)/execveat(2) by hash
// (process/exec.ts), wait4(2) and waitid(2), getppid, and process groups and
// sessions as far as shells need (setpgid, getpgid, getpgrp, setsid, getsid).
import { EAGAIN, ECHILD, EINVAL, ENOSYS, EPERM, ESRCH } from "../errno.js";
import type { Kernel } from "../kernel.js";
import { readStringArray, requestExec } from "../process/exec.js";
import { forkProcess, vforkProcess } from "../process/fork.js";
import { waitStatus } from "../process/system.js";
import {
  BLOCK,
  int,
  num,
  type SyscallArgs,
  type SyscallEntry,
  type SyscallResult,
} from "./types.js";

const CLONE_VM = 0x100;
const CLONE_VFORK = 0x4000;
const CLONE_THREAD = 0x10000;
const CLONE_SETTLS = 0x80000;
const CLONE_PARENT_SETTID = 0x100000;
const CLONE_CHILD_SETTID = 0x1000000;

const WNOHANG = 1;
/** wait4's WUNTRACED; waitid's WSTOPPED. */
const WSTOPPED = 2;
const WEXITED = 4;
const WCONTINUED = 8;
const WNOWAIT = 0x0100_0000;
const P_ALL = 0;
const P_PID = 1;
const P_PGID = 2;

function spawn(
  k: Kernel,
  options: { vfork: boolean; shareMemory?: boolean; stack?: bigint; tls?: bigint },
): SyscallResult {
  const system = k.system;
  if (system === undefined) return -ENOSYS;
  if (system.processes.size >= system.processLimit) {
    system.reportLimit(k, `process limit of ${system.processLimit} reached (fork: EAGAIN)`);
    return -EAGAIN;
  }
  const child = options.shareMemory ? vforkProcess(k, options) : forkProcess(k, options);
  const pid = system.adopt(child);
  if (!options.vfork) return pid;
  // vfork(2): the parent waits until the child, running in its memory, has exec'd or exited.
  return k.block(() => (child.vforkDone ? pid : BLOCK));
}

/** clone(2) on x86-64: flags, stack, parent_tid, child_tid, tls. */
function clone(k: Kernel, a: SyscallArgs): SyscallResult {
  const flags = num(a[0]);
  if ((flags & CLONE_THREAD) !== 0) return -EINVAL; // threads are not supported
  // CLONE_VM|CLONE_VFORK (posix_spawn) shares the parent's memory as vfork
  // does; CLONE_VM alone is served as a copy. The low byte (the exit signal)
  // is always SIGCHLD.
  const vfork = (flags & CLONE_VFORK) !== 0;
  const result = spawn(k, {
    vfork,
    shareMemory: vfork && (flags & CLONE_VM) !== 0,
    stack: a[1],
    ...((flags & CLONE_SETTLS) !== 0 ? { tls: a[4] } : {}),
  });
  const pid = k.system?.children(k).at(-1)?.pid;
  const child = pid === undefined ? undefined : k.system?.processes.get(pid);
  if (child !== undefined && result !== -EAGAIN) {
    if ((flags & CLONE_PARENT_SETTID) !== 0) k.view().setInt32(num(a[2]), child.pid, true);
    if ((flags & CLONE_CHILD_SETTID) !== 0) child.view().setInt32(num(a[3]), child.pid, true);
  }
  return result;
}

/** execve(path, argv, envp); execveat passes its arguments shifted by the dirfd. */
function execve(k: Kernel, path: bigint, argvAt: bigint, envAt: bigint): SyscallResult {
  const file = k.readString(num(path));
  const argv = readStringArray(k, num(argvAt));
  if (typeof argv === "number") return argv;
  const env = readStringArray(k, num(envAt));
  if (typeof env === "number") return env;
  return requestExec(k, file, argv.length > 0 ? argv : [file], env);
}

/** What a wait finds among the caller's children that `selects` matches. */
interface WaitScan {
  any: boolean;
  /** The first that ended (when the wait asks for exits). */
  zombie: Kernel | undefined;
  /** The first running one with a stop or continue the options ask for and nobody reported. */
  changed: Kernel | undefined;
}

/** One pass over the processes, allocating no list (a blocked wait4 is asked every round). */
function scanChildren(
  k: Kernel,
  selects: (c: Kernel) => boolean,
  options: number,
  exits: boolean,
): WaitScan {
  const scan: WaitScan = { any: false, zombie: undefined, changed: undefined };
  for (const c of k.system?.processes.values() ?? []) {
    if (c.ppid !== k.pid || !selects(c)) continue;
    scan.any = true;
    if (c.ended) {
      if (exits) scan.zombie ??= c;
    } else if (scan.changed === undefined && reportable(c, options)) {
      scan.changed = c;
    }
  }
  return scan;
}

function wait4(k: Kernel, a: SyscallArgs): SyscallResult {
  const pid = int(a[0]);
  const options = int(a[2]);
  const selector = (c: Kernel): boolean =>
    pid === -1 ? true : pid > 0 ? c.pid === pid : pid === 0 ? c.pgid === k.pgid : c.pgid === -pid;
  const { any, zombie, changed } = scanChildren(k, selector, options, true);
  if (!any) return -ECHILD;
  if (zombie === undefined) {
    if (changed === undefined) return (options & WNOHANG) !== 0 ? 0 : BLOCK;
    // A stopped child's status is 0x7f | signal << 8; a continued one's 0xffff.
    const status =
      changed.waitReport === "stopped" ? 0x7f | ((changed.stopSignal ?? 0) << 8) : 0xffff;
    if (num(a[1]) !== 0) k.view().setInt32(num(a[1]), status, true);
    if (num(a[3]) !== 0) k.bytes().fill(0, num(a[3]), num(a[3]) + 144);
    changed.waitReport = undefined;
    return changed.pid;
  }
  if (num(a[1]) !== 0) k.view().setInt32(num(a[1]), waitStatus(zombie), true);
  if (num(a[3]) !== 0) k.bytes().fill(0, num(a[3]), num(a[3]) + 144); // struct rusage
  k.system?.reap(zombie);
  return zombie.pid;
}

/** siginfo si_code of a stopped and a continued child. */
const CLD_STOPPED = 5;
const CLD_CONTINUED = 6;

/** A stop or continue of `c` the wait's options ask for and nobody has reported. */
function reportable(c: Kernel, options: number): boolean {
  return (
    (c.waitReport === "stopped" && (options & WSTOPPED) !== 0) ||
    (c.waitReport === "continued" && (options & WCONTINUED) !== 0)
  );
}

/** waitid(2): idtype, id, siginfo_t *infop, options. */
function waitid(k: Kernel, a: SyscallArgs): SyscallResult {
  const idtype = int(a[0]);
  const id = int(a[1]);
  const options = int(a[3]);
  if ((options & (WEXITED | WSTOPPED | WCONTINUED)) === 0) return -EINVAL;
  const selector = (c: Kernel): boolean =>
    idtype === P_ALL ? true : idtype === P_PID ? c.pid === id : idtype === P_PGID && c.pgid === id;
  const scan = scanChildren(k, selector, options, (options & WEXITED) !== 0);
  if (!scan.any) return -ECHILD;
  const zombie = scan.zombie;
  const info = num(a[2]);
  const changed = zombie === undefined ? scan.changed : undefined;
  if (changed !== undefined) {
    if (info !== 0) {
      const v = k.view();
      k.bytes().fill(0, info, info + 128);
      v.setInt32(info, 17, true); // si_signo = SIGCHLD
      const stopped = changed.waitReport === "stopped";
      v.setInt32(info + 8, stopped ? CLD_STOPPED : CLD_CONTINUED, true);
      v.setInt32(info + 16, changed.pid, true);
      v.setInt32(info + 24, stopped ? (changed.stopSignal ?? 0) : 18, true); // SIGCONT
    }
    if ((options & WNOWAIT) === 0) changed.waitReport = undefined;
    return 0;
  }
  if (zombie === undefined) {
    if ((options & WNOHANG) === 0) return BLOCK;
    if (info !== 0) k.bytes().fill(0, info, info + 128);
    return 0;
  }
  if (info !== 0) {
    const v = k.view();
    k.bytes().fill(0, info, info + 128);
    v.setInt32(info, 17, true); // si_signo = SIGCHLD
    const killed = zombie.termSignal !== undefined;
    // si_code: CLD_EXITED 1, CLD_KILLED 2, CLD_DUMPED 3
    v.setInt32(info + 8, killed ? ((zombie.termSignal as number) & 0x80 ? 3 : 2) : 1, true);
    v.setInt32(info + 16, zombie.pid, true);
    v.setInt32(
      info + 24,
      killed ? (zombie.termSignal as number) & 0x7f : (zombie.exitStatus ?? 0),
      true,
    );
  }
  if ((options & WNOWAIT) === 0) k.system?.reap(zombie);
  return 0;
}

function setpgid(k: Kernel, a: SyscallArgs): number {
  const pid = int(a[0]) === 0 ? k.pid : int(a[0]);
  const target = pid === k.pid ? k : k.system?.processes.get(pid);
  if (target === undefined || (target !== k && target.ppid !== k.pid)) return -ESRCH;
  const pgid = int(a[1]) === 0 ? target.pid : int(a[1]);
  if (pgid < 0) return -EINVAL;
  if (target.sid !== k.sid || target.pid === target.sid) return -EPERM;
  target.pgid = pgid;
  return 0;
}

function lookup(k: Kernel, pid: number): Kernel | undefined {
  return pid === 0 ? k : k.system?.processes.get(pid);
}

function setsid(k: Kernel): number {
  if (k.pgid === k.pid && k.pid !== 1) return -EPERM;
  k.sid = k.pid;
  k.pgid = k.pid;
  return k.pid;
}

export const processSyscalls: readonly SyscallEntry[] = [
  [56, "clone", clone],
  [57, "fork", (k) => spawn(k, { vfork: false })],
  [58, "vfork", (k) => spawn(k, { vfork: true, shareMemory: true })],
  [59, "execve", (k, a) => execve(k, a[0], a[1], a[2])],
  [61, "wait4", wait4],
  [109, "setpgid", setpgid],
  [110, "getppid", (k) => k.ppid],
  [111, "getpgrp", (k) => k.pgid],
  [112, "setsid", setsid],
  [121, "getpgid", (k, a) => lookup(k, int(a[0]))?.pgid ?? -ESRCH],
  [124, "getsid", (k, a) => lookup(k, int(a[0]))?.sid ?? -ESRCH],
  [247, "waitid", waitid],
  // execveat(dirfd, path, argv, envp, flags): absolute paths and AT_FDCWD only.
  [322, "execveat", (k, a) => (int(a[4]) !== 0 ? -EINVAL : execve(k, a[1], a[2], a[3]))],
];
