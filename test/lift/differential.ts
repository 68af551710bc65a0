// The differential test runner (STYLE.md, remill/v86): a fixture runs
// natively and lifted (`megalift exec --root /`) with the same argv and
// environment, and stdout, stderr and the exit status must be equal. Lifts
// are cached in one temporary directory per test file.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { packageRoot } from "../../src/package-root.js";
import { CLI_MAIN as CLI } from "../helpers/cli.js";

const root = packageRoot();
const cacheDir = mkdtempSync(join(tmpdir(), "megalift-lift-cache-"));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

export interface DifferentialCase {
  readonly fixture: string;
  readonly args?: (scratch: string) => string[];
  /** binaryen level for the lift (glibc's 150k instructions lift fastest unoptimised). */
  readonly optimize?: number;
}

// The same environment for both runs (the lifted program sees megalift's own).
const ENV = {
  LANG: "C",
  LC_ALL: "C",
  HOME: "/nonexistent",
  PATH: "/usr/bin:/bin",
  MEGALIFT_CACHE_DIR: cacheDir,
};

function run(
  command: string,
  args: readonly string[],
): { status: number; stdout: string; stderr: string } {
  // A hung program (native or lifted) fails its case instead of stalling the run.
  const result = spawnSync(command, args, {
    encoding: "utf8",
    env: ENV,
    maxBuffer: 64 << 20,
    timeout: 600_000,
  });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Registers one vitest case per fixture. */
export function differentialTests(cases: readonly DifferentialCase[]): void {
  for (const c of cases) {
    it(
      c.fixture,
      () => {
        const program = join(root, "fixtures", "bin", c.fixture);
        const nativeScratch = mkdtempSync(join(tmpdir(), "megalift-native-"));
        const liftedScratch = mkdtempSync(join(tmpdir(), "megalift-lifted-"));
        try {
          const native = run(program, c.args?.(nativeScratch) ?? []);
          const lifted = run(process.execPath, [
            CLI,
            "exec",
            "--root",
            "/",
            "-O",
            String(c.optimize ?? 1),
            program,
            ...(c.args?.(liftedScratch) ?? []),
          ]);
          expect(lifted.stderr.replaceAll(liftedScratch, "SCRATCH")).toBe(
            native.stderr.replaceAll(nativeScratch, "SCRATCH"),
          );
          expect(lifted.stdout.replaceAll(liftedScratch, "SCRATCH")).toBe(
            native.stdout.replaceAll(nativeScratch, "SCRATCH"),
          );
          expect(lifted.status).toBe(native.status);
        } finally {
          rmSync(nativeScratch, { recursive: true, force: true });
          rmSync(liftedScratch, { recursive: true, force: true });
        }
      },
      180_000,
    );
  }
}
