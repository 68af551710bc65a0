// The shape of a syscall implementation: the kernel, the six argument
// registers (rdi rsi rdx r10 r8 r9) as unsigned 64-bit values, and a result
// that is ≥ 0 or -errno (Linux x86-64 syscall ABI, syscall(2)) — or BLOCK:
// the call cannot complete yet (an empty pipe, a child still running), so
// the process sleeps and the same handler is asked again when it may.
import type { Kernel } from "../kernel.js";

/** A handler's answer when the call must wait (see Kernel.block). */
export const BLOCK: unique symbol = Symbol("block");
export type SyscallResult = number | bigint | typeof BLOCK;

export type SyscallArgs = readonly [bigint, bigint, bigint, bigint, bigint, bigint];
export type SyscallHandler = (k: Kernel, a: SyscallArgs) => SyscallResult;
export type SyscallEntry = readonly [number, string, SyscallHandler];

/** Argument as a signed 32-bit int (fds, flags, dirfd AT_FDCWD = -100). */
export const int = (v: bigint): number => Number(BigInt.asIntN(32, v));
/** Argument as an address or length (below 2^53). */
export const num = (v: bigint): number => Number(BigInt.asIntN(64, v));
