// What `megalift run` starts: a command name resolved in the image as
// execve(2) and the shell would (a name without "/" is searched in PATH;
// symlinks followed inside the image root), then the program found by the
// hash of its file. A `#!` script runs its interpreter — itself found by
// hash — with the script path as an argument (binfmt_script). With a
// megabinary, a file whose hash the mapping does not list never runs: the
// hash-failure policy (ARCHITECTURE.md "no raw ELF execution").
import { posix } from "node:path";
import type { Mapping } from "../merge/mapping.js";
import type { RootfsEntry, RootfsView } from "../oci/rootfs/types.js";
import { BINPRM_BUF_SIZE, parseShebang } from "../scan/shebang.js";

/** execve(2) allows a chain of interpreters up to this depth (BINPRM_MAX_RECURSION). */
const MAX_INTERPRETER_DEPTH = 4;

export interface ResolvedCommand {
  /** The ELF file that runs (the script's interpreter for a script). */
  readonly path: string;
  readonly entry: RootfsEntry;
  /** "blake3:<hex>" of that ELF file. */
  readonly hash: string;
  /** argv as the program sees it (an interpreter gets the script path). */
  readonly argv: readonly string[];
}

/** A command that cannot start, with the shell's exit status (126 or 127) and one line. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly status: 126 | 127,
  ) {
    super(message);
  }
}

function isExecutableFile(entry: RootfsEntry | undefined): entry is RootfsEntry {
  return entry !== undefined && entry.content !== undefined && (entry.mode & 0o111) !== 0;
}

/** The path a command name names, searched in PATH when it has no "/". */
export function findCommand(
  view: RootfsView,
  command: string,
  path: string,
  cwd: string,
): { path: string; entry: RootfsEntry } {
  if (command.includes("/")) {
    const absolute = posix.resolve(cwd, command);
    const entry = view.resolve(absolute);
    if (entry === undefined) throw new CommandError(`${command}: No such file or directory`, 127);
    if (entry.type === "directory") throw new CommandError(`${command}: Is a directory`, 126);
    if (!isExecutableFile(entry)) throw new CommandError(`${command}: Permission denied`, 126);
    return { path: absolute, entry };
  }
  for (const dir of path.split(":")) {
    const candidate = posix.resolve(cwd, dir === "" ? "." : dir, command);
    const entry = view.resolve(candidate);
    if (isExecutableFile(entry)) return { path: candidate, entry };
  }
  throw new CommandError(`${command}: command not found`, 127);
}

/**
 * The ELF program that runs for argv[0] (a script's interpreter chain
 * followed) and the argv it gets. `known` says whether a hash may run: with
 * a megabinary, whether the mapping lists it.
 */
export async function resolveCommand(
  view: RootfsView,
  argv: readonly string[],
  options: { readonly path: string; readonly cwd: string },
): Promise<ResolvedCommand> {
  const [command, ...rest] = argv;
  if (command === undefined) throw new CommandError("no command to run", 127);
  let found = findCommand(view, command, options.path, options.cwd);
  let args = [command, ...rest];
  for (let depth = 0; ; depth++) {
    const content = found.entry.content;
    if (content === undefined) throw new CommandError(`${found.path}: not a regular file`, 126);
    const head = await view.readRange(found.entry, 0, Math.min(content.size, BINPRM_BUF_SIZE));
    const shebang = parseShebang(head);
    if (!shebang.ok) {
      return { path: found.path, entry: found.entry, hash: `blake3:${content.blake3}`, argv: args };
    }
    if (depth >= MAX_INTERPRETER_DEPTH) {
      throw new CommandError(`${found.path}: too many levels of interpreters`, 126);
    }
    const { interpreter, argument } = shebang.shebang;
    const entry = view.resolve(interpreter);
    if (!isExecutableFile(entry)) {
      throw new CommandError(`${found.path}: ${interpreter}: bad interpreter`, 126);
    }
    // binfmt_script: interpreter [argument] script-path original-args…
    args = [
      interpreter,
      ...(argument !== undefined ? [argument] : []),
      found.path,
      ...args.slice(1),
    ];
    found = { path: interpreter, entry };
  }
}

/** The megabinary export for a resolved program, or a CommandError naming path and hash. */
export function mappedExport(mapping: Mapping, resolved: ResolvedCommand): string {
  const entry = mapping.executables[resolved.hash];
  if (entry?.kind === "elf" || entry?.kind === "polyfill") return entry.export;
  const omitted = mapping.omitted.find((o) => o.hash === resolved.hash);
  throw new CommandError(
    `${resolved.path}: ${resolved.hash} is not in the megabinary${
      omitted !== undefined ? ` (omitted: ${omitted.reason})` : ""
    }; it is never executed`,
    126,
  );
}
