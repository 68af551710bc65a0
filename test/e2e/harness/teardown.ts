// Collects what a test file starts (daemons, temp dirs) and undoes it in
// reverse order in afterAll, even after a failure, reporting every error.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

type Step = () => Promise<void> | void;

export class Teardown {
  private readonly steps: { readonly label: string; readonly step: Step }[] = [];

  /** Registers `step` to run at teardown, after every step registered later. */
  defer(label: string, step: Step): void {
    this.steps.push({ label, step });
  }

  /** A fresh directory under the system temp dir, removed at teardown. */
  tempDir(purpose: string): string {
    const dir = mkdtempSync(join(tmpdir(), `megalift-e2e-${purpose}-`));
    this.defer(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  /** Runs every step, newest first; throws one error naming all that failed. */
  async run(): Promise<void> {
    const failures: Error[] = [];
    while (this.steps.length > 0) {
      const { label, step } = this.steps.pop()!;
      try {
        await step();
      } catch (err) {
        failures.push(new Error(`teardown: ${label}: ${String(err)}`, { cause: err }));
      }
    }
    if (failures.length > 0) {
      throw new AggregateError(failures, failures.map((f) => f.message).join("\n"));
    }
  }
}
