// Signal syscalls for a process without asynchronous signals yet:
// rt_sigaction(2) and rt_sigprocmask(2) succeed (old values read as
// "default, empty mask"), sigaltstack(2) succeeds, and kill(2)/tgkill(2) of
// itself with a fatal signal ends the process with status 128 + signal.
import type { Kernel } from "../kernel.js";
import { int, num, type SyscallArgs, type SyscallEntry } from "./types.js";

function zeroOld(size: number, argIndex: number) {
  return (k: Kernel, a: SyscallArgs): number => {
    const old = num(a[argIndex] as bigint);
    if (old !== 0) k.bytes().fill(0, old, old + size);
    return 0;
  };
}

function selfKill(signalArg: number) {
  return (k: Kernel, a: SyscallArgs): number => {
    const signal = int(a[signalArg] as bigint);
    if (signal !== 0) k.exitStatus = 128 + signal;
    return 0;
  };
}

export const signalSyscalls: readonly SyscallEntry[] = [
  [13, "rt_sigaction", zeroOld(32, 2)],
  [14, "rt_sigprocmask", zeroOld(8, 2)],
  [62, "kill", selfKill(1)],
  [131, "sigaltstack", zeroOld(24, 1)],
  [200, "tkill", selfKill(1)],
  [234, "tgkill", selfKill(2)],
];
