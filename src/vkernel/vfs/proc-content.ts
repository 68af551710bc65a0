// What /proc/<pid> files say (proc(5)), rendered from a ProcessView: the
// process facts the kernel owns, read through callbacks at open(2) time so
// a file shows the process as it is then. Formats follow fs/proc/array.c
// (status), fs/proc/task_mmu.c (maps) and fs/proc/base.c (cmdline,
// environ); stat and statm are in proc-stat.ts.

/** One mapping of the address space, as /proc/<pid>/maps lists it. */
export interface ProcMapping {
  readonly start: number;
  readonly end: number;
  /** "r-xp": read, write, execute, then p(rivate) or s(hared). */
  readonly perms: string;
  readonly offset: number;
  /** The file mapped, or a pseudo-name ("[heap]", "[stack]"), or "" when anonymous. */
  readonly path: string;
}

/**
 * A process's scheduling state as stat's field 3 shows it: R running or
 * runnable, S asleep in a syscall, Z ended and not yet reaped (a zombie).
 */
export type ProcessState = "R" | "S" | "T" | "Z";

/** The signal sets stat and status show (bit n-1 is signal n). */
export interface SignalMasks {
  readonly pending: bigint;
  readonly blocked: bigint;
  readonly ignored: bigint;
  /** Signals with a handler installed. */
  readonly caught: bigint;
}

/** The process a /proc/<pid> directory describes; the kernel implements it. */
export interface ProcessView {
  readonly pid: number;
  readonly ppid: number;
  /** Process group and session (setpgid(2), setsid(2)). */
  readonly pgid: number;
  readonly sid: number;
  readonly uid: number;
  readonly gid: number;
  readonly state: ProcessState;
  readonly argv: readonly string[];
  /** The environment the program was exec'd with (execve(2)'s envp). */
  readonly environ: readonly string[];
  /** The canonical guest path of the running program (/proc/self/exe). */
  readonly exe: string;
  /** The canonical working directory (/proc/self/cwd). */
  readonly cwd: string;
  /** The command name: the base name execve(2) was given, or prctl(PR_SET_NAME)'s. */
  readonly comm: string;
  /** CPU time the process's code has run, in milliseconds. */
  readonly cpuMs: number;
  /** A zombie's status as wait(2) reports it; 0 while the process lives. */
  readonly waitStatus: number;
  /** Open descriptors → the guest path (or "pipe:[N]"-like name) each refers to. */
  fds(): ReadonlyMap<number, string>;
  mappings(): readonly ProcMapping[];
  /** Resident memory in bytes (VmRSS). */
  residentBytes(): number;
  signalMasks(): SignalMasks;
  /** Milliseconds since the run began: the "boot" its /proc/uptime counts from. */
  uptimeMs(): number;
  /** When the process was forked, on the uptimeMs clock (execve keeps it, as Linux does). */
  readonly startedMs: number;
  /** The pids of the run's processes, this one and zombies included. */
  pids(): readonly number[];
  /** A process of the run by pid (this one too); undefined once it was reaped. */
  process(pid: number): ProcessView | undefined;
}

/** comm: the command name cut to TASK_COMM_LEN - 1 = 15 bytes (the exe's base name when unset). */
export function commOf(view: ProcessView): string {
  const name = view.comm !== "" ? view.comm : view.exe.slice(view.exe.lastIndexOf("/") + 1);
  return Buffer.from(name).subarray(0, 15).toString();
}

/** cmdline: each argument followed by a NUL; empty for a zombie, whose memory is gone (proc(5)). */
export function renderCmdline(view: ProcessView): string {
  if (view.state === "Z") return "";
  return view.argv.map((arg) => `${arg}\0`).join("");
}

/** environ: each "NAME=value" followed by a NUL, as execve(2) placed them; empty for a zombie. */
export function renderEnviron(view: ProcessView): string {
  if (view.state === "Z") return "";
  return view.environ.map((entry) => `${entry}\0`).join("");
}

const STATE_NAMES: Record<ProcessState, string> = {
  R: "R (running)",
  S: "S (sleeping)",
  T: "T (stopped)",
  Z: "Z (zombie)",
};

/** A signal set as status shows it: 16 hex digits (render_sigset_t). */
const sigset = (mask: bigint): string => mask.toString(16).padStart(16, "0");

/**
 * status: the lines glibc, shells and ps read, in task_state()'s order, for
 * a single-threaded task. A zombie has no memory lines (its mm is gone).
 */
export function renderStatus(view: ProcessView): string {
  const ids = (id: number): string => `${id}\t${id}\t${id}\t${id}`;
  const zombie = view.state === "Z";
  const kb = (bytes: number): string => `${String(Math.ceil(bytes / 1024)).padStart(8)} kB`;
  const size = view.mappings().reduce((n, m) => n + (m.end - m.start), 0);
  const signals = view.signalMasks();
  return [
    `Name:\t${commOf(view)}`,
    `State:\t${STATE_NAMES[view.state]}`,
    `Tgid:\t${view.pid}`,
    "Ngid:\t0",
    `Pid:\t${view.pid}`,
    `PPid:\t${view.ppid}`,
    "TracerPid:\t0",
    `Uid:\t${ids(view.uid)}`,
    `Gid:\t${ids(view.gid)}`,
    `FDSize:\t${Math.max(64, 2 ** Math.ceil(Math.log2(view.fds().size + 1)))}`,
    "Groups:\t",
    `NStgid:\t${view.pid}`,
    `NSpid:\t${view.pid}`,
    `NSpgid:\t${view.pgid}`,
    `NSsid:\t${view.sid}`,
    ...(zombie ? [] : [`VmSize:\t${kb(size)}`, `VmRSS:\t${kb(view.residentBytes())}`]),
    "Threads:\t1",
    `SigPnd:\t${sigset(signals.pending)}`,
    `ShdPnd:\t${sigset(0n)}`,
    `SigBlk:\t${sigset(signals.blocked)}`,
    `SigIgn:\t${sigset(signals.ignored)}`,
    `SigCgt:\t${sigset(signals.caught)}`,
    "",
  ].join("\n");
}

/**
 * maps: "start-end perms offset dev inode", the name padded to column 73
 * (show_vma_header_prefix + seq_pad). Mappings have no device here: 00:00 0.
 * A zombie has none.
 */
export function renderMaps(view: ProcessView): string {
  if (view.state === "Z") return "";
  const hex = (n: number, width: number): string => n.toString(16).padStart(width, "0");
  return [...view.mappings()]
    .sort((a, b) => a.start - b.start)
    .map((m) => {
      const header = `${hex(m.start, 8)}-${hex(m.end, 8)} ${m.perms} ${hex(m.offset, 8)} 00:00 0 `;
      return m.path === "" ? `${header}\n` : `${header.padEnd(72)} ${m.path}\n`;
    })
    .join("");
}
