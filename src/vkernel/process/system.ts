// The processes of one run and their scheduler (ARCHITECTURE.md "vkernel"):
// single-threaded and cooperative. Each process runs until its code yields —
// the CPU budget ran out at a loop back-edge, a syscall blocked, execve
// replaced the program, a signal waits — or ends. A blocked process's
// syscall is asked again each round until it completes; when every live
// process is blocked the scheduler sleeps until the earliest timeout, and
// with none it reports the deadlock and ends the run. The run lasts as long
// as its first process (pid 1), as a container does.
import { setImmediate as nextTick } from "node:timers/promises";
import type { Kernel } from "../kernel.js";
import { BLOCK } from "../syscalls/types.js";
import { EINTR } from "../errno.js";
import { hostInput } from "../vfs/host-input.js";
import { restoreTerminals } from "../vfs/host-terminal.js";
import { hostOutputBlocked } from "../vfs/stdio-node.js";
import { replaceImage, type KnownExecutable } from "./exec.js";
import { returnVforkMemory } from "./fork.js";
import { HostSignals } from "./host-signals.js";
import { earliestWake, fireAlarms } from "./wakeups.js";
import { releaseProcess } from "./pool.js";
import { ExecRefused, type Program, type ProgramSource } from "./program.js";
import { deliverSignal } from "./signal-frame.js";
import { runSlice } from "./slice.js";
import { DEFAULT_PROCESS_LIMIT, type Limits } from "./limits.js";
import {
  SA_NOCLDSTOP,
  SIGALRM,
  SIGCHLD,
  SIGCONT,
  SIGKILL,
  signalBit,
  STOP_SIGNALS,
} from "./signals.js";

const RAX = 0;
/**
 * The host event loop (timers, Ctrl-C, stdin, the pools' refills) gets a
 * turn every this many rounds, and at least every HOST_TURN_MS: a process
 * that computes spends its whole CPU budget in one slice (over 100 ms), so
 * counting rounds alone left a busy guest deaf to Ctrl-C for 10 s and more.
 */
const ROUNDS_PER_HOST_TURN = 64;
const HOST_TURN_MS = 10;

export interface SystemOptions {
  /** Loop back-edges between two yields of one process. */
  readonly cpuBudget?: number;
  readonly limits?: Limits;
}

/** How a process ended, as wait4(2) reports it (wait(2) "status"). */
export function waitStatus(k: Kernel): number {
  if (k.termSignal !== undefined) return k.termSignal;
  return ((k.exitStatus ?? 0) & 0xff) << 8;
}

/** A shell's view of a wait status: the exit code, or 128 + the signal. */
export function exitCode(k: Kernel): number {
  return k.termSignal !== undefined ? 128 + (k.termSignal & 0x7f) : (k.exitStatus ?? 0) & 0xff;
}

export class System {
  readonly processes = new Map<number, Kernel>();
  /** BLAKE3 of executable files per file version (exec.ts). */
  readonly hashes = new Map<string, string>();
  /** The terminal's foreground process group (tcsetpgrp(3)); unset: pid 1's group. */
  foreground: number | undefined;
  /** execve(2)'s lookups by path (exec.ts). */
  readonly executables = new Map<string, KnownExecutable>();
  private nextPid = 1;
  private rounds = 0;
  /** The processes of the scheduler's current round (one array, reused). */
  private readonly round: Kernel[] = [];

  constructor(
    readonly programs: ProgramSource,
    readonly options: SystemOptions = {},
  ) {}

  /** Processes alive at once (--pids-limit). */
  get processLimit(): number {
    return this.options.limits?.processes ?? DEFAULT_PROCESS_LIMIT;
  }

  private readonly reported = new Set<string>();

  /** One line, the first time a limit refuses something (a fork bomb hits it thousands of times). */
  reportLimit(k: Kernel, message: string): void {
    const kind = message.split(" ")[0] as string;
    if (this.reported.has(kind)) return;
    this.reported.add(kind);
    k.say(`vkernel: ${k.comm || "process"} (pid ${k.pid}): ${message}`);
  }

  /** Enters a new process (the first one, or a fork child) under a fresh pid. */
  adopt(k: Kernel): number {
    k.pid = this.nextPid++;
    if (k.pid === 1) {
      k.pgid = 1;
      k.sid = 1;
    }
    k.system = this;
    this.processes.set(k.pid, k);
    return k.pid;
  }

  children(k: Kernel): Kernel[] {
    return [...this.processes.values()].filter((c) => c.ppid === k.pid);
  }

