// Entering a signal handler and returning from it (signal(7), sigreturn(2);
// Linux arch/x86/kernel/signal.c, struct rt_sigframe). The scheduler
// delivers only while the process is unwound, so the state block holds every
// register and state.rip is an address the dispatcher can resume at. The
// frame pushed below the red zone is the kernel's: the return address
// (sa_restorer), a ucontext (uc_mcontext = struct sigcontext with the GPRs,
// RIP and EFLAGS; uc_sigmask) and a siginfo — plus, after them, a copy of
// the whole state block (XMM, x87, flags) that rt_sigreturn restores.
import { STATE_BASE, STATE_END, STATE_RIP } from "../../lift/guest-layout.js";
import type { Kernel } from "../kernel.js";
import {
  SA_NODEFER,
  SA_ONSTACK,
  SA_RESETHAND,
  SIG_DFL,
  signalBit,
  SS_AUTODISARM,
  SS_DISABLE,
  SS_ONSTACK,
} from "./signals.js";

/** sigcontext's GPR order (asm/sigcontext.h) as state-block GPR indices. */
const MCONTEXT_GPRS = [8, 9, 10, 11, 12, 13, 14, 15, 7, 6, 5, 3, 2, 0, 1, 4] as const;
const UC = 8;
/** uc_stack, after uc_flags and uc_link: stack_t { ss_sp; int ss_flags; size_t ss_size }. */
const UC_STACK = UC + 16;
const MCONTEXT = UC + 40;
const MC_RIP = MCONTEXT + 16 * 8;
const MC_EFLAGS = MC_RIP + 8;
const UC_SIGMASK = MCONTEXT + 256;
const SIGINFO = UC + 304;
const SAVED_STATE = SIGINFO + 128;
const FRAME_SIZE = SAVED_STATE + (STATE_END - STATE_BASE);
const RED_ZONE = 128;
const RSP = 4;
/** MINSIGSTKSZ (asm/signal.h): rt_sigreturn does not restore a smaller alternate stack. */
const MINSIGSTKSZ = 2048;

/**
 * Whether `sp` (default: RSP) lies on the process's alternate signal stack
 * (Linux on_sig_stack: never with SS_AUTODISARM, which disarms on entry).
 */
export function onAltStack(k: Kernel, sp = Number(k.gpr(RSP))): boolean {
  const alt = k.signals.altStack;
  if (alt === undefined || (alt.flags & SS_AUTODISARM) !== 0) return false;
  return sp > alt.sp && sp - alt.sp <= alt.size;
}

/** Pushes the frame and points the registers at the handler of `signal`. */
export function deliverSignal(k: Kernel, signal: number): void {
  const action = k.signals.action(signal);
  const view = k.view();
  const alt = k.signals.altStack;
  let sp = Number(k.gpr(RSP)) - RED_ZONE;
  const altFlags =
    alt === undefined ? SS_DISABLE : (onAltStack(k, sp) ? SS_ONSTACK : 0) | alt.flags;
  // SA_ONSTACK: the handler runs at the top of the alternate stack unless it is already on it.
  if ((action.flags & SA_ONSTACK) !== 0 && alt !== undefined && altFlags === alt.flags) {
    sp = alt.sp + alt.size;
  }
  sp -= FRAME_SIZE;
  // At the handler's first instruction RSP + 8 is 16-byte aligned, as after a call.
  sp = ((sp & ~15) - 8) >>> 0;
  if (!k.valid(sp, FRAME_SIZE)) {
    k.say(`vkernel: no room for the frame of signal ${signal} (RSP 0x${k.gpr(RSP).toString(16)})`);
    k.termSignal = 11;
    return;
  }
  const mem = k.bytes();
  mem.fill(0, sp, sp + SAVED_STATE);
  mem.copyWithin(sp + SAVED_STATE, STATE_BASE, STATE_END);
  view.setBigUint64(sp, action.restorer, true);
  view.setBigUint64(sp + UC_STACK, BigInt(alt?.sp ?? 0), true);
  view.setUint32(sp + UC_STACK + 8, altFlags >>> 0, true);
  view.setBigUint64(sp + UC_STACK + 16, BigInt(alt?.size ?? 0), true);
  // SS_AUTODISARM: the stack is disabled while the handler runs; rt_sigreturn re-arms it.
  if (alt !== undefined && (alt.flags & SS_AUTODISARM) !== 0) k.signals.altStack = undefined;
  MCONTEXT_GPRS.forEach((reg, i) => view.setBigUint64(sp + MCONTEXT + i * 8, k.gpr(reg), true));
  view.setBigUint64(sp + MC_RIP, view.getBigUint64(STATE_RIP, true), true);
  view.setBigUint64(sp + MC_EFLAGS, 0x202n, true);
  view.setBigUint64(sp + UC_SIGMASK, k.signals.mask, true);
  view.setInt32(sp + SIGINFO, signal, true);
  view.setInt32(sp + SIGINFO + 16, 0, true); // si_pid: sent by the vkernel (SI_USER)

  let mask = k.signals.mask | action.mask;
  if ((action.flags & SA_NODEFER) === 0) mask |= signalBit(signal);
  k.signals.mask = mask;
  if ((action.flags & SA_RESETHAND) !== 0) {
    k.signals.setAction(signal, { handler: SIG_DFL, flags: 0, restorer: 0n, mask: 0n });
  }
  k.setGpr(RSP, BigInt(sp));
  k.setGpr(7, BigInt(signal)); // rdi
  k.setGpr(6, BigInt(sp + SIGINFO)); // rsi
  k.setGpr(2, BigInt(sp + UC)); // rdx
  k.setGpr(0, 0n);
  view.setBigUint64(STATE_RIP, action.handler, true);
}

