// The state one guest process's syscalls work on: its memory, registers in
// the state block, file descriptors, root filesystem, brk/mmap regions, its
// place among the processes (pid, parent, group, session), signal state and
// how it ended. Syscall groups (syscalls/*.ts) receive it; they return -errno
// and never throw into guest code. process/ schedules and forks kernels.
import {
  MMAP_BASE,
  PAGE_SIZE,
  STACK_BOTTOM,
  STACK_TOP,
  STATE_FS_BASE,
  stateGpr,
} from "../lift/guest-layout.js";
import { AddressSpace } from "./address-space.js";
import { EMFILE } from "./errno.js";
import { O_RDWR } from "./vfs/constants.js";
import type { System } from "./process/system.js";
import type { ProcessRuntime } from "./process/runtime.js";
import type { VforkShare } from "./process/fork.js";
import type { ExecRequest } from "./process/exec.js";
import type { Limits } from "./process/limits.js";
import { NSIG, SIG_DFL, SIG_IGN, SignalState, signalBit } from "./process/signals.js";
import { BLOCK, type SyscallResult } from "./syscalls/types.js";
import {
  hostRoot,
  mountProcessVfs,
  OpenFile,
  type FsBackend,
  type ProcessView,
  type ProcMapping,
  type Vfs,
} from "./vfs/index.js";
import type { SignalMasks } from "./vfs/proc-content.js";
import { StdioNode } from "./vfs/stdio-node.js";

/** RLIMIT_NOFILE's usual soft limit: open(2) beyond it is EMFILE. */
export const MAX_OPEN_FILES = 1024;

/** One slot of the fd table: an open file description and the per-descriptor FD_CLOEXEC. */
export class FileDescriptor {
  constructor(
    readonly file: OpenFile,
    public closeOnExec: boolean,
  ) {}

  /**
   * The host fd behind the file, or -1 when it has none (image and device
   * files). Only mmap's file mappings (mm.ts) still read host fds directly.
   */
  get hostFd(): number {
    return this.file.node.hostFd ?? -1;
  }
}

export interface KernelOptions {
  /** Host directory served as the guest root when `vfs` is absent (`exec --root DIR`). */
  readonly root?: string;
  /** The guest's root filesystem (e.g. vfs/imageRoot over an image); /dev is mounted over it. */
  readonly vfs?: FsBackend;
  readonly argv: readonly string[];
  readonly env: readonly string[];
  /** Report each unimplemented syscall once on stderr. */
  readonly debug?: boolean;
  readonly stdout?: (bytes: Uint8Array) => void;
  readonly stderr?: (bytes: Uint8Array) => void;
  /** The run's resource limits (process/limits.ts). */
  readonly limits?: Limits;
}

/** A syscall that could not complete yet: asked again when the process is scheduled. */
export interface PendingSyscall {
  /** The result, or BLOCK while it still cannot complete. */
  readonly retry: () => SyscallResult;
}

