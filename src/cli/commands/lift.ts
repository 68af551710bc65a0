// `megalift lift FILE -o OUT.wasm`: stage 2 alone — lifts one static x86-64
// ELF to a wasm module and prints the coverage report.
import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import type { CliCommand } from "../command.js";
import { parseCommandArgs } from "../parse-args.js";
import { MegaliftError } from "../../errors.js";
import { DEFAULT_OPTIMIZE } from "../../lift/abi.js";
import type { LiftResult } from "../../lift/lift-elf.js";
import { codeBytesOf, guestImageOf, shardCountFor } from "../../lift/lift-shard-plan.js";
import { formatLiftReport } from "../../lift/report.js";

/**
 * In this thread, or sharded across `jobs` worker threads when the ELF is
 * big enough to repay their start-up (lift-shard-plan.ts shardCountFor).
 */
async function lift(
  file: string,
  bytes: Uint8Array,
  optimize: number,
  jobs: number,
): Promise<LiftResult> {
  const shards = optimize > 1 ? 1 : shardCountFor(codeBytesOf(guestImageOf(file, bytes)), jobs);
  if (shards === 1) {
    // Loaded on use: binaryen and iced-x86 take a moment to instantiate.
    const { liftElf } = await import("../../lift/lift-elf.js");
    return liftElf(file, bytes, { optimize });
  }
  const { createLiftPool } = await import("../../lift/lift-pool.js");
  const pool = createLiftPool({ workers: shards, optimize });
  try {
    return await pool.liftNow(file, bytes);
  } finally {
    await pool.close();
  }
}

const HELP = `Usage: megalift lift FILE -o OUT.wasm [-O LEVEL] [-j JOBS]

Lifts a static x86-64 ELF executable to one WebAssembly module (imports:
env.memory, kernel.syscall, kernel.trap, kernel.rdtsc, kernel.x87,
kernel.sse; export: run) and
prints a coverage report: functions, blocks, instructions, lift time,
output size, and every unsupported or undecodable instruction with its
mnemonic and count. Unsupported instructions trap with a clear message if
they are reached at run time.

Options:
  -o, --output FILE   where to write the module (required)
  -O, --optimize N    0 none, 1 light passes (default), 2–3 binaryen -O2/-O3
  -j, --jobs N        worker threads for one big ELF at -O0/-O1 (default: the
                      CPU count); the output is the same for every N
  -h, --help          show this help

Example:
  megalift lift fixtures/bin/musl/hello -o hello.wasm
`;

export const liftCommand: CliCommand = {
  name: "lift",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseCommandArgs("lift", args, {
      output: { type: "string", short: "o" },
      optimize: { type: "string", short: "O" },
      jobs: { type: "string", short: "j" },
    });
    const [file, ...extra] = positionals;
    if (file === undefined || extra.length > 0 || values.output === undefined) {
      throw new MegaliftError(
        "USAGE",
        "lift: expected FILE and -o OUT.wasm (see megalift lift --help)",
      );
    }
    const level = values.optimize === undefined ? DEFAULT_OPTIMIZE : Number(values.optimize);
    if (!Number.isInteger(level) || level < 0 || level > 3) {
      throw new MegaliftError("USAGE", `lift: -O expects 0–3, got ${values.optimize}`);
    }
    const jobs = values.jobs === undefined ? availableParallelism() : Number(values.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) {
      throw new MegaliftError("USAGE", `lift: -j expects a positive integer, got ${values.jobs}`);
    }
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      throw new MegaliftError("IO", `lift: cannot read ${file}`, { cause: err });
    }
    const result = await lift(file, bytes, level, jobs);
    try {
      writeFileSync(values.output, result.wasm);
    } catch (err) {
      throw new MegaliftError("IO", `lift: cannot write ${values.output}`, { cause: err });
    }
    process.stdout.write(formatLiftReport(result.report));
    return 0;
  },
};