  /**
   * Sends `signal` (kill(2)): ignored ones vanish; others wait in the
   * target's pending set and act when the scheduler next looks at it.
   */
  signal(target: Kernel, signal: number): void {
    if (signal === 0 || target.ended) return;
    // SIGCONT resumes a stopped process however it is handled, and a stop
    // signal and SIGCONT each discard the other's pending ones (signal(7)).
    if (signal === SIGCONT) this.resume(target);
    if ((signalBit(signal) & STOP_SIGNALS) !== 0n) {
      target.signals.pending &= ~signalBit(SIGCONT);
    }
    const disposition = target.signals.disposition(signal);
    if (disposition === "ignore" || disposition === "continue") return;
    target.signals.pending |= signalBit(signal);
  }

  /** Default action "stop": the process runs no more until SIGCONT; its parent hears of it. */
  private stop(k: Kernel, signal: number): void {
    k.stopSignal = signal;
    k.waitReport = "stopped";
    this.tellParent(k);
  }

  /** SIGCONT: a stopped process runs again (its blocked syscall, if any, goes on waiting). */
  private resume(k: Kernel): void {
    k.signals.pending &= ~STOP_SIGNALS;
    if (k.stopSignal === undefined) return;
    k.stopSignal = undefined;
    k.waitReport = "continued";
    this.tellParent(k);
  }

  /** SIGCHLD for a child's stop or continue, unless the parent asked not (SA_NOCLDSTOP). */
  private tellParent(k: Kernel): void {
    const parent = this.processes.get(k.ppid);
    if (parent === undefined || parent.ended) return;
    if ((parent.signals.action(SIGCHLD).flags & SA_NOCLDSTOP) === 0) this.signal(parent, SIGCHLD);
  }

