// The syscall table (Linux x86-64 numbers, arch/x86/entry/syscalls/
// syscall_64.tbl) joined from the groups, and the entry the lifted code's
// kernel.syscall import calls: arguments from the state block, the result
// in RAX. Unknown numbers return -ENOSYS (named once on stderr with
// MEGALIFT_DEBUG=1); a handler that throws is a vkernel bug, reported as -EIO.
import { ENOSYS } from "../errno.js";
import type { Kernel } from "../kernel.js";
import { fsSyscalls } from "./fs.js";
import { mmSyscalls } from "./mm.js";
import { procSyscalls } from "./proc.js";
import { signalSyscalls } from "./signal.js";
import { timeSyscalls } from "./time.js";
import type { SyscallArgs, SyscallEntry } from "./types.js";

const TABLE = new Map<number, SyscallEntry>(
  [...fsSyscalls, ...mmSyscalls, ...procSyscalls, ...signalSyscalls, ...timeSyscalls].map((e) => [
    e[0],
    e,
  ]),
);

/** RDI RSI RDX R10 R8 R9 as GPR indices. */
const ARG_REGS = [7, 6, 2, 10, 8, 9] as const;
const RAX = 0;

/** Runs the syscall in the state block; true when the process has exited. */
export function handleSyscall(k: Kernel): boolean {
  const number = Number(k.gpr(RAX));
  const args = ARG_REGS.map((r) => k.gpr(r)) as unknown as SyscallArgs;
  const entry = TABLE.get(number);
  let result: number | bigint;
  if (entry === undefined) {
    if (k.options.debug && !k.reportedMissing.has(number)) {
      k.reportedMissing.add(number);
      process.stderr.write(`megalift: vkernel: syscall ${number} not implemented (ENOSYS)\n`);
    }
    result = -ENOSYS;
  } else {
    try {
      result = entry[2](k, args);
    } catch (err) {
      if (k.options.debug) process.stderr.write(`megalift: vkernel: ${entry[1]}: ${String(err)}\n`);
      result = -5;
    }
  }
  k.setGpr(RAX, BigInt(result));
  return k.exitStatus !== undefined;
}

export function syscallName(number: number): string | undefined {
  return TABLE.get(number)?.[1];
}
