// The numeric /proc files ps, top, pgrep and pidof read: /proc/<pid>/stat
// (fs/proc/array.c do_task_stat, proc(5) "/proc/pid/stat"), statm
// (proc_pid_statm) and the run-wide /proc/uptime and /proc/loadavg
// (fs/proc/uptime.c, fs/proc/loadavg.c).
import { commOf, type ProcessView } from "./proc-content.js";

/** USER_HZ: the clock ticks stat's times are counted in (sysconf(_SC_CLK_TCK)). */
export const CLOCK_TICKS_PER_SECOND = 100;
const PAGE_SIZE = 4096;
/** RLIMIT_RSS is unlimited: RLIM_INFINITY as an unsigned long. */
const RLIM_INFINITY = "18446744073709551615";
/** task_struct flags: PF_EXITING, set once the task has begun to exit. */
const PF_EXITING = 0x4;
/** The signal a child's end sends its parent (exit_signal). */
const SIGCHLD = 17;
/** task_prio() of a SCHED_OTHER task at nice 0: prio 120 - MAX_RT_PRIO 100. */
const DEFAULT_PRIORITY = 20;

const ticks = (ms: number): number => Math.floor((ms * CLOCK_TICKS_PER_SECOND) / 1000);

/** Virtual size and resident pages; a zombie has no memory left. */
function memoryOf(view: ProcessView): { vsize: number; rssPages: number } {
  if (view.state === "Z") return { vsize: 0, rssPages: 0 };
  const vsize = view.mappings().reduce((n, m) => n + (m.end - m.start), 0);
  return { vsize, rssPages: Math.ceil(view.residentBytes() / PAGE_SIZE) };
}

/**
 * stat: the 52 fields of do_task_stat on one line. There is no controlling
 * terminal (tty_nr 0, tpgid -1) and no page-fault or child-time
 * accounting; starttime counts from the run's "boot" (/proc/uptime). The memory
 * layout fields (startcode … env_end) and kstkesp/kstkeip are 0, as Linux
 * shows them to a reader without ptrace access.
 */
export function renderStat(view: ProcessView): string {
  const { vsize, rssPages } = memoryOf(view);
  const signals = view.signalMasks();
  const zombie = view.state === "Z";
  const fields: (number | string | bigint)[] = [
    view.pid,
    `(${commOf(view)})`,
    view.state,
    view.ppid,
    view.pgid,
    view.sid,
    0, // tty_nr
    -1, // tpgid
    zombie ? PF_EXITING : 0, // flags
    0, // minflt
    0, // cminflt
    0, // majflt
    0, // cmajflt
    ticks(view.cpuMs), // utime: the lifted code runs in user mode
    0, // stime
    0, // cutime
    0, // cstime
    DEFAULT_PRIORITY,
    0, // nice
    1, // num_threads
    0, // itrealvalue (always 0 since Linux 2.6.17)
    ticks(view.startedMs), // starttime
    vsize,
    rssPages,
    RLIM_INFINITY, // rsslim
    0, // startcode
    0, // endcode
    0, // startstack
    0, // kstkesp
    0, // kstkeip
    signals.pending,
    signals.blocked,
    signals.ignored,
    signals.caught,
    view.state === "R" ? 0 : 1, // wchan: 1 when not running (Linux 5.16+)
    0, // nswap
    0, // cnswap
    SIGCHLD, // exit_signal
    0, // processor
    0, // rt_priority
    0, // policy: SCHED_OTHER
    0, // delayacct_blkio_ticks
    0, // guest_time
    0, // cguest_time
    0, // start_data
    0, // end_data
    0, // start_brk
    0, // arg_start
    0, // arg_end
    0, // env_start
    0, // env_end
    zombie ? view.waitStatus : 0, // exit_code
  ];
  return `${fields.join(" ")}\n`;
}

/**
 * statm: size resident shared text lib data dt, in pages. Text and data are
 * not told apart here: everything mapped counts as data; lib and dt are 0
 * as in Linux 2.6+.
 */
export function renderStatm(view: ProcessView): string {
  const { vsize, rssPages } = memoryOf(view);
  const size = Math.ceil(vsize / PAGE_SIZE);
  return `${size} ${rssPages} 0 0 0 ${size} 0\n`;
}

/**
 * uptime: seconds since the run began and seconds the CPU was idle, with
 * two decimals. Idle time is not measured: it is reported as the uptime
 * less the CPU time of the live processes, never below 0.
 */
export function renderUptime(view: ProcessView): string {
  const up = view.uptimeMs() / 1000;
  let busyMs = 0;
  for (const pid of view.pids()) busyMs += view.process(pid)?.cpuMs ?? 0;
  const idle = Math.max(0, up - busyMs / 1000);
  return `${up.toFixed(2)} ${idle.toFixed(2)}\n`;
}

/**
 * loadavg: the 1, 5 and 15 minute averages (not computed: 0.00), runnable
 * over all tasks, and the newest pid.
 */
export function renderLoadavg(view: ProcessView): string {
  const pids = view.pids();
  const running = pids.filter((pid) => view.process(pid)?.state === "R").length;
  const newest = pids.reduce((a, b) => Math.max(a, b), 0);
  return `0.00 0.00 0.00 ${running}/${pids.length} ${newest}\n`;
}