/**
 * rt_sigreturn(2): RSP points at the ucontext (the handler's `ret` popped
 * the restorer address). Restores the saved state block, then the GPRs and
 * RIP from uc_mcontext (a handler may have changed them) and the mask.
 * Returns the restored RAX; the code must unwind to resume at the new RIP.
 */
export function signalReturn(k: Kernel): bigint {
  const frame = Number(k.gpr(RSP)) - UC;
  const view = k.view();
  if (!k.valid(frame, FRAME_SIZE)) {
    k.termSignal = 11;
    return 0n;
  }
  const fsBase = k.fsBase();
  k.bytes().copyWithin(STATE_BASE, frame + SAVED_STATE, frame + FRAME_SIZE);
  k.setFsBase(fsBase);
  MCONTEXT_GPRS.forEach((reg, i) =>
    k.setGpr(reg, view.getBigUint64(frame + MCONTEXT + i * 8, true)),
  );
  view.setBigUint64(STATE_RIP, view.getBigUint64(frame + MC_RIP, true), true);
  k.signals.mask = view.getBigUint64(frame + UC_SIGMASK, true) & ~(signalBit(9) | signalBit(19));
  restoreAltStack(k, frame + UC_STACK);
  k.unwind = true;
  return k.gpr(0);
}

/**
 * rt_sigreturn's restore_altstack: the uc_stack saved in the frame becomes
 * the alternate stack again (as sigaltstack(2) would set it, at the
 * restored RSP: not while on the current one, and never an invalid one).
 */
function restoreAltStack(k: Kernel, at: number): void {
  if (onAltStack(k)) return;
  const view = k.view();
  const flags = view.getUint32(at + 8, true);
  const mode = flags & ~SS_AUTODISARM;
  if (mode === SS_DISABLE) {
    k.signals.altStack = undefined;
    return;
  }
  const size = Number(view.getBigUint64(at + 16, true));
  if ((mode !== 0 && mode !== SS_ONSTACK) || size < MINSIGSTKSZ) return;
  k.signals.altStack = {
    sp: Number(view.getBigUint64(at, true)),
    size,
    flags: flags & SS_AUTODISARM,
  };
}

/** `mov $15, %rax; syscall` (glibc's __restore_rt) and `mov $15, %eax; syscall` (musl's). */
const RESTORERS = [
  [0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05],
  [0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05],
];

/**
 * Whether the code at `pc` is a libc's signal restorer. Libcs pass it to
 * rt_sigaction only as a pointer, so discovery may not have lifted it; when
 * a handler returns there and the dispatcher finds no code, the kernel
 * performs its rt_sigreturn itself.
 */
export function isSignalRestorer(k: Kernel, pc: number): boolean {
  const bytes = k.bytes();
  return RESTORERS.some(
    (pattern) => k.valid(pc, pattern.length) && pattern.every((b, i) => bytes[pc + i] === b),
  );
}
