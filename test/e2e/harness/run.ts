// Runs a command-line tool (skopeo, ctr, podman, docker, openssl…) without
// blocking the event loop, so end-to-end tests can run clients concurrently.
import { spawn } from "node:child_process";

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly input?: string | Uint8Array;
  /** Kills the command after this long; the result then has status -1. */
  readonly timeoutMs?: number;
}

export interface RunResult {
  readonly command: string;
  readonly status: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

export function run(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on("data", (c: Buffer) => void stdout.push(c));
  child.stderr.on("data", (c: Buffer) => void stderr.push(c));
  // A command that exits without reading its input closes the pipe first:
  // that EPIPE is not a failure of the command (its status says how it went).
  child.stdin.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") child.emit("error", err);
  });
  child.stdin.end(options.input ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 300_000);
  return new Promise((resolve, reject) => {
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${err.message}`, { cause: err }));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({
        command: [command, ...args].join(" "),
        status: code ?? -1,
        stdout: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr).toString("utf8"),
      });
    });
  });
}

/** Runs the command and returns its stdout; a non-zero exit throws with its stderr. */
export async function runOk(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<Buffer> {
  const result = await run(command, args, options);
  if (result.status !== 0) {
    throw new Error(
      `${result.command} exited with ${result.status}:\n${result.stderr.slice(-4000)}`,
    );
  }
  return result.stdout;
}
