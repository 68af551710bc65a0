// Runs the built megalift CLI as a user would: the bundle the `megalift`
// command runs (dist/bundle/, built by test/global-setup.ts).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { packageRoot } from "../../src/package-root.js";

export interface CliResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The `megalift` command (package.json "bin"). */
export const CLI_MAIN = join(packageRoot(), "dist", "bundle", "megalift.mjs");

/** Runs `megalift ARGS` (or another entry script, `main`) to completion. */
export function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  main = CLI_MAIN,
): CliResult {
  const result = spawnSync(process.execPath, [main, ...args], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, ...env },
  });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
