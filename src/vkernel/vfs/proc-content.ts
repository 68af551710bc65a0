// What /proc/<pid> files say (proc(5)), rendered from a ProcessView: the
// process facts the kernel owns, read through callbacks at open(2) time so
// a file shows the process as it is then. Formats follow fs/proc/array.c
// (status), fs/proc/task_mmu.c (maps) and fs/proc/base.c (cmdline).

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

/** The process a /proc/<pid> directory describes; the kernel implements it. */
export interface ProcessView {
  readonly pid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly gid: number;
  readonly argv: readonly string[];
  /** The canonical guest path of the running program (/proc/self/exe). */
  readonly exe: string;
  /** The canonical working directory (/proc/self/cwd). */
  readonly cwd: string;
  /** Open descriptors → the guest path (or "pipe:[N]"-like name) each refers to. */
  fds(): ReadonlyMap<number, string>;
  mappings(): readonly ProcMapping[];
  /** Resident memory in bytes (VmRSS). */
  residentBytes(): number;
}

/** comm: the program's base name, cut to TASK_COMM_LEN - 1 = 15 bytes. */
export function commOf(view: ProcessView): string {
  const base = view.exe.slice(view.exe.lastIndexOf("/") + 1);
  return Buffer.from(base).subarray(0, 15).toString();
}

/** cmdline: each argument followed by a NUL (proc(5)). */
export function renderCmdline(view: ProcessView): string {
  return view.argv.map((arg) => `${arg}\0`).join("");
}

/** status: the lines glibc, shells and ps read; a single-threaded, running task. */
export function renderStatus(view: ProcessView): string {
  const ids = (id: number): string => `${id}\t${id}\t${id}\t${id}`;
  const kb = Math.ceil(view.residentBytes() / 1024);
  return [
    `Name:\t${commOf(view)}`,
    "State:\tR (running)",
    `Tgid:\t${view.pid}`,
    `Pid:\t${view.pid}`,
    `PPid:\t${view.ppid}`,
    "TracerPid:\t0",
    `Uid:\t${ids(view.uid)}`,
    `Gid:\t${ids(view.gid)}`,
    `FDSize:\t${Math.max(64, 2 ** Math.ceil(Math.log2(view.fds().size + 1)))}`,
    `VmRSS:\t${String(kb).padStart(8)} kB`,
    "Threads:\t1",
    "",
  ].join("\n");
}

/**
 * maps: "start-end perms offset dev inode", the name padded to column 73
 * (show_vma_header_prefix + seq_pad). Mappings have no device here: 00:00 0.
 */
export function renderMaps(view: ProcessView): string {
  const hex = (n: number, width: number): string => n.toString(16).padStart(width, "0");
  return [...view.mappings()]
    .sort((a, b) => a.start - b.start)
    .map((m) => {
      const header = `${hex(m.start, 8)}-${hex(m.end, 8)} ${m.perms} ${hex(m.offset, 8)} 00:00 0 `;
      return m.path === "" ? `${header}\n` : `${header.padEnd(72)} ${m.path}\n`;
    })
    .join("");
}
