#!/usr/bin/env node
// The megalift command line: parses the command name and hands the rest to
// that command. Errors end here: a MegaliftError prints one line and exits
// non-zero; anything else is an internal error (stack shown with MEGALIFT_DEBUG=1).
import { isMegaliftError } from "../errors.js";
import { COMMANDS, renderHelp } from "./commands.js";
import { EXIT_FAILURE, EXIT_USAGE } from "./exit-codes.js";
import { TOOL_VERSION } from "../version.js";

// A reader that goes away (`megalift … | head`) is not an error: stop quietly,
// as Unix tools do on SIGPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    const topic = name === "help" ? rest[0] : undefined;
    const entry = topic === undefined ? undefined : COMMANDS.find((c) => c.name === topic);
    process.stdout.write(entry ? (await entry.load()).help : renderHelp());
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    process.stdout.write(`megalift ${TOOL_VERSION}\n`);
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    process.stderr.write(`megalift: unknown command "${name}" (see megalift --help)\n`);
    return EXIT_USAGE;
  }
  const command = await entry.load();
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(command.help);
    return 0;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (isMegaliftError(err)) {
      process.stderr.write(`megalift: ${err.message}\n`);
      if (process.env.MEGALIFT_DEBUG) console.error(err);
      process.exitCode = err.code === "USAGE" ? EXIT_USAGE : EXIT_FAILURE;
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`megalift: internal error: ${message}\n`);
    if (process.env.MEGALIFT_DEBUG) console.error(err);
    else process.stderr.write("megalift: run with MEGALIFT_DEBUG=1 for details\n");
    process.exitCode = EXIT_FAILURE;
  },
);