export class Kernel {
  /** The mounted tree (/dev, /proc over the root), made on first use: most spawns never open a file. */
  private mounted: Vfs | undefined;
  /** Views of the memory's current buffer; renewed when memory.grow detached it. */
  private buffer: ArrayBuffer;
  private byteView: Uint8Array;
  private dataView: DataView;
  /** The tree the process's root is (shared by every process of a run). */
  readonly root: FsBackend;
  /** The working directory, canonical (chdir(2), getcwd(2)). */
  cwd = "/";
  readonly files: Map<number, FileDescriptor>;
  space: AddressSpace;
  /** exit(2)'s status once the process has exited. */
  exitStatus: number | undefined;
  /** The signal that ended the process (default action "terminate" or "core"). */
  termSignal: number | undefined;
  /** The signal that stopped the process (default action "stop"); SIGCONT clears it. */
  stopSignal: number | undefined;
  /** A stop or continue its parent's wait has not reported yet (WUNTRACED, WCONTINUED). */
  waitReport: "stopped" | "continued" | undefined;
  pid = 1;
  ppid = 0;
  pgid = 1;
  sid = 1;
  umask = 0o022;
  readonly reportedMissing: Set<number>;
  readonly signals: SignalState;
  /** The processes this kernel runs among; set by System when it adopts the process. */
  system: System | undefined;
  /** The code running in this process (instance, entry), set by the runtime. */
  runtime: ProcessRuntime | undefined;
  /** A syscall waiting to complete (the process is blocked while it is set). */
  pending: PendingSyscall | undefined;
  /** Set by a blocking handler with a timeout: when to ask it again at the latest. */
  wakeAt: number | undefined;
  /** execve(2) accepted a new program: the scheduler loads it once the code has unwound. */
  execRequest: ExecRequest | undefined;
  /** The code must unwind after this syscall (rt_sigreturn rewrote the registers). */
  unwind = false;
  /** A vfork(2) child has exec'd or ended: its parent may go on. */
  vforkDone = false;
  /** A vfork child: the parent whose instance and memory it runs in (process/fork.ts). */
  vforkShare: VforkShare | undefined;
  /** A vfork parent: the child running in its instance and memory now. */
  lentTo: Kernel | undefined;
  /** argv of the program image, for /proc/self/cmdline and messages. */
  argv: readonly string[];
  /** envp of the program image (/proc/<pid>/environ). */
  env: readonly string[];
  /** The path the program was executed from (/proc/self/exe). */
  exePath = "";
  /** The command name (prctl PR_SET_NAME; /proc/self/status Name). */
  comm = "";
  /** The --memory and --nofile limits have been reported (once per process). */
  reportedMemoryLimit = false;
  reportedFileLimit = false;
  /** CPU milliseconds the process's code has run (--cpu-time). */
  cpuMs = 0;
  /** When fork(2) made the process (performance.now(); execve keeps it): /proc starttime. */
  startedMs = performance.now();
  /** When ITIMER_REAL (alarm(2), setitimer(2)) sends SIGALRM (performance.now()). */
  alarmAt: number | undefined;
  /** ITIMER_REAL's it_interval: re-armed by this much after each SIGALRM (0: once). */
  alarmIntervalMs = 0;

  /** The run's options, with `vfs` set: fork and execve pass them on unchanged. */
  readonly options: KernelOptions;

  constructor(
    readonly memory: WebAssembly.Memory,
    options: KernelOptions,
    /** A forked or exec'd process's descriptors; absent: the host's stdio as 0–2. */
    inherited?: { files: Map<number, FileDescriptor>; signals: SignalState },
  ) {
    const root = options.vfs ?? (options.root === undefined ? undefined : hostRoot(options.root));
    if (root === undefined)
      throw new Error("Kernel: KernelOptions needs a root directory or a vfs");
    this.root = root;
    this.options = options.vfs === root ? options : { ...options, vfs: root };
    this.env = options.env;
    this.buffer = memory.buffer;
    this.byteView = new Uint8Array(this.buffer);
    this.dataView = new DataView(this.buffer);
    this.space = new AddressSpace(memory);
    this.space.limitBytes = options.limits?.memoryBytes ?? Number.POSITIVE_INFINITY;
    this.argv = options.argv;
    this.reportedMissing = new Set();
    if (inherited !== undefined) {
      this.files = inherited.files;
      this.signals = inherited.signals;
      return;
    }
    this.files = new Map();
    this.signals = new SignalState();
    const sinks = [undefined, options.stdout, options.stderr];
    for (const fd of [0, 1, 2] as const) {
      const node = new StdioNode(fd, sinks[fd]);
      const path = ["/dev/stdin", "/dev/stdout", "/dev/stderr"][fd] as string;
      this.files.set(fd, new FileDescriptor(new OpenFile(node, path, O_RDWR, false), false));
    }
  }

