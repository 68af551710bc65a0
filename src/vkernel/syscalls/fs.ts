// The file syscall group: descriptor calls (fs-io.ts) and path calls
// (fs-path.ts), both served by the process's Vfs (../vfs/).
import { fsIoSyscalls } from "./fs-io.js";
import { fsPathSyscalls } from "./fs-path.js";
import type { SyscallEntry } from "./types.js";

export const fsSyscalls: readonly SyscallEntry[] = [...fsIoSyscalls, ...fsPathSyscalls];
