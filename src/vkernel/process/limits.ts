// Resource limits of a run (vkernel issue item 5), each enforced with one
// clear line on stderr the first time it bites: memory per process (mmap and
// brk beyond it fail with ENOMEM), processes at once (fork fails with
// EAGAIN), open files per process (EMFILE), wall-clock time of the whole run
// and CPU time per process (the run, or the process, is killed).
import { MegaliftError } from "../../errors.js";

export interface Limits {
  /** Bytes one process may have mapped (image, break, mmap). */
  readonly memoryBytes?: number;
  /** Processes alive at once in the run. */
  readonly processes?: number;
  /** Descriptors per process (RLIMIT_NOFILE). */
  readonly openFiles?: number;
  /** Wall-clock milliseconds the run may last. */
  readonly wallMs?: number;
  /** CPU milliseconds one process may use (RLIMIT_CPU: SIGXCPU). */
  readonly cpuMs?: number;
}

export const DEFAULT_PROCESS_LIMIT = 1024;
export const DEFAULT_OPEN_FILES = 1024;

const SIZE_UNITS: Record<string, number> = { "": 1, k: 1 << 10, m: 1 << 20, g: 1 << 30 };
const TIME_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "512m", "2g", "65536" (bytes; k/m/g are powers of 1024, as docker's --memory). */
export function parseSize(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)([kmg]?)b?$/i.exec(text.trim());
  if (match === null) {
    throw new MegaliftError("USAGE", `${option} expects a size like 512m or 2g, got "${text}"`);
  }
  return Math.floor(Number(match[1]) * (SIZE_UNITS[(match[2] ?? "").toLowerCase()] ?? 1));
}

/** "30s", "500ms", "2m", "1h", or plain seconds. */
export function parseDuration(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (match === null) {
    throw new MegaliftError(
      "USAGE",
      `${option} expects a duration like 30s or 500ms, got "${text}"`,
    );
  }
  return Number(match[1]) * (TIME_UNITS[match[2] ?? "s"] ?? 1000);
}

/** A positive integer option value. */
export function parseCount(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new MegaliftError("USAGE", `${option} expects a positive integer, got "${text}"`);
  }
  return n;
}

export const LIMIT_OPTIONS_HELP = `  --memory SIZE          memory one process may map (e.g. 512m); beyond it ENOMEM
  --pids-limit N         processes alive at once (default ${DEFAULT_PROCESS_LIMIT}); fork beyond it EAGAIN
  --nofile N             open files per process (default ${DEFAULT_OPEN_FILES}); beyond it EMFILE
  --timeout DURATION     wall-clock limit of the run (e.g. 30s); then every process is killed
  --cpu-time DURATION    CPU time per process (e.g. 10s); then SIGXCPU ends it`;

/** Reads one limit option at args[i] into `limits`; the index of its value, or -1 if not one. */
export function parseLimitOption(
  args: readonly string[],
  i: number,
  limits: { -readonly [K in keyof Limits]: Limits[K] },
  command: string,
): number {
  const option = args[i] as string;
  const parsers: Record<string, (value: string) => void> = {
    "--memory": (v) => (limits.memoryBytes = parseSize(v, `${command}: --memory`)),
    "--pids-limit": (v) => (limits.processes = parseCount(v, `${command}: --pids-limit`)),
    "--nofile": (v) => (limits.openFiles = parseCount(v, `${command}: --nofile`)),
    "--timeout": (v) => (limits.wallMs = parseDuration(v, `${command}: --timeout`)),
    "--cpu-time": (v) => (limits.cpuMs = parseDuration(v, `${command}: --cpu-time`)),
  };
  const parse = parsers[option];
  if (parse === undefined) return -1;
  const value = args[i + 1];
  if (value === undefined) throw new MegaliftError("USAGE", `${command}: ${option} needs a value`);
  parse(value);
  return i + 1;
}
