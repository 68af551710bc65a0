// One slice of a process's code (process/system.ts schedules them): the
// lifted code runs until it yields — its CPU budget spent at a loop
// back-edge, a syscall blocked or execve accepted — or stops, and what
// stopped it decides the process's fate: exit, a wasm trap (SIGSEGV with
// the last dispatch address), an unsupported instruction's trap (SIGILL),
// a jump to code that was not lifted (SIGSEGV, unless it is the libc's
// signal restorer), or the --cpu-time limit (SIGXCPU).
import { DEFAULT_CPU_BUDGET, RESULT_HALT, RESULT_NO_CODE, RESULT_YIELD } from "../../lift/abi.js";
import { STATE_RIP } from "../../lift/guest-layout.js";
import type { Kernel } from "../kernel.js";
import { isSignalRestorer, signalReturn } from "./signal-frame.js";
import { SIGILL, SIGSEGV, SIGXCPU } from "./signals.js";
import type { System } from "./system.js";

const RAX = 0;

/** Runs `k`'s code for one slice of `system`'s scheduler. */
export function runSlice(system: System, k: Kernel): void {
  const runtime = k.runtime;
  if (runtime === undefined) return;
  runtime.budget.value = system.options.cpuBudget ?? DEFAULT_CPU_BUDGET;
  let result: number;
  const started = performance.now();
  try {
    result = runtime.run();
    k.cpuMs += performance.now() - started;
    const cpuMs = system.options.limits?.cpuMs;
    if (cpuMs !== undefined && k.cpuMs > cpuMs && !k.ended) {
      system.reportLimit(k, `cpu-time limit of ${cpuMs / 1000} s reached (SIGXCPU)`);
      system.end(k, SIGXCPU | 0x80);
      return;
    }
  } catch (err) {
    // A wasm trap in lifted code: an out-of-bounds access or integer divide error.
    const pc = k.view().getBigUint64(STATE_RIP, true);
    if (k.options.debug && err instanceof Error) k.say(err.stack ?? "");
    k.say(
      `${runtime.program.name}: ${err instanceof Error ? err.message : String(err)} (last dispatch at 0x${pc.toString(16)})`,
    );
    system.end(k, SIGSEGV);
    return;
  }
  if (result === RESULT_YIELD) return;
  if (k.ended) {
    system.end(k);
    return;
  }
  if (result === RESULT_HALT && runtime.trapped) {
    system.end(k, SIGILL);
    return;
  }
  const pc = k.view().getBigUint64(STATE_RIP, true);
  if (result === RESULT_NO_CODE && isSignalRestorer(k, Number(pc))) {
    k.setGpr(RAX, signalReturn(k));
    k.unwind = false;
    return;
  }
  k.say(
    result === RESULT_NO_CODE
      ? `${runtime.program.name}: jump to 0x${pc.toString(16)}, which was not lifted (SIGSEGV)`
      : `${runtime.program.name}: stopped with result ${result}`,
  );
  system.end(k, SIGSEGV);
}
