// Lifted vs native wall time, side by side in one run (a script, not a test):
//   npx tsc -p tsconfig.build.json && node test/lift/bench-lift.mjs
// Each program is lifted once first (cached), so the lifted column is run
// time: instantiate + load + execute, with V8's default tiering and with
// MEGALIFT_WASM_TIER=optimizing.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(root, "dist", "src", "cli", "main.js");
const cache = mkdtempSync(join(tmpdir(), "megalift-bench-"));
const programs =
  process.argv.slice(2).length > 0
    ? process.argv.slice(2)
    : ["musl/malloc-stress", "glibc/malloc-stress", "musl/deep-recursion"];

function time(command, args, env = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(command, args, {
    env: { ...process.env, MEGALIFT_CACHE_DIR: cache, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 1 << 26,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ms, status: r.status, stdout: r.stdout.toString() };
}

const rows = [["program", "native ms", "lifted ms", "ratio", "lifted (TurboFan) ms", "ratio"]];
for (const p of programs) {
  const program = join(root, "fixtures", "bin", p);
  const optimize = p.startsWith("glibc/") ? "0" : "1";
  time(process.execPath, [cli, "exec", "--root", "/", "-O", optimize, program]); // lift into the cache
  const native = time(program, []);
  const lifted = time(process.execPath, [cli, "exec", "--root", "/", "-O", optimize, program]);
  const turbo = time(process.execPath, [cli, "exec", "--root", "/", "-O", optimize, program], {
    MEGALIFT_WASM_TIER: "optimizing",
  });
  const same =
    lifted.stdout === native.stdout &&
    turbo.stdout === native.stdout &&
    lifted.status === native.status;
  rows.push([
    p + (same ? "" : " (OUTPUT DIFFERS)"),
    native.ms.toFixed(0),
    lifted.ms.toFixed(0),
    (lifted.ms / native.ms).toFixed(2),
    turbo.ms.toFixed(0),
    (turbo.ms / native.ms).toFixed(2),
  ]);
}
rmSync(cache, { recursive: true, force: true });
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join("  "));
