// `megalift exec --root DIR PROGRAM [ARGS…]`: lifts PROGRAM (cached by BLAKE3
// of the file + lifter version) and runs it in the vkernel with DIR as its
// root filesystem and the host's stdin/stdout/stderr; what it executes is
// found by hash and lifted on demand the same way. The exit status is the
// program's (139 when it jumps to code that was not lifted).
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { setFlagsFromString } from "node:v8";
import type { CliCommand } from "../command.js";
import { MegaliftError } from "../../errors.js";
import { readFileHashed, type HashedFile } from "../../hash/file-hash-memo.js";
import { DEFAULT_OPTIMIZE } from "../../lift/abi.js";
import { compileLifted, fileHashMemoDir, liftWithCache } from "../../lift/lift-cache.js";
import { formatLiftReport } from "../../lift/report.js";
import { LIMIT_OPTIONS_HELP, parseLimitOption, type Limits } from "../../vkernel/process/limits.js";

const HELP = `Usage: megalift exec --root DIR PROGRAM [ARGS...]

Lifts PROGRAM, a static x86-64 ELF (cached under $MEGALIFT_CACHE_DIR/lift,
default ~/.cache/megalift/lift, keyed by the file's BLAKE3 hash and the
lifter version; the hash is remembered in file-hashes/ there, by the file's
device, inode, size and timestamps), and runs it in the virtual kernel with DIR as its root
filesystem, the host's stdin/stdout/stderr and the host environment. The
programs it forks and executes run in the same virtual kernel: execve finds
a file inside DIR by its hash and lifts it on demand; a file that cannot be
lifted (not a static x86-64 ELF or #! script) fails with ENOEXEC and a
line naming its path and hash. The exit status is the program's; 128 + N
when signal N ends it (139 when it jumps to an address that was not lifted,
132 when it reaches an unsupported instruction).

PROGRAM is a host path; when it does not exist it is looked up under DIR.

Options:
  --root DIR      root filesystem for the program's file syscalls (required)
  -O N            lift optimisation: 0 none, 1 light (default), 2–3 binaryen
${LIMIT_OPTIONS_HELP}
  -h, --help      show this help
Environment: MEGALIFT_DEBUG=1 names unimplemented syscalls on stderr and prints
the coverage report of a fresh lift; MEGALIFT_WASM_TIER=optimizing compiles the
lifted code with V8's optimising tier only (slower start); MEGALIFT_CPU_BUDGET=N
yields to the dispatcher after about N loop back-edges (default 1048576; a
small N exercises re-entry at loop headers).

Example:
  megalift exec --root / fixtures/bin/musl/hello
`;

/** `file` as a path inside `root`, when it lies there. */
function guestPath(root: string, file: string): string | undefined {
  if (root === "/") return file;
  return file.startsWith(`${root}/`) ? file.slice(root.length) : undefined;
}

export const execCommand: CliCommand = {
  name: "exec",
  help: HELP,
  async run(args) {
    // Options end at PROGRAM: everything after it belongs to the guest.
    let root: string | undefined;
    let optimize = DEFAULT_OPTIMIZE;
    const limits: Limits = {};
    let i = 0;
    for (; i < args.length; i++) {
      const a = args[i] as string;
      if (a === "--root") root = args[++i];
      else if (a.startsWith("--root=")) root = a.slice("--root=".length);
      else if (a === "-O" || a === "--optimize") {
        optimize = Number(args[++i]);
        if (!Number.isInteger(optimize) || optimize < 0 || optimize > 3) {
          throw new MegaliftError("USAGE", "exec: -O expects 0–3 (see megalift exec --help)");
        }
      } else if (parseLimitOption(args, i, limits, "exec") >= 0) {
        i++;
      } else if (a === "--") {
        i++;
        break;
      } else if (a.startsWith("-"))
        throw new MegaliftError("USAGE", `exec: unknown option ${a} (see megalift exec --help)`);
      else break;
    }
    const [program, ...guestArgs] = args.slice(i);
    if (root === undefined || program === undefined) {
      throw new MegaliftError(
        "USAGE",
        "exec: expected --root DIR and PROGRAM (see megalift exec --help)",
      );
    }
    if (!existsSync(root)) throw new MegaliftError("IO", `exec: root ${root} does not exist`);
    const path = existsSync(program) ? program : join(root, program);
    let file: HashedFile;
    try {
      file = readFileHashed(path, fileHashMemoDir());
    } catch (err) {
      throw new MegaliftError("IO", `exec: cannot read ${program}`, { cause: err });
    }
    const bytes = file.bytes;
    const debug = process.env.MEGALIFT_DEBUG === "1";
    // MEGALIFT_WASM_TIER=optimizing compiles lifted code with TurboFan only
    // (short programs start slower; long loops reach TurboFan anyway through
    // the CPU budget's yields, as V8 has no on-stack replacement for wasm).
    if (process.env.MEGALIFT_WASM_TIER === "optimizing") setFlagsFromString("--no-liftoff");
    const [{ runLifted }, { liftOnDemandSource }] = await Promise.all([
      import("../../vkernel/run.js"),
      import("../../vkernel/process/program.js"),
    ]);
    const lifted = await liftWithCache(program, bytes, { optimize, hash: file.hash });
    if (debug && lifted.report) process.stderr.write(formatLiftReport(lifted.report));
    const module = compileLifted(lifted.wasm);
    const env = Object.entries(process.env).map(([k, v]) => `${k}=${v ?? ""}`);
    const budget = Number(process.env.MEGALIFT_CPU_BUDGET);
    const cpuBudget = Number.isInteger(budget) && budget > 0 ? budget : undefined;
    return runLifted({
      module,
      elfBytes: bytes,
      // The path inside the root, as /proc/self/exe shows it.
      path: guestPath(resolve(root), resolve(path)) ?? program,
      // What the program executes is lifted on demand, at the same level.
      programs: liftOnDemandSource({
        optimize,
        known: new Map([[`blake3:${file.hash}`, module]]),
      }),
      root,
      argv: [program, ...guestArgs],
      env,
      debug,
      cpuBudget,
      limits,
    });
  },
};
