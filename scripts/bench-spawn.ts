// npm run bench:spawn — what a process costs in the vkernel, side by side
// with Linux in one run: fork+exec+wait of a static `true` (musl-gcc -O2
// -static), timed by one driver (fixtures/src/bench/spawn-loop.c) that runs
// natively and lifted. Lifted, the driver and `true` are linked into a
// megabinary and run in this process through runLifted: the child comes
// from the pool, is set up, runs to exit and is reaped; the driver's
// clock_gettime brackets each spawn, so host start-up is not counted. A
// second megabinary adds a generated module of --functions trivial
// functions, because instantiation grows with the function count
// (ARCHITECTURE.md, measured facts). Each megabinary runs over two roots:
// a host directory (`megalift exec --root`, where execve stats the host
// file) and an image rootfs of the same files (`megalift run`). A script
// that prints tables; it asserts nothing.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import type { LinkInput } from "../src/merge/link.js";
import { readLiftMetadata } from "../src/vkernel/run.js";
import {
  GUEST_DRIVER,
  GUEST_TRUE,
  imageGuestRoot,
  megabinary,
  parseTimes,
  runInVkernel,
  type GuestRoot,
} from "./bench-spawn-guest.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const DRIVER_SOURCE = join(ROOT, "fixtures", "src", "bench", "spawn-loop.c");
const TRUE_SOURCE = "int main(void) { return 0; }\n";
const MUSL_FLAGS = ["-O2", "-static"];

const HELP = `Usage: npm run bench:spawn -- [options]

Times fork+exec+wait of a static musl \`true\`, natively and inside the
vkernel (a small megabinary and one with --functions extra functions, each
over a host directory root and over an image rootfs); median and p90 over
--runs runs of --spawns timed spawns, each run after --warmup untimed spawns.

Options:
  --runs N          runs per row, interleaved; their spawns are pooled (default 3)
  --spawns N        timed spawns per run (default 1000)
  --warmup N        untimed spawns first, so V8 has optimised the vkernel (default 500)
  --functions N     extra functions in the big megabinary (default 200000)
  --only LIST       comma-separated rows: native,small,big (default all)
  --roots LIST      comma-separated vkernel roots: host,image (default both)
  -O N              lift optimisation level (default 1)
  -h, --help        show this help
`;

const sh = (cmd: string, args: string[]): string =>
  spawnSync(cmd, args, { encoding: "utf8" }).stdout?.split("\n")[0]?.trim() ?? "?";

/** Builds spawn-loop and true with musl-gcc into a cache keyed by sources, flags and compiler. */
function buildPrograms(cacheRoot: string): { driver: string; truePath: string; musl: string } {
  const musl = sh("musl-gcc", ["--version"]);
  const key = createHash("sha256")
    .update(readFileSync(DRIVER_SOURCE))
    .update(TRUE_SOURCE)
    .update(JSON.stringify([MUSL_FLAGS, musl]))
    .digest("hex")
    .slice(0, 16);
  const dir = join(cacheRoot, key);
  const driver = join(dir, "spawn-loop");
  const truePath = join(dir, "true");
  if (!existsSync(driver) || !existsSync(truePath)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "true.c"), TRUE_SOURCE);
    for (const [out, src] of [
      [driver, DRIVER_SOURCE],
      [truePath, join(dir, "true.c")],
    ] as const) {
      const r = spawnSync("musl-gcc", [...MUSL_FLAGS, "-o", out, src], { stdio: "inherit" });
      if (r.status !== 0) throw new Error(`musl-gcc failed building ${src}`);
    }
  }
  return { driver, truePath, musl };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

interface Row {
  readonly name: string;
  readonly median: number;
  readonly p90: number;
  readonly spawns: number;
  readonly note: string;
}

function summarise(name: string, times: number[], note: string): Row {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    name,
    median: percentile(sorted, 0.5) / 1000,
    p90: percentile(sorted, 0.9) / 1000,
    spawns: times.length,
    note,
  };
}

