// The file syscall group: descriptor calls (fs-io.ts), path calls
// (fs-path.ts), attribute changes (fs-attr.ts) and statx/statfs
// (fs-stat.ts), all served by the process's Vfs (../vfs/).
import { fsAttrSyscalls } from "./fs-attr.js";
import { fsIoSyscalls } from "./fs-io.js";
import { fsPathSyscalls } from "./fs-path.js";
import { fsStatSyscalls } from "./fs-stat.js";
import type { SyscallEntry } from "./types.js";

export const fsSyscalls: readonly SyscallEntry[] = [
  ...fsIoSyscalls,
  ...fsPathSyscalls,
  ...fsAttrSyscalls,
  ...fsStatSyscalls,
];
