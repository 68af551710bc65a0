// vitest global setup: builds dist/ once so tests can run the real `megalift`
// CLI: the modules (tsc), which the lift workers run, and the bundle
// (scripts/bundle.mjs), which the `megalift` command runs.
import { execFileSync } from "node:child_process";

export default function setup(): void {
  execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });
  execFileSync(process.execPath, ["scripts/bundle.mjs"], { stdio: "inherit" });
}
