// Signal syscalls (signal(7)) over process/signals.ts: rt_sigaction(2) keeps
// each handler with its flags, restorer and mask; rt_sigprocmask(2) the
// blocked set; kill(2), tkill(2) and tgkill(2) send (process/system.ts acts
// on them when the target next runs); rt_sigreturn(2) returns from a handler
// (process/signal-frame.ts); pause(2) and rt_sigsuspend(2) wait for a signal;
// sigaltstack(2) sets the stack SA_ONSTACK handlers run on.
import { EFAULT, EINVAL, ENOMEM, EPERM, ESRCH } from "../errno.js";
import type { Kernel } from "../kernel.js";
import { signalReturn } from "../process/signal-frame.js";
import { onAltStack } from "../process/signal-frame.js";
import {
  NSIG,
  SIGKILL,
  SIGSTOP,
  signalBit,
  SS_AUTODISARM,
  SS_DISABLE,
  SS_ONSTACK,
} from "../process/signals.js";
import {
  BLOCK,
  int,
  num,
  type SyscallArgs,
  type SyscallEntry,
  type SyscallResult,
} from "./types.js";

const SIG_BLOCK = 0;
const SIG_UNBLOCK = 1;
const SIG_SETMASK = 2;
const UNBLOCKABLE = signalBit(SIGKILL) | signalBit(SIGSTOP);
const EINTR = 4;
/** MINSIGSTKSZ on x86-64 (asm/signal.h): a smaller alternate stack is ENOMEM. */
const MINSIGSTKSZ = 2048;

/**
 * sigaltstack(2) with stack_t { ss_sp; int ss_flags; size_t ss_size } (24
 * bytes). The stack cannot change while a handler runs on it (EPERM).
 */
function sigaltstack(k: Kernel, a: SyscallArgs): number {
  const v = k.view();
  const set = num(a[0]);
  const old = num(a[1]);
  const current = k.signals.altStack;
  const on = onAltStack(k);
  if (set !== 0 && !k.valid(set, 24)) return -EFAULT;
  if (old !== 0 && !k.valid(old, 24)) return -EFAULT;
  if (set !== 0) {
    if (on) return -EPERM;
    const flags = v.getUint32(set + 8, true);
    const mode = flags & ~SS_AUTODISARM;
    if (mode !== 0 && mode !== SS_ONSTACK && mode !== SS_DISABLE) return -EINVAL;
    if (mode === SS_DISABLE) k.signals.altStack = undefined;
    else {
      const size = Number(v.getBigUint64(set + 16, true));
      if (size < MINSIGSTKSZ) return -ENOMEM;
      const sp = Number(v.getBigUint64(set, true));
      k.signals.altStack = { sp, size, flags: flags & SS_AUTODISARM };
    }
  }
  if (old !== 0) {
    v.setBigUint64(old, BigInt(current?.sp ?? 0), true);
    const flags = current === undefined ? SS_DISABLE : (on ? SS_ONSTACK : 0) | current.flags;
    v.setUint32(old + 8, flags >>> 0, true);
    v.setUint32(old + 12, 0, true);
    v.setBigUint64(old + 16, BigInt(current?.size ?? 0), true);
  }
  return 0;
}

/** struct kernel_sigaction on x86-64: handler, flags, restorer, mask (8 bytes each). */
function sigaction(k: Kernel, a: SyscallArgs): number {
  const signal = int(a[0]);
  if (signal < 1 || signal > NSIG || num(a[3]) !== 8) return -EINVAL;
  const v = k.view();
  const old = num(a[2]);
  if (old !== 0) {
    const current = k.signals.action(signal);
    v.setBigUint64(old, current.handler, true);
    v.setBigUint64(old + 8, BigInt(current.flags >>> 0), true);
    v.setBigUint64(old + 16, current.restorer, true);
    v.setBigUint64(old + 24, current.mask, true);
  }
  const act = num(a[1]);
  if (act !== 0) {
    if (signal === SIGKILL || signal === SIGSTOP) return -EINVAL;
    k.signals.setAction(signal, {
      handler: v.getBigUint64(act, true),
      flags: Number(v.getBigUint64(act + 8, true) & 0xffffffffn),
      restorer: v.getBigUint64(act + 16, true),
      mask: v.getBigUint64(act + 24, true) & ~UNBLOCKABLE,
    });
  }
  return 0;
}

