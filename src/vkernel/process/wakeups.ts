// When the scheduler must look at its processes again (process/system.ts):
// ITIMER_REAL alarms that are due, and the earliest time a sleeping
// process — a timed syscall, an alarm, the run's wall-time limit — needs
// waking when every process is blocked.
import type { Kernel } from "../kernel.js";

/** ITIMER_REAL: `alarm(k)` (SIGALRM) for each process whose alarm is due, re-armed by its interval. */
export function fireAlarms(processes: Iterable<Kernel>, alarm: (k: Kernel) => void): void {
  const now = performance.now();
  for (const k of processes) {
    if (k.ended || k.alarmAt === undefined || k.alarmAt > now) continue;
    k.alarmAt = k.alarmIntervalMs > 0 ? now + k.alarmIntervalMs : undefined;
    alarm(k);
  }
}

/** The earliest performance.now() at which a blocked process may proceed; undefined: none will by itself. */
export function earliestWake(
  processes: readonly Kernel[],
  deadline: number | undefined,
): number | undefined {
  let wake: number | undefined;
  for (const k of processes) {
    if (!k.ended && k.alarmAt !== undefined) wake = Math.min(wake ?? k.alarmAt, k.alarmAt);
  }
  // Asleep with no timeout but a wall-time limit: wake to enforce it.
  const anySleeper = processes.some((k) => !k.ended && k.wakeAt !== undefined);
  if (deadline !== undefined && anySleeper) wake = deadline;
  for (const k of processes) {
    if (!k.ended && k.pending !== undefined && k.wakeAt !== undefined) {
      wake = wake === undefined ? k.wakeAt : Math.min(wake, k.wakeAt);
    }
  }
  return wake;
}
