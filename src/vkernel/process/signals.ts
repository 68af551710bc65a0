// Signal state of one process (signal(7)): the disposition of each signal
// (default, ignore or a handler with its flags, restorer and mask), the
// blocked mask and the signals pending delivery. Dispositions survive
// fork(2); execve(2) resets handlers to the default and keeps "ignore".
export const SIG_DFL = 0n;
export const SIG_IGN = 1n;

export const SIGINT = 2;
export const SIGILL = 4;
export const SIGKILL = 9;
export const SIGSEGV = 11;
export const SIGPIPE = 13;
export const SIGALRM = 14;
export const SIGTERM = 15;
export const SIGCHLD = 17;
export const SIGCONT = 18;
export const SIGSTOP = 19;
/** SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU: the signals whose default action stops. */
export const STOP_SIGNALS = (1n << 18n) | (1n << 19n) | (1n << 20n) | (1n << 21n);
export const SIGXCPU = 24;

/** Highest signal number (the real-time signals end at 64). */
export const NSIG = 64;

export const SA_NOCLDSTOP = 0x1;
export const SA_SIGINFO = 0x4;
export const SA_RESTORER = 0x0400_0000;
export const SA_ONSTACK = 0x0800_0000;
export const SA_RESTART = 0x1000_0000;
export const SA_NODEFER = 0x4000_0000;
export const SA_RESETHAND = 0x8000_0000;

/** sigaltstack(2)'s ss_flags. */
export const SS_ONSTACK = 1;
export const SS_DISABLE = 2;
export const SS_AUTODISARM = 0x8000_0000;

/** The alternate signal stack (sigaltstack(2) stack_t): where SA_ONSTACK handlers run. */
export interface AltStack {
  readonly sp: number;
  readonly size: number;
  /** SS_AUTODISARM or 0 (SS_DISABLE is `undefined` in SignalState.altStack). */
  readonly flags: number;
}

export interface SignalAction {
  /** SIG_DFL, SIG_IGN or the handler's guest address. */
  readonly handler: bigint;
  readonly flags: number;
  readonly restorer: bigint;
  readonly mask: bigint;
}

export type DefaultAction = "terminate" | "core" | "ignore" | "stop" | "continue";

/** The default action of each signal (signal(7), "Standard signals"). */
export function defaultAction(signal: number): DefaultAction {
  switch (signal) {
    case 3: // SIGQUIT
    case 4: // SIGILL
    case 5: // SIGTRAP
    case 6: // SIGABRT
    case 7: // SIGBUS
    case 8: // SIGFPE
    case 11: // SIGSEGV
    case 24: // SIGXCPU
    case 25: // SIGXFSZ
    case 31: // SIGSYS
      return "core";
    case SIGCHLD:
    case 23: // SIGURG
    case 28: // SIGWINCH
      return "ignore";
    case SIGCONT:
      return "continue";
    case SIGSTOP:
    case 20: // SIGTSTP
    case 21: // SIGTTIN
    case 22: // SIGTTOU
      return "stop";
    default:
      return "terminate";
  }
}

const DEFAULT: SignalAction = { handler: SIG_DFL, flags: 0, restorer: 0n, mask: 0n };

export const signalBit = (signal: number): bigint => 1n << BigInt(signal - 1);

export class SignalState {
  private readonly actions = new Map<number, SignalAction>();
  /** Signals blocked from delivery (rt_sigprocmask(2)). */
  mask = 0n;
  /** Signals sent but not yet delivered, as a bit set. */
  pending = 0n;
  /** sigaltstack(2): the alternate stack, or undefined when disabled. */
  altStack: AltStack | undefined;

  action(signal: number): SignalAction {
    return this.actions.get(signal) ?? DEFAULT;
  }

  setAction(signal: number, action: SignalAction): void {
    if (action.handler === SIG_DFL) this.actions.delete(signal);
    else this.actions.set(signal, action);
  }

  /** What happens when `signal` arrives now: ignored, default action, or a handler. */
  disposition(signal: number): DefaultAction | "handler" {
    const { handler } = this.action(signal);
    if (signal === SIGKILL || signal === SIGSTOP) return defaultAction(signal);
    if (handler === SIG_IGN) return "ignore";
    if (handler === SIG_DFL) return defaultAction(signal);
    return "handler";
  }

  /** The lowest pending signal that is not blocked, or 0. */
  deliverable(): number {
    // Asked after every syscall: nothing pending is the common answer, without BigInt work.
    if (this.pending === 0n) return 0;
    const ready = this.pending & ~this.mask;
    if (ready === 0n) return 0;
    for (let s = 1; s <= NSIG; s++) if ((ready & signalBit(s)) !== 0n) return s;
    return 0;
  }

  /** fork(2): the child has the same dispositions, mask and alternate stack, nothing pending. */
  fork(): SignalState {
    const copy = new SignalState();
    for (const [s, a] of this.actions) copy.actions.set(s, a);
    copy.mask = this.mask;
    copy.altStack = this.altStack;
    return copy;
  }

  /**
   * execve(2): handlers become default, ignored stays ignored, mask and
   * pending kept, the alternate stack gone.
   */
  exec(): SignalState {
    const copy = new SignalState();
    for (const [s, a] of this.actions) if (a.handler === SIG_IGN) copy.actions.set(s, a);
    copy.mask = this.mask;
    copy.pending = this.pending;
    return copy;
  }
}
