// What every CLI command provides: a name, its --help text, and run(). Its
// one-line summary lives in the command table (commands.ts), which lists
// commands without loading them.
export interface CliCommand {
  readonly name: string;
  readonly help: string;
  /** Runs with the arguments after the command name; resolves to the exit status. */
  run(args: readonly string[]): Promise<number>;
}
