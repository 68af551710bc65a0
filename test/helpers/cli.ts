// Runs the built megalift CLI (dist/, built by test/global-setup.ts) as a user would.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { packageRoot } from "../../src/package-root.js";

export interface CliResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const main = join(packageRoot(), "dist", "src", "cli", "main.js");
  const result = spawnSync(process.execPath, [main, ...args], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, ...env },
  });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
