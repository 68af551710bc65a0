// The host terminal's signals reach the guest as a terminal sends them
// (termios(3) ISIG, tty_ioctl(4)): Ctrl-C (SIGINT), Ctrl-\ (SIGQUIT) and
// Ctrl-Z (SIGTSTP) go to the foreground process group — the group a guest
// shell chose with tcsetpgrp, else pid 1's — and a window resize
// (SIGWINCH) too. A guest shell with job control then stops its foreground
// job and prompts again. When Ctrl-Z stops pid 1 itself, the host shell's
// job control takes over: megalift stops (SIGSTOP to itself) and, when the
// host continues it (fg, bg), continues the guest's stopped group.
import { SIGCONT, SIGINT } from "./signals.js";

const SIGQUIT = 3;
const SIGTSTP = 20;
const SIGWINCH = 28;

/** What the forwarding needs of the run's System. */
export interface SignalTarget {
  /** The foreground process group now. */
  foregroundGroup(): number;
  /** Sends `signal` to every live process of group `pgid`. */
  signalGroup(pgid: number, signal: number): void;
}

export class HostSignals {
  /** A host Ctrl-Z was passed on and has not yet stopped megalift. */
  private stopAsked = false;
  private readonly listeners: [NodeJS.Signals, () => void][];

  /** Starts forwarding; `wake` rouses a sleeping scheduler. */
  constructor(
    private readonly target: SignalTarget,
    wake: () => void,
  ) {
    const forward = (signal: number) => (): void => {
      if (signal === SIGTSTP) this.stopAsked = true;
      target.signalGroup(target.foregroundGroup(), signal);
      wake();
    };
    this.listeners = [
      ["SIGINT", forward(SIGINT)],
      ["SIGQUIT", forward(SIGQUIT)],
      ["SIGTSTP", forward(SIGTSTP)],
      ["SIGWINCH", forward(SIGWINCH)],
    ];
    for (const [name, listener] of this.listeners) process.on(name, listener);
  }

  /**
   * Pid 1 (of group `pgid`) is stopped: when a host Ctrl-Z did it, megalift
   * stops until the host continues it, then continues the group. False
   * when the stop came from inside the guest (nothing to hand to the host).
   */
  stopWithGuest(pgid: number): boolean {
    if (!this.stopAsked) return false;
    this.stopAsked = false;
    process.kill(process.pid, "SIGSTOP"); // returns once the host sent SIGCONT
    this.target.signalGroup(pgid, SIGCONT);
    return true;
  }

  close(): void {
    for (const [name, listener] of this.listeners) process.off(name, listener);
  }
}