  get vfs(): Vfs {
    this.mounted ??= mountProcessVfs(
      this.root,
      (fd) => this.files.get(fd)?.file.node,
      processViewOf(this),
    );
    return this.mounted;
  }

  /** What a fork child and an exec'd image keep of `from`: group, session, cwd, umask. */
  inherit(from: Kernel): void {
    this.pgid = from.pgid;
    this.sid = from.sid;
    this.cwd = from.cwd;
    this.umask = from.umask;
  }

  /** Blocks the calling syscall until `retry` answers something other than BLOCK. */
  block(retry: () => SyscallResult): typeof BLOCK {
    this.pending = { retry };
    return BLOCK;
  }

  /** True once the process has exited or was killed. */
  get ended(): boolean {
    return this.exitStatus !== undefined || this.termSignal !== undefined;
  }

  /** A line on the run's stderr, prefixed "megalift: " (hash-failure policy, traps). */
  say(message: string): void {
    const bytes = new TextEncoder().encode(`megalift: ${message}\n`);
    if (this.options.stderr) this.options.stderr(bytes);
    else process.stderr.write(bytes);
  }

  bytes(): Uint8Array {
    if (this.buffer.byteLength === 0) this.renewViews();
    return this.byteView;
  }

  view(): DataView {
    if (this.buffer.byteLength === 0) this.renewViews();
    return this.dataView;
  }

  /** memory.grow detaches the old buffer (its byteLength becomes 0): views of the new one. */
  private renewViews(): void {
    this.buffer = this.memory.buffer;
    this.byteView = new Uint8Array(this.buffer);
    this.dataView = new DataView(this.buffer);
  }

  gpr(index: number): bigint {
    return this.view().getBigUint64(stateGpr(index), true);
  }

  setGpr(index: number, value: bigint): void {
    this.view().setBigUint64(stateGpr(index), BigInt.asUintN(64, value), true);
  }

  setFsBase(value: bigint): void {
    this.view().setBigUint64(STATE_FS_BASE, value, true);
  }

  fsBase(): bigint {
    return this.view().getBigUint64(STATE_FS_BASE, true);
  }

  /** A NUL-terminated string at a guest address. */
  readString(address: number, max = 4096): string {
    const mem = this.bytes();
    let end = address;
    while (end < mem.length && end - address < max && mem[end] !== 0) end++;
    return new TextDecoder().decode(mem.subarray(address, end));
  }

  /** True when [address, address+length) lies in guest memory. */
  valid(address: number, length: number): boolean {
    return address >= 0x1000 && address + length <= this.bytes().length;
  }

  lowestFreeFd(from = 0): number {
    let fd = from;
    while (this.files.has(fd)) fd++;
    return fd;
  }

  /** Puts a file in the lowest free slot at or above `from`: the new fd, or -EMFILE. */
  installFile(file: OpenFile, closeOnExec: boolean, from = 0): number {
    const fd = this.lowestFreeFd(from);
    const limit = this.options.limits?.openFiles ?? MAX_OPEN_FILES;
    if (fd >= limit) {
      file.release();
      if (!this.reportedFileLimit) {
        this.reportedFileLimit = true;
        this.say(
          `vkernel: ${this.comm || "process"} (pid ${this.pid}): open-file limit of ${limit} reached (EMFILE)`,
        );
      }
      return -EMFILE;
    }
    this.files.set(fd, new FileDescriptor(file, closeOnExec));
    return fd;
  }

  /** close(2) of one descriptor; the description closes with its last descriptor. */
  closeFd(fd: number): boolean {
    const entry = this.files.get(fd);
    if (entry === undefined) return false;
    this.files.delete(fd);
    entry.file.release();
    return true;
  }

  closeAll(): void {
    for (const fd of [...this.files.keys()]) this.closeFd(fd);
  }
}

