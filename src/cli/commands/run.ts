// `megalift run SOURCE [-e NAME=VALUE] [-w DIR] [--] [COMMAND [ARGS…]]`: runs
// a command inside an image in the vkernel, over the image's own files (read
// lazily, read-only, under an in-memory writable layer). A transformed image
// runs from its megabinary and mapping — nothing is lifted at run time, and
// a file whose hash the mapping does not list never runs; an untransformed
// image has what it executes lifted on demand (cached by hash).
import type { CliCommand } from "../command.js";
import { MegaliftError } from "../../errors.js";
import { createProgress } from "../progress.js";
import { LIMIT_OPTIONS_HELP, parseLimitOption, type Limits } from "../../vkernel/process/limits.js";

const HELP = `Usage: megalift run SOURCE [-e NAME=VALUE]... [-w DIR] [--] [COMMAND [ARGS...]]

Runs COMMAND inside the image in the virtual kernel with the host's stdin,
stdout and stderr, the environment from the image config (plus -e), the
working directory from the config (or -w), and exits with the program's
status. Without COMMAND it runs the image's Entrypoint + Cmd.

A transformed image (megalift transform) runs from its megabinary: the
command's file is found by its BLAKE3 hash in mapping.json, and a file the
mapping does not list never runs (status 126, one line naming path and
hash). Any other image has the static programs it runs lifted on demand
(cached under $MEGALIFT_CACHE_DIR/lift). A #! script runs its interpreter.
The command may fork, exec, pipe and signal: its processes all run in the
same virtual kernel, and the run ends when the first one does.

SOURCE is oci:DIR[:TAG|@DIGEST], docker-archive:FILE[:REF] or
docker://HOST/NAME[:TAG|@DIGEST].

Options:
  -e, --env NAME=VALUE   add or replace an environment variable
  -w, --workdir DIR      working directory inside the image
  --cache-dir DIR        where contents and lifts are kept
${LIMIT_OPTIONS_HELP}
  -h, --help             show this help

Example:
  megalift run oci:out:busybox -- /bin/echo hello
  megalift run oci:out:busybox -e LC_ALL=C -- sort /etc/passwd
  megalift run oci:out:busybox --pids-limit 64 --timeout 30s -- sh -c 'seq 9 | sort -r'
`;

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

interface RunArgs {
  source: string;
  env: string[];
  workdir: string | undefined;
  cacheDir: string | undefined;
  limits: Limits;
  command: string[];
}

function parseRunArgs(args: readonly string[]): RunArgs {
  const env: string[] = [];
  let workdir: string | undefined;
  let cacheDir: string | undefined;
  let source: string | undefined;
  const limits: Limits = {};
  let i = 0;
  const value = (name: string): string => {
    const v = args[++i];
    if (v === undefined) throw new MegaliftError("USAGE", `run: ${name} needs a value`);
    return v;
  };
  for (; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--") {
      i++;
      break;
    } else if (a === "-e" || a === "--env") {
      const pair = value(a);
      if (!pair.includes("=")) {
        throw new MegaliftError("USAGE", `run: ${a} expects NAME=VALUE, got "${pair}"`);
      }
      env.push(pair);
    } else if (a === "-w" || a === "--workdir") workdir = value(a);
    else if (a === "--cache-dir") cacheDir = value(a);
    else if (parseLimitOption(args, i, limits, "run") >= 0) i++;
    else if (a.startsWith("-")) {
      throw new MegaliftError("USAGE", `run: unknown option ${a} (see megalift run --help)`);
    } else if (source === undefined) source = a;
    else break;
  }
  if (source === undefined) {
    throw new MegaliftError("USAGE", "run: expected SOURCE (see megalift run --help)");
  }
  return { source, env, workdir, cacheDir, limits, command: args.slice(i) };
}

/** The image's environment with -e overrides applied (last one wins). */
function mergeEnv(base: readonly string[], extra: readonly string[]): string[] {
  const byName = new Map<string, string>();
  for (const pair of [...base, ...extra]) byName.set(pair.slice(0, pair.indexOf("=")), pair);
  return [...byName.values()];
}

export const runCommand: CliCommand = {
  name: "run",
  help: HELP,
  async run(args) {
    const parsed = parseRunArgs(args);
    const { runInImage } = await import("../../vkernel/run-image.js");
    const progress = createProgress();
    try {
      return await runInImage({
        source: parsed.source,
        command: parsed.command,
        ...(parsed.workdir !== undefined ? { workdir: parsed.workdir } : {}),
        ...(parsed.cacheDir !== undefined ? { cacheDir: parsed.cacheDir } : {}),
        limits: parsed.limits,
        env: (configEnv) => {
          const env = mergeEnv(configEnv, parsed.env);
          return env.some((e) => e.startsWith("PATH=")) ? env : [`PATH=${DEFAULT_PATH}`, ...env];
        },
        onProgress: (text) => progress.update(text),
        onReady: () => progress.done(),
      });
    } finally {
      progress.done();
    }
  },
};