function sigprocmask(k: Kernel, a: SyscallArgs): number {
  const set = num(a[1]);
  const old = num(a[2]);
  if (old !== 0) k.view().setBigUint64(old, k.signals.mask, true);
  if (set === 0) return 0;
  const value = k.view().getBigUint64(set, true) & ~UNBLOCKABLE;
  switch (int(a[0])) {
    case SIG_BLOCK:
      k.signals.mask |= value;
      return 0;
    case SIG_UNBLOCK:
      k.signals.mask &= ~value;
      return 0;
    case SIG_SETMASK:
      k.signals.mask = value;
      return 0;
    default:
      return -EINVAL;
  }
}

/** The processes kill(2)'s pid selects: one, the caller's group, a group, or all but pid 1. */
function targets(k: Kernel, pid: number): Kernel[] {
  const all = [...(k.system?.processes.values() ?? [k])].filter((p) => !p.ended);
  if (pid > 0) return all.filter((p) => p.pid === pid);
  if (pid === 0) return all.filter((p) => p.pgid === k.pgid);
  if (pid === -1) return all.filter((p) => p.pid !== 1 || p === k);
  return all.filter((p) => p.pgid === -pid);
}

function send(k: Kernel, target: Kernel, signal: number): void {
  if (k.system !== undefined) k.system.signal(target, signal);
  else if (signal !== 0) target.termSignal = signal;
}

function kill(k: Kernel, a: SyscallArgs): number {
  const signal = int(a[1]);
  if (signal < 0 || signal > NSIG) return -EINVAL;
  const found = targets(k, int(a[0]));
  if (found.length === 0) return -ESRCH;
  for (const target of found) send(k, target, signal);
  return 0;
}

/** tkill/tgkill: threads are processes here, so the thread id is a pid. */
function threadKill(tidArg: number, signalArg: number) {
  return (k: Kernel, a: SyscallArgs): number => {
    const signal = int(a[signalArg] as bigint);
    if (signal < 0 || signal > NSIG) return -EINVAL;
    const tid = int(a[tidArg] as bigint);
    const target = tid === k.pid ? k : k.system?.processes.get(tid);
    if (target === undefined || target.ended) return -ESRCH;
    send(k, target, signal);
    return 0;
  };
}

/** pause(2), rt_sigsuspend(2): wait until a signal is delivered (then EINTR). */
function waitForSignal(k: Kernel, mask?: bigint): SyscallResult {
  const saved = k.signals.mask;
  if (mask !== undefined) k.signals.mask = mask & ~UNBLOCKABLE;
  return k.block(() => {
    if (k.signals.deliverable() === 0) return BLOCK;
    // The handler runs with the suspend mask; the old mask comes back after.
    if (mask !== undefined) k.signals.mask = saved;
    return -EINTR;
  });
}

export const signalSyscalls: readonly SyscallEntry[] = [
  [13, "rt_sigaction", sigaction],
  [14, "rt_sigprocmask", sigprocmask],
  [15, "rt_sigreturn", (k) => signalReturn(k)],
  [34, "pause", (k) => waitForSignal(k)],
  [62, "kill", kill],
  [131, "sigaltstack", sigaltstack],
  [130, "rt_sigsuspend", (k, a) => waitForSignal(k, k.view().getBigUint64(num(a[0]), true))],
  [200, "tkill", threadKill(0, 1)],
  [234, "tgkill", threadKill(1, 2)],
];