  /** The run: schedules every process until `first` (pid 1) ends; its exit code. */
  async run(first: Kernel): Promise<number> {
    // execve replaces a process's Kernel, so the first process is followed by pid.
    const pid = first.pid;
    const init = (): Kernel => this.processes.get(pid) ?? first;
    // The host terminal's Ctrl-C, Ctrl-\\, Ctrl-Z and resizes go to the
    // foreground process group (host-signals.ts).
    let wakeNow: (() => void) | undefined;
    const hostSignals = new HostSignals(
      {
        foregroundGroup: () => {
          const fg = this.foreground;
          for (const k of this.processes.values()) if (!k.ended && k.pgid === fg) return k.pgid;
          return init().pgid;
        },
        signalGroup: (pgid, signal) => {
          for (const k of this.processes.values()) {
            if (!k.ended && k.pgid === pgid) this.signal(k, signal);
          }
        },
      },
      () => wakeNow?.(), // the scheduler may be asleep until a far timeout
    );
    // Input for a process waiting on the host's stdin wakes the scheduler too.
    const input = hostInput();
    const stopListening = input.listen(() => wakeNow?.());
    const wallMs = this.options.limits?.wallMs;
    const deadline = wallMs === undefined ? undefined : performance.now() + wallMs;
    let hostTurnAt = performance.now();
    try {
      while (!init().ended) {
        fireAlarms(this.processes.values(), (k) => this.signal(k, SIGALRM));
        if (wallMs !== undefined && deadline !== undefined && performance.now() >= deadline) {
          init().say(
            `vkernel: wall-time limit of ${wallMs / 1000} s reached; every process is killed`,
          );
          for (const k of this.processes.values()) if (!k.ended) this.end(k, SIGKILL);
          break;
        }
        let ran = false;
        // This round's processes (a child forked now waits for the next one).
        const round = this.round;
        round.length = 0;
        for (const k of this.processes.values()) round.push(k);
        for (const k of round) {
          if (this.processes.get(k.pid) !== k || k.ended) continue;
          const turned = this.turn(k);
          if (turned === true || (turned !== false && (await turned))) ran = true;
        }
        if (init().ended) break;
        if (!ran) {
          if (init().stopSignal !== undefined && hostSignals.stopWithGuest(init().pgid)) continue;
          let wake = earliestWake([...this.processes.values()], deadline);
          // The host gives no event when its full output pipe drains: poll.
          if (hostOutputBlocked()) wake = Math.min(wake ?? Infinity, performance.now() + 1);
          if (wake === undefined && !input.open) {
            init().say("vkernel: every process is blocked and nothing can wake them (deadlock)");
            for (const k of this.processes.values()) if (!k.ended) this.end(k, SIGKILL);
            break;
          }
          await new Promise<void>((resolve) => {
            // No timeout while only the host's input can wake a process.
            const timer =
              wake === undefined
                ? undefined
                : setTimeout(resolve, Math.max(0, wake - performance.now()));
            wakeNow = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wakeNow = undefined;
          hostTurnAt = performance.now();
        } else if (
          ++this.rounds % ROUNDS_PER_HOST_TURN === 0 ||
          performance.now() - hostTurnAt >= HOST_TURN_MS
        ) {
          await nextTick();
          hostTurnAt = performance.now();
        }
      }
      return exitCode(init());
    } finally {
      hostSignals.close();
      stopListening();
      restoreTerminals();
      for (const k of this.processes.values()) {
        if (!k.ended) k.termSignal = SIGKILL;
        k.closeAll();
      }
      this.processes.clear();
    }
  }

  /**
   * One turn of one process; true when its code ran or its state changed.
   * Synchronous unless an execve waits for its program to be lifted.
   */
  private turn(k: Kernel): boolean | Promise<boolean> {
    if (k.stopSignal !== undefined) {
      // A stopped process only dies (SIGKILL); it runs nothing else.
      if ((k.signals.pending & signalBit(SIGKILL)) === 0n) return false;
      this.end(k, SIGKILL);
      return true;
    }
    // A vfork parent's memory and state block are its child's until the
    // child execs or ends: no handler frame can be written, so every signal
    // waits, SIGKILL too (Linux would kill the parent at once).
    if (k.lentTo === undefined && !this.actOnSignals(k)) return true;
    if (k.pending !== undefined) {
      k.wakeAt = undefined;
      const result = k.pending.retry();
      if (k.ended) {
        this.end(k);
        return true;
      }
      if (result === BLOCK) return false;
      k.pending = undefined;
      k.setGpr(RAX, BigInt(result));
    }
    const request = k.execRequest;
    if (request !== undefined) {
      const program = request.program;
      if (program instanceof Promise) {
        const refused = (err: unknown): ExecRefused => {
          if (err instanceof ExecRefused) return err;
          throw err;
        };
        return program.then(undefined, refused).then((loaded) => {
          if (this.finishExec(k, loaded) === k) runSlice(this, k);
          return true;
        });
      }
      if (this.finishExec(k, program) !== k) return true;
    }
    runSlice(this, k);
    return true;
  }

  /**
   * Pending signals: a fatal one ends the process (false), a handler is
   * entered (signal-frame.ts). A blocked syscall is interrupted with EINTR.
   */
  private actOnSignals(k: Kernel): boolean {
    for (;;) {
      const signal = k.signals.deliverable();
      if (signal === 0) return true;
      k.signals.pending &= ~signalBit(signal);
      const disposition = k.signals.disposition(signal);
      if (disposition === "ignore" || disposition === "continue") continue;
      if (disposition === "stop") {
        this.stop(k, signal);
        return false;
      }
      if (disposition !== "handler") {
        this.end(k, signal | (disposition === "core" ? 0x80 : 0));
        return false;
      }
      if (k.pending !== undefined) {
        k.pending = undefined;
        k.wakeAt = undefined;
        k.setGpr(RAX, BigInt(-EINTR));
      }
      deliverSignal(k, signal);
    }
  }

  /** execve's end once its program is loaded: the process's new image, or `k` itself when refused. */
  private finishExec(k: Kernel, program: Program | ExecRefused): Kernel {
    const request = k.execRequest;
    k.execRequest = undefined;
    if (request === undefined) return k;
    if (program instanceof ExecRefused) {
      k.say(program.message);
      k.setGpr(RAX, BigInt(-program.errno));
      return k;
    }
    const replaced = replaceImage(k, program, request);
    this.processes.set(k.pid, replaced);
    k.runtime = undefined;
    this.wakeVforkParent(k);
    return replaced;
  }

  /**
   * The process ends (exit, or `signal`): its descriptors close, its
   * children go to pid 1, and it stays a zombie for its parent's wait4 —
   * unless nobody will wait (no parent, or the parent ignores SIGCHLD).
   */
  end(k: Kernel, signal?: number): void {
    if (signal !== undefined && k.exitStatus === undefined) k.termSignal ??= signal;
    k.pending = undefined;
    k.execRequest = undefined;
    k.closeAll();
    returnVforkMemory(k); // a vfork child's memory was its parent's
    releaseProcess(k); // its instance and memory serve the next process (pool.ts)
    for (const child of this.children(k)) child.ppid = 1;
    this.wakeVforkParent(k);
    const parent = this.processes.get(k.ppid);
    if (parent === undefined || parent.ended) {
      if (k.pid !== 1) this.processes.delete(k.pid);
      return;
    }
    if (parent.signals.action(SIGCHLD).handler === 1n) {
      this.processes.delete(k.pid);
      return;
    }
    this.signal(parent, SIGCHLD);
  }

  /** A vfork parent waits until its child has exec'd or ended (process.ts). */
  private wakeVforkParent(child: Kernel): void {
    child.vforkDone = true;
  }

  /** wait4(2): removes a reaped zombie. */
  reap(k: Kernel): void {
    this.processes.delete(k.pid);
  }
}
