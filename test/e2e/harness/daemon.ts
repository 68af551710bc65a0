// Starts a long-running process (distribution, containerd, dockerd, the
// proxy) in its own process group with its output kept in memory and in a
// log file, waits for it to serve, and stops the whole group. A start that
// times out or a daemon that dies names the daemon and shows its log tail.
import { spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
import { createServer } from "node:net";
import type { Teardown } from "./teardown.js";

export interface DaemonSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Every line the daemon prints (stdout and stderr) is appended here. */
  readonly logFile: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Resolves true once the daemon serves; polled until readyTimeoutMs. */
  readonly ready: (daemon: Daemon) => Promise<boolean>;
  readonly readyTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  readonly stopTimeoutMs?: number;
}

export interface Daemon {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Lines printed on stdout so far, in order. */
  stdoutLines(): readonly string[];
  /** Lines printed on stdout and stderr so far, in arrival order. */
  allLines(): readonly string[];
  logTail(lines?: number): string;
  readonly running: boolean;
  /** SIGTERM to the group, SIGKILL after the stop timeout; idempotent. */
  stop(): Promise<void>;
}

/** Process groups still alive, killed if the test process exits without teardown. */
const liveGroups = new Set<number>();
process.on("exit", () => {
  for (const pgid of liveGroups) killGroup(pgid, "SIGKILL");
});

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** A loopback TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

class LineSplitter {
  private rest = "";
  constructor(private readonly onLine: (line: string) => void) {}
  push(chunk: Buffer): void {
    const text = this.rest + chunk.toString("utf8");
    const lines = text.split("\n");
    this.rest = lines.pop() ?? "";
    for (const line of lines) this.onLine(line);
  }
  flush(): void {
    if (this.rest) this.onLine(this.rest);
    this.rest = "";
  }
}

/** Starts the daemon, registers its stop with teardown, and waits until it is ready. */
export async function startDaemon(spec: DaemonSpec, teardown: Teardown): Promise<Daemon> {
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const spawnError = new Promise<Error>((resolve) => child.on("error", resolve));
  const stdout: string[] = [];
  const all: string[] = [];
  const record = (line: string, isStdout: boolean): void => {
    if (isStdout) stdout.push(line);
    all.push(line);
    appendFileSync(spec.logFile, line + "\n");
  };
  const outSplitter = new LineSplitter((line) => record(line, true));
  const errSplitter = new LineSplitter((line) => record(line, false));
  child.stdout.on("data", (c: Buffer) => outSplitter.push(c));
  child.stderr.on("data", (c: Buffer) => errSplitter.push(c));
  let exitCode: number | string | undefined;
  const exited = new Promise<void>((resolve) =>
    child.on("close", (code, signal) => {
      outSplitter.flush();
      errSplitter.flush();
      exitCode = code ?? signal ?? "unknown";
      if (child.pid !== undefined) liveGroups.delete(child.pid);
      resolve();
    }),
  );

  const pid = child.pid;
  if (pid === undefined) {
    const err = await spawnError;
    throw new Error(`${spec.name}: cannot start ${spec.command}: ${err.message}`, { cause: err });
  }
  liveGroups.add(pid);

  let stopping: Promise<void> | undefined;
  const daemon: Daemon = {
    name: spec.name,
    pid,
    logFile: spec.logFile,
    stdoutLines: () => stdout,
    allLines: () => all,
    logTail: (lines = 30) => all.slice(-lines).join("\n"),
    get running() {
      return exitCode === undefined;
    },
    stop() {
      stopping ??= (async () => {
        if (exitCode === undefined) {
          killGroup(pid, "SIGTERM");
          const timeout = sleep(spec.stopTimeoutMs ?? 15_000).then(() => "timeout");
          if ((await Promise.race([exited.then(() => "exited"), timeout])) === "timeout") {
            killGroup(pid, "SIGKILL");
            await exited;
          }
        }
        // Children the leader left behind (shims, helpers) go with the group.
        killGroup(pid, "SIGKILL");
        liveGroups.delete(pid);
      })();
      return stopping;
    },
  };
  teardown.defer(`stop ${spec.name}`, () => daemon.stop());

  const deadline = Date.now() + (spec.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (exitCode !== undefined) {
      throw new Error(
        `${spec.name} exited (${exitCode}) before it was ready; log ${spec.logFile}:\n${daemon.logTail()}`,
      );
    }
    if (await spec.ready(daemon).catch(() => false)) return daemon;
    if (Date.now() > deadline) {
      await daemon.stop();
      throw new Error(
        `${spec.name} was not ready within ${spec.readyTimeoutMs ?? 30_000} ms; log ${spec.logFile}:\n${daemon.logTail()}`,
      );
    }
    await sleep(100);
  }
}

/** True when an HTTP GET of url gets any answer (a 401 counts: the server is up). */
export async function answersHttp(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await res.arrayBuffer();
  return true;
}
