// What every CLI command provides: a name, a one-line summary, its --help text, and run().
export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  readonly help: string;
  /** Runs with the arguments after the command name; resolves to the exit status. */
  run(args: readonly string[]): Promise<number>;
}
