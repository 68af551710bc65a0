// The syscall table (Linux x86-64 numbers, arch/x86/entry/syscalls/
// syscall_64.tbl) joined from the groups, and the entry the lifted code's
// kernel.syscall import calls: arguments from the state block, the result
// in RAX. Unknown numbers return -ENOSYS (named once on stderr with
// MEGALIFT_DEBUG=1); a handler that throws is a vkernel bug, reported as -EIO.
//
// The import's own result tells the lifted code what to do next (lift/abi.ts):
// 0 goes on after the syscall; RESULT_HALT stops (the process ended);
// RESULT_YIELD unwinds to the scheduler with state.rip after the syscall —
// the call blocked (a pipe, wait4), replaced the program (execve), or a
// signal is to be delivered. The process resumes there later.
import { RESULT_HALT, RESULT_YIELD } from "../../lift/abi.js";
import { EAGAIN, ENOSYS, EPIPE } from "../errno.js";
import { SIGPIPE } from "../process/signals.js";
import type { Kernel } from "../kernel.js";
import { O_NONBLOCK, PipeEnd } from "../process/pipe.js";
import { StdioNode } from "../vfs/stdio-node.js";
import { fsSyscalls } from "./fs.js";
import { mmSyscalls } from "./mm.js";
import { pipeSyscalls } from "./pipe-poll.js";
import { procSyscalls } from "./proc.js";
import { processSyscalls } from "./process.js";
import { signalSyscalls } from "./signal.js";
import { timeSyscalls } from "./time.js";
import { BLOCK, type SyscallArgs, type SyscallEntry, type SyscallResult } from "./types.js";

const TABLE = new Map<number, SyscallEntry>(
  [
    ...fsSyscalls,
    ...mmSyscalls,
    ...procSyscalls,
    ...processSyscalls,
    ...pipeSyscalls,
    ...signalSyscalls,
    ...timeSyscalls,
  ].map((e) => [e[0], e]),
);

/** RDI RSI RDX R10 R8 R9 as GPR indices. */
const ARG_REGS = [7, 6, 2, 10, 8, 9] as const;
const RAX = 0;

/** read, write, readv, writev: calls that wait on a pipe or stdin unless its file is O_NONBLOCK. */
const STREAM_IO = new Set([0, 1, 19, 20]);

/** Calls one handler; a stream read/write that would block on a blocking file blocks. */
export function callSyscall(k: Kernel, entry: SyscallEntry, args: SyscallArgs): SyscallResult {
  let result: SyscallResult;
  try {
    result = entry[2](k, args);
  } catch (err) {
    if (k.options.debug) k.say(`vkernel: ${entry[1]}: ${String(err)}`);
    return -5;
  }
  // pipe(7): writing to a pipe nobody reads raises SIGPIPE (EPIPE when it is ignored).
  if (result === -EPIPE && STREAM_IO.has(entry[0])) k.system?.signal(k, SIGPIPE);
  if (result === -EAGAIN && STREAM_IO.has(entry[0])) {
    const file = k.files.get(Number(BigInt.asIntN(32, args[0])))?.file;
    const waits = file?.node instanceof PipeEnd || file?.node instanceof StdioNode;
    if (file !== undefined && (file.flags & O_NONBLOCK) === 0 && waits) return BLOCK;
  }
  return result;
}

/** Runs the syscall in the state block; the result code for the lifted code. */
export function handleSyscall(k: Kernel): number {
  const number = Number(k.gpr(RAX));
  const args = ARG_REGS.map((r) => k.gpr(r)) as unknown as SyscallArgs;
  const entry = TABLE.get(number);
  let result: SyscallResult;
  if (entry === undefined) {
    if (k.options.debug && !k.reportedMissing.has(number)) {
      k.reportedMissing.add(number);
      k.say(`vkernel: syscall ${number} not implemented (ENOSYS)`);
    }
    result = -ENOSYS;
  } else {
    result = callSyscall(k, entry, args);
  }
  if (k.ended) return RESULT_HALT;
  if (result === BLOCK) {
    // RAX keeps the syscall number; the scheduler asks the handler again
    // (or the retry the handler gave with k.block).
    const blocked = entry as SyscallEntry;
    k.pending ??= { retry: () => callSyscall(k, blocked, args) };
    return RESULT_YIELD;
  }
  k.setGpr(RAX, BigInt(result));
  // execve replaced the program, or a signal waits for delivery: unwind.
  if (k.execRequest !== undefined || k.unwind || k.signals.deliverable() !== 0) {
    k.unwind = false;
    return RESULT_YIELD;
  }
  return 0;
}

export function syscallName(number: number): string | undefined {
  return TABLE.get(number)?.[1];
}
