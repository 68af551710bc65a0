// `megalift lift FILE -o OUT.wasm`: stage 2 alone — lifts one static x86-64
// ELF to a wasm module and prints the coverage report.
import { readFileSync, writeFileSync } from "node:fs";
import type { CliCommand } from "../command.js";
import { parseCommandArgs } from "../parse-args.js";
import { MegaliftError } from "../../errors.js";
import { DEFAULT_OPTIMIZE } from "../../lift/abi.js";
import { formatLiftReport } from "../../lift/report.js";

const HELP = `Usage: megalift lift FILE -o OUT.wasm [-O LEVEL]

Lifts a static x86-64 ELF executable to one WebAssembly module (imports:
env.memory, kernel.syscall, kernel.trap, kernel.rdtsc; export: run) and
prints a coverage report: functions, blocks, instructions, lift time,
output size, and every unsupported or undecodable instruction with its
mnemonic and count. Unsupported instructions trap with a clear message if
they are reached at run time.

Options:
  -o, --output FILE   where to write the module (required)
  -O, --optimize N    0 none, 1 light passes (default), 2–3 binaryen -O2/-O3
  -h, --help          show this help

Example:
  megalift lift fixtures/bin/musl/hello -o hello.wasm
`;

export const liftCommand: CliCommand = {
  name: "lift",
  summary: "lift a static x86-64 ELF to WebAssembly and print a coverage report",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseCommandArgs("lift", args, {
      output: { type: "string", short: "o" },
      optimize: { type: "string", short: "O" },
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
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      throw new MegaliftError("IO", `lift: cannot read ${file}`, { cause: err });
    }
    // Loaded on use: binaryen and iced-x86 take a moment to instantiate.
    const { liftElf } = await import("../../lift/lift-elf.js");
    const result = liftElf(file, bytes, { optimize: level });
    try {
      writeFileSync(values.output, result.wasm);
    } catch (err) {
      throw new MegaliftError("IO", `lift: cannot write ${values.output}`, { cause: err });
    }
    process.stdout.write(formatLiftReport(result.report));
    return 0;
  },
};
