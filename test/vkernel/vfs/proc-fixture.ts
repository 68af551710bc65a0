// Fake processes for the /proc tests: a run of ProcessViews in a table the
// test edits (a process ends, is reaped, changes directory) between reads.
import type {
  ProcessState,
  ProcessView,
  ProcMapping,
  SignalMasks,
} from "../../../src/vkernel/vfs/proc-content.js";

/** A ProcessView whose facts a test sets directly. */
export interface FakeProcess extends ProcessView {
  ppid: number;
  state: ProcessState;
  cwd: string;
  comm: string;
  cpuMs: number;
  startedMs: number;
  waitStatus: number;
  readonly open: Map<number, string>;
  maps: ProcMapping[];
  masks: SignalMasks;
}

export interface FakeRun {
  readonly processes: Map<number, FakeProcess>;
  /** Milliseconds since the run began, for /proc/uptime. */
  uptimeMs: number;
  add(pid: number, facts?: Partial<FakeProcess>): FakeProcess;
  /** The process of `pid`; throws when there is none. */
  get(pid: number): FakeProcess;
}

/** An empty run; add() enters processes, deleting from `processes` reaps one. */
export function fakeRun(): FakeRun {
  const run: FakeRun = {
    processes: new Map(),
    uptimeMs: 12_345,
    add(pid, facts = {}) {
      const process: FakeProcess = {
        pid,
        ppid: 1,
        pgid: pid,
        sid: 1,
        uid: 0,
        gid: 0,
        state: "R",
        argv: ["/bin/busybox", "sh", "-c", "echo hi"],
        environ: ["PATH=/usr/bin:/bin", "HOME=/root"],
        exe: "/bin/busybox",
        cwd: "/var",
        comm: "sh",
        cpuMs: 1234,
        startedMs: 5_000,
        waitStatus: 0,
        open: new Map([
          [0, "/dev/stdin"],
          [1, "/dev/stdout"],
          [2, "/dev/stderr"],
          [3, "/etc/hostname"],
        ]),
        maps: [
          { start: 0x401000, end: 0x402000, perms: "r-xp", offset: 0x1000, path: "/bin/busybox" },
          { start: 0x400000, end: 0x401000, perms: "r--p", offset: 0, path: "/bin/busybox" },
          { start: 0x7f0000000000, end: 0x7f0000001000, perms: "rw-p", offset: 0, path: "" },
        ],
        masks: { pending: 0n, blocked: 0n, ignored: 0n, caught: 0n },
        fds: () => process.open,
        mappings: () => process.maps,
        residentBytes: () => 3 * 1024 * 1024,
        signalMasks: () => process.masks,
        uptimeMs: () => run.uptimeMs,
        pids: () => [...run.processes.keys()],
        process: (other) => run.processes.get(other),
        ...facts,
      } satisfies FakeProcess;
      run.processes.set(pid, process);
      return process;
    },
    get(pid) {
      const process = run.processes.get(pid);
      if (process === undefined) throw new Error(`no pid ${pid}`);
      return process;
    },
  };
  return run;
}