function table(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  for (const r of rows)
    console.log(
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "3" },
      spawns: { type: "string", default: "1000" },
      warmup: { type: "string", default: "500" },
      functions: { type: "string", default: "200000" },
      only: { type: "string" },
      roots: { type: "string", default: "host,image" },
      O: { type: "string", short: "O", default: "1" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return void process.stdout.write(HELP);
  const runs = Number(values.runs);
  const spawns = Number(values.spawns);
  const warmup = Number(values.warmup);
  const functions = Number(values.functions);
  const optimize = Number(values.O);
  if (!(runs >= 1 && spawns >= 1 && warmup >= 0 && functions >= 0)) {
    throw new Error("bad --runs/--spawns/--warmup/--functions");
  }
  const only = values.only?.split(",");
  const wanted = (row: string): boolean => only === undefined || only.includes(row);
  const roots = values.roots.split(",");
  if (roots.some((r) => r !== "host" && r !== "image")) throw new Error("bad --roots");

  const cacheBase = join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "megalift");
  const files = buildPrograms(join(cacheBase, "bench-spawn"));
  console.log(
    `megalift bench:spawn — fork+exec+wait of static true, ${runs} runs × ${spawns} timed ` +
      `spawns (each after ${warmup} warm-up), µs per spawn`,
  );
  console.log(`musl-gcc: ${files.musl} (${MUSL_FLAGS.join(" ")}); node ${process.version}`);
  console.log("native: the same spawn-loop driver run directly (no node in the timed loop)");
  console.log(
    "vkernel: the lifted driver as pid 1 of runLifted in this process; root = a host " +
      "directory holding /bin/spawn-loop and /bin/true, or an image rootfs of them\n",
  );
  const work = mkdtempSync(join(tmpdir(), "megalift-bench-spawn-"));
  try {
    const options = { runs, spawns, warmup, functions, optimize, wanted, roots };
    await measureRows(files, work, options, cacheBase);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

interface RowPlan {
  readonly name: string;
  readonly note: string;
  /** One run: the per-spawn nanoseconds of `spawns` timed spawns. */
  readonly measure: () => Promise<number[]>;
}

async function measureRows(
  files: { driver: string; truePath: string },
  work: string,
  o: {
    runs: number;
    spawns: number;
    warmup: number;
    functions: number;
    optimize: number;
    wanted: (row: string) => boolean;
    roots: readonly string[];
  },
  cacheBase: string,
): Promise<void> {
  const { spawns, warmup, functions, optimize, wanted } = o;
  const root = join(work, "root");
  mkdirSync(join(root, "bin"), { recursive: true });
  copyFileSync(files.driver, join(root, GUEST_DRIVER));
  copyFileSync(files.truePath, join(root, GUEST_TRUE));
  const guestRoots: GuestRoot[] = [];
  if (o.roots.includes("host")) guestRoots.push({ kind: "host", dir: root });
  if (o.roots.includes("image")) guestRoots.push(await imageGuestRoot(root, work));

  const plans: RowPlan[] = [];
  if (wanted("native")) {
    plans.push({
      name: "native (Linux fork+execve+waitpid)",
      note: "-",
      measure: async () => {
        const argv = [join(root, GUEST_TRUE), String(spawns), String(warmup)];
        const r = spawnSync(join(root, GUEST_DRIVER), argv, {
          encoding: "utf8",
          maxBuffer: 1 << 26,
        });
        if (r.status !== 0) throw new Error(`native spawn-loop failed: ${r.stderr}`);
        return parseTimes(r.stdout);
      },
    });
  }
  if (wanted("small") || wanted("big")) {
    const { liftWithCache } = await import("../src/lift/lift-cache.js");
    const inputs: LinkInput[] = [];
    for (const path of [files.driver, files.truePath]) {
      const bytes = readFileSync(path);
      const lifted = await liftWithCache(path, bytes, { optimize });
      const module = await WebAssembly.compile(lifted.wasm);
      inputs.push({
        hash: `blake3:${lifted.hash}`,
        wasm: lifted.wasm,
        metadata: readLiftMetadata(module),
      });
    }
    const linkCache = join(cacheBase, "bench-spawn", "megabinaries");
    for (const [row, extra] of [
      ["small", 0],
      ["big", functions],
    ] as const) {
      if (!wanted(row)) continue;
      const started = performance.now();
      const mb = await megabinary(inputs, extra, linkCache);
      const ready = ((performance.now() - started) / 1000).toFixed(1);
      for (const guest of guestRoots) {
        const what = row === "small" ? "driver+true" : `+${extra} functions`;
        plans.push({
          name: `vkernel, megabinary ${what}, ${guest.kind === "host" ? "host dir" : "image"} root`,
          note: `${(mb.bytes / 1e6).toFixed(1)} MB, linked+compiled in ${ready} s`,
          measure: () => runInVkernel(mb, guest, spawns, warmup),
        });
      }
    }
  }

  // Runs interleave the rows so load from other processes spreads evenly.
  const times = plans.map((): number[] => []);
  for (let run = 0; run < o.runs; run++) {
    for (const [i, plan] of plans.entries()) {
      const t = await plan.measure();
      times[i]!.push(...t);
      const median =
        percentile(
          [...t].sort((x, y) => x - y),
          0.5,
        ) / 1000;
      process.stderr.write(`  ${plan.name} run ${run + 1}: median ${median.toFixed(1)} µs\n`);
    }
  }
  const rows = plans.map((p, i) => summarise(p.name, times[i]!, p.note));

  const native = rows.find((r) => r.name.startsWith("native"));
  const header = ["row", "median µs", "p90 µs", "spawns", "median/native", "module"];
  const cells = rows.map((r) => [
    r.name,
    r.median.toFixed(1),
    r.p90.toFixed(1),
    String(r.spawns),
    native === undefined ? "-" : `${(r.median / native.median).toFixed(2)}×`,
    r.note,
  ]);
  table([header, ...cells]);
  console.log("\ngoal: vkernel median ≤ 100 µs per spawn");
}

await main();