/** RSP's index among the state block's registers. */
const RSP = 4;
/** Bytes below RSP a leaf function may use (the System V red zone); part of the live stack. */
const RED_ZONE = 128;

/**
 * What /proc shows of a process, read live (vfs/proc-backend.ts): built
 * when its Vfs is first used, and for another pid of the run each time a
 * /proc path names it. A pid is looked up in the run on every use, since
 * execve(2) replaces the Kernel behind it.
 */
function processViewOf(k: Kernel): ProcessView {
  return {
    get pid() {
      return k.pid;
    },
    get ppid() {
      return k.ppid;
    },
    get pgid() {
      return k.pgid;
    },
    get sid() {
      return k.sid;
    },
    uid: 0,
    gid: 0,
    get state() {
      if (k.ended) return "Z";
      if (k.stopSignal !== undefined) return "T";
      return k.pending !== undefined ? "S" : "R";
    },
    get argv() {
      return k.argv;
    },
    get environ() {
      return k.env;
    },
    get exe() {
      return k.exePath;
    },
    get cwd() {
      return k.cwd;
    },
    get comm() {
      return k.comm;
    },
    get cpuMs() {
      return k.cpuMs;
    },
    get waitStatus() {
      if (k.termSignal !== undefined) return k.termSignal;
      return ((k.exitStatus ?? 0) & 0xff) << 8;
    },
    fds: () => new Map([...k.files].map(([fd, d]) => [fd, d.file.path])),
    mappings: () => mappingsOf(k),
    residentBytes: () => mappingsOf(k).reduce((n, m) => n + (m.end - m.start), 0),
    signalMasks: () => signalMasksOf(k.signals),
    uptimeMs: () => performance.now(),
    get startedMs() {
      return k.startedMs;
    },
    pids: () => (k.system === undefined ? [k.pid] : [...k.system.processes.keys()]),
    process: (pid) => {
      if (k.system === undefined) return pid === k.pid ? processViewOf(k) : undefined;
      const other = k.system.processes.get(pid);
      return other === undefined ? undefined : processViewOf(other);
    },
  };
}

/**
 * The ranges in use, named as /proc/<pid>/maps names them: the program
 * image, [heap] (the break), the mmap'd ranges and [stack] from below RSP to
 * the top. Permissions are not tracked per range: all show as rwxp. An
 * ended process has given its memory back (process/pool.ts): nothing.
 */
function mappingsOf(k: Kernel): ProcMapping[] {
  if (k.ended) return [];
  const { imageStart, brkStart, brk } = k.space;
  const mappings: ProcMapping[] = [];
  const add = (start: number, end: number, path: string): void => {
    if (end > start) mappings.push({ start, end, perms: "rwxp", offset: 0, path });
  };
  if (imageStart !== 0) {
    add(imageStart, brkStart, k.exePath);
    add(brkStart, brk, "[heap]");
  }
  for (const r of k.space.usedRanges()) if (r.start >= MMAP_BASE) add(r.start, r.end, "");
  const rsp = Number(k.gpr(RSP));
  const stackLow =
    rsp > STACK_BOTTOM && rsp <= STACK_TOP
      ? Math.floor((rsp - RED_ZONE) / PAGE_SIZE) * PAGE_SIZE
      : STACK_BOTTOM;
  add(stackLow, STACK_TOP, "[stack]");
  return mappings;
}

/** The signal sets of /proc/<pid>/stat and status: pending, blocked, SIG_IGN, handled. */
function signalMasksOf(signals: SignalState): SignalMasks {
  let ignored = 0n;
  let caught = 0n;
  for (let signal = 1; signal <= NSIG; signal++) {
    const { handler } = signals.action(signal);
    if (handler === SIG_IGN) ignored |= signalBit(signal);
    else if (handler !== SIG_DFL) caught |= signalBit(signal);
  }
  return { pending: signals.pending, blocked: signals.mask, ignored, caught };
}
