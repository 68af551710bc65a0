// npm run bench:lift — how fast lifted code runs, side by side in one run:
// the project's CPU benchmark (fixtures/src/bench/cpu-bench.c) built with
// musl-gcc -O2 -static and with clang for wasm32-wasi, and Debian's static
// busybox doing real work on generated 50 MB inputs. Each row runs natively,
// lifted (`megalift exec`, V8's default tiering and MEGALIFT_WASM_TIER=
// optimizing), under qemu-x86_64 and, for the C benchmark, as wasm32-wasi
// under node:wasi. The lifted start-up (the program run with arguments that
// make it exit at once) is measured too; the last column divides the lifted
// time less it by native: what a process the vkernel spawns in-host, whose
// module is compiled already, would take. A script that prints tables; it
// asserts nothing.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { floatRows } from "./bench-lift-float.js";
import { kernelRows, type KernelTiming } from "./bench-lift-kernels.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SELF = fileURLToPath(import.meta.url);
/** The `megalift` command users run (the bundle, scripts/bundle.mjs). */
const CLI = join(ROOT, "dist", "bundle", "megalift.mjs");
const BENCH_SOURCE = join(ROOT, "fixtures", "src", "bench", "cpu-bench.c");
const FLOAT_SOURCE = join(ROOT, "fixtures", "src", "bench", "float-modes.c");
const BUSYBOX = "/bin/busybox";
// Pinned so cached builds stay comparable across runs and machines.
const MUSL_FLAGS = ["-O2", "-static", "-std=gnu11"];
const WASI_FLAGS = ["--target=wasm32-wasi", "-O2", "-std=gnu11"];

const HELP = `Usage: npm run bench:lift -- [options]

Times native vs lifted vs qemu-x86_64 (vs wasm32-wasi for the C benchmark)
on cpu-bench and busybox sha256sum/sort/gzip, median of --runs runs each.
A lifted or emulated run whose output differs from native prints WRONG.

Options:
  --runs N          runs per measurement, median reported (default 3)
  --size MB         size of the generated sha256sum/sort/gzip inputs (default 50)
  --only LIST       comma-separated rows: cpu-bench,sha256sum,sort,gzip (default all)
  --clock KIND      wall (default) or cpu (user+sys of the process tree; steadier
                    on a loaded machine, counts V8's background compile threads)
  --timeout S       give up on one run after S seconds (default 900)
  -O N              lift optimisation level passed to megalift (default 1)
  --lift-cache DIR  reuse this lift cache (default: a fresh temp dir, so the
                    cold lift table measures real lifts)
  --kernels         also time cpu-bench's kernels one by one, native and lifted
                    (less the lifted start-up)
  --float           also time what MXCSR's modes and the x87 cost: directed
                    rounding, fma(), printf of doubles (glibc, musl), and
                    cpu-bench built with -Ofast (FTZ and DAZ set)
  -h, --help        show this help
`;

interface Measure {
  readonly wall: number;
  readonly cpu: number;
  readonly outputHash: string;
  readonly failure?: string;
}

/** Runs one command with stdout into a file; wall and child CPU seconds, output digest. */
function measure(
  argv: readonly string[],
  workDir: string,
  timeoutS: number,
  env: NodeJS.ProcessEnv = {},
): Measure {
  const outPath = join(workDir, "stdout");
  const out = openSync(outPath, "w");
  // bash's `times` prints the children's user and system time (bash(1), SHELL
  // BUILTIN COMMANDS) — Node has no rusage for spawned processes. timeout(1)
  // kills the program itself: a signal to bash would leave its child running.
  const script = `timeout -s KILL ${timeoutS} "$@"; s=$?; times >&2; exit $s`;
  const start = process.hrtime.bigint();
  let r: SpawnSyncReturns<Buffer>;
  try {
    r = spawnSync("bash", ["-c", script, "bench", ...argv], {
      env: { ...process.env, ...env },
      stdio: ["ignore", out, "pipe"],
      timeout: (timeoutS + 60) * 1000,
      maxBuffer: 1 << 24,
    });
  } finally {
    closeSync(out);
  }
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const stderr = r.stderr?.toString() ?? "";
  const lines = stderr.trimEnd().split("\n");
  const cpu = (lines.at(-1) ?? "")
    .split(" ")
    .map((t) => /^(\d+)m([\d.]+)s$/.exec(t))
    .reduce((s, m) => s + (m ? Number(m[1]) * 60 + Number(m[2]) : 0), 0);
  const outputHash = createHash("sha256").update(readFileSync(outPath)).digest("hex");
  rmSync(outPath, { force: true });
  let failure: string | undefined;
  if (r.error || r.signal) failure = `bench harness: ${r.error?.message ?? r.signal}`;
  else if (r.status === 137 && wall >= timeoutS) failure = `timeout ${timeoutS}s`;
  else if (r.status !== 0) {
    // The last stderr line before `times` names the failure; directories only lengthen it.
    const why = (lines.slice(0, -2).findLast((l) => l.trim() !== "") ?? "").replace(/\/\S*\//g, "");
    failure = `exit ${r.status}${why ? `: ${why.trim().slice(0, 80)}` : ""}`;
  }
  return { wall, cpu, outputHash, failure };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const sh = (cmd: string, args: string[]): string =>
  spawnSync(cmd, args, { encoding: "utf8" }).stdout?.split("\n")[0]?.trim() ?? "?";
const debVersion = (pkg: string): string => sh("dpkg-query", ["-W", "-f", "${Version}", pkg]);

/** Builds cpu-bench natively and for wasm32-wasi into a cache keyed by source, flags, compilers. */
function buildCpuBench(cacheRoot: string): { native: string; wasm: string; versions: string[] } {
  const versions = [
    `musl-gcc: ${sh("musl-gcc", ["--version"])}, musl ${debVersion("musl-dev")}`,
    `clang: ${sh("clang-16", ["--version"])}, wasi-libc ${debVersion("wasi-libc")}`,
  ];
  const key = createHash("sha256")
    .update(readFileSync(BENCH_SOURCE))
    .update(JSON.stringify([MUSL_FLAGS, WASI_FLAGS, versions]))
    .digest("hex")
    .slice(0, 16);
  const dir = join(cacheRoot, key);
  const native = join(dir, "cpu-bench");
  const wasm = join(dir, "cpu-bench.wasm");
  if (!existsSync(native) || !existsSync(wasm)) {
    mkdirSync(dir, { recursive: true });
    for (const [cc, args] of [
      ["musl-gcc", [...MUSL_FLAGS, "-o", native, BENCH_SOURCE, "-lm"]],
      ["clang-16", [...WASI_FLAGS, "-o", wasm, BENCH_SOURCE, "-lm"]],
    ] as const) {
      const r = spawnSync(cc, args, { stdio: "inherit" });
      if (r.status !== 0) throw new Error(`${cc} failed building ${BENCH_SOURCE}`);
    }
  }
  versions.push(`flags: musl-gcc ${MUSL_FLAGS.join(" ")}; clang-16 ${WASI_FLAGS.join(" ")}`);
  return { native, wasm, versions };
}

/**
 * Deterministic inputs (xorshift128, Marsaglia 2003, fixed seed): random
 * bytes for sha256sum/gzip — half of them drawn from a small alphabet so
 * gzip has something to compress — and lines of lowercase words for sort.
 */
function generateInputs(dir: string, bytes: number): { binary: string; text: string } {
  const s = new Uint32Array([0x12345678, 0x9abcdef0, 0xdeadbeef, 0x0badf00d]);
  const next = (): number => {
    let t = s[3]!;
    const x = s[0]!;
    s[3] = s[2]!;
    s[2] = s[1]!;
    s[1] = x;
    t ^= t << 11;
    t ^= t >>> 8;
    s[0] = t ^ x ^ (x >>> 19);
    return s[0];
  };
  const binary = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) {
    const r = next();
    binary[i] = (r & 0x80000000) !== 0 ? r & 0xff : 97 + (r % 16);
  }
  const text = Buffer.alloc(bytes);
  for (let i = 0; i < bytes;) {
    const len = 4 + (next() % 60);
    for (let k = 0; k < len && i < bytes - 1; k++) {
      const r = next();
      text[i++] = r % 7 === 0 ? 32 : 97 + (r % 26);
    }
    text[i++] = 10;
  }
  const paths = { binary: join(dir, "random.bin"), text: join(dir, "words.txt") };
  writeFileSync(paths.binary, binary);
  writeFileSync(paths.text, text);
  return paths;
}

interface Row {
  readonly name: string;
  readonly program: string; // the x86-64 ELF that gets lifted
  readonly args: string[];
  /** Arguments that start the program and exit at once: its lifted start-up. */
  readonly idle: string[];
  readonly wasm?: string;
}
const VARIANTS = ["native", "lifted", "lifted-opt", "qemu", "wasm"] as const;
type Variant = (typeof VARIANTS)[number];

function variantArgv(row: Row, v: Variant, optimize: number): string[] | undefined {
  const lifted = [process.execPath, CLI, "exec", "--root", "/", "-O", String(optimize)];
  switch (v) {
    case "native":
      return [row.program, ...row.args];
    case "lifted":
    case "lifted-opt":
      return [...lifted, row.program, ...row.args];
    case "qemu":
      return ["qemu-x86_64", row.program, ...row.args];
    case "wasm":
      return row.wasm
        ? [process.execPath, "--no-warnings", SELF, "--run-wasi", row.wasm]
        : undefined;
  }
}

/** Child mode: lifts one ELF into the cache and prints its time and coverage as JSON. */
async function liftChild(file: string, optimize: number): Promise<void> {
  const { liftWithCache } = await import("../src/lift/lift-cache.js");
  const start = performance.now();
  const r = await liftWithCache(file, readFileSync(file), { optimize });
  const seconds = (performance.now() - start) / 1000;
  const unsupported = [...(r.report?.unsupported.values() ?? [])].reduce((a, b) => a + b, 0);
  const report = r.report && {
    functions: r.report.functions,
    unsupported,
    unresolved: r.report.unresolvedIndirectJumps.length,
    wasmBytes: r.report.outputBytes,
  };
  console.log(JSON.stringify({ seconds, fromCache: r.fromCache, report }));
}

/** Child mode: runs a wasm32-wasi command module the way `wasmtime run` would. */
async function runWasi(file: string): Promise<void> {
  const { WASI } = await import("node:wasi");
  const wasi = new WASI({ version: "preview1", args: [file], env: {}, returnOnExit: true });
  const module = await WebAssembly.compile(readFileSync(file));
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject() as never);
  process.exitCode = wasi.start(instance);
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
      size: { type: "string", default: "50" },
      only: { type: "string" },
      clock: { type: "string", default: "wall" },
      timeout: { type: "string", default: "900" },
      O: { type: "string", short: "O", default: "1" },
      "lift-cache": { type: "string" },
      kernels: { type: "boolean" },
      float: { type: "boolean" },
      "lift-child": { type: "string" },
      "run-wasi": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const optimize = Number(values.O);
  if (values["lift-child"]) return liftChild(values["lift-child"], optimize);
  if (values["run-wasi"]) return runWasi(values["run-wasi"]);
  if (values.help) return void process.stdout.write(HELP);
  const runs = Number(values.runs);
  const sizeMb = Number(values.size);
  const timeoutS = Number(values.timeout);
  const clock = values.clock === "cpu" ? "cpu" : "wall";
  if (!(runs >= 1 && sizeMb > 0 && timeoutS > 0)) throw new Error("bad --runs/--size/--timeout");

  const install = spawnSync("bash", [join(ROOT, "scripts", "install-bench-tools.sh")], {
    stdio: "inherit",
  });
  if (install.status !== 0) process.exit(1);

  const cacheBase = process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache");
  const build = buildCpuBench(join(cacheBase, "megalift", "bench-lift"));
  const work = mkdtempSync(join(tmpdir(), "megalift-bench-lift-"));
  const liftCache = values["lift-cache"] ?? join(work, "cache");
  const env = { MEGALIFT_CACHE_DIR: liftCache };
  try {
    const inputs = generateInputs(work, Math.round(sizeMb * 1024 * 1024));
    const mb = `${sizeMb} MB`;
    const allRows: Row[] = [
      { name: "cpu-bench", program: build.native, args: [], idle: ["none"], wasm: build.wasm },
      { name: "sha256sum", program: BUSYBOX, args: ["sha256sum", inputs.binary], idle: ["true"] },
      { name: "sort", program: BUSYBOX, args: ["sort", inputs.text], idle: ["true"] },
      { name: "gzip", program: BUSYBOX, args: ["gzip", "-c", inputs.binary], idle: ["true"] },
    ];
    const only = values.only?.split(",");
    const rows = allRows.filter((r) => !only || only.includes(r.name));

    console.log(`megalift bench:lift — ${runs} runs each, median, ${clock} seconds`);
    for (const v of build.versions) console.log(v);
    console.log(`qemu: ${sh("qemu-x86_64", ["--version"])}`);
    console.log(`busybox: ${BUSYBOX} ${debVersion("busybox-static")}; node ${process.version}`);
    console.log(`busybox inputs: ${mb} (seeded xorshift128); lift -O ${optimize}\n`);

    // Cold lifts first (each binary once), so the run rows measure execution only.
    const liftRows = [
      ["binary", "cold lift s", "functions", "unsupported", "unresolved", "wasm MB"],
    ];
    for (const program of [...new Set(rows.map((r) => r.program))]) {
      const r = spawnSync(
        process.execPath,
        [SELF, "--lift-child", program, "-O", String(optimize)],
        { env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 1 << 24 },
      );
      const name = program === BUSYBOX ? "busybox" : "cpu-bench";
      if (r.status !== 0) {
        const why = r.stderr.split("\n").find((l) => l.includes("Error")) ?? `exit ${r.status}`;
        liftRows.push([name, `FAILED: ${why.slice(0, 90)}`]);
        continue;
      }
      const j = JSON.parse(r.stdout) as {
        seconds: number;
        fromCache: boolean;
        report?: { functions: number; unsupported: number; unresolved: number; wasmBytes: number };
      };
      const rep = j.report;
      liftRows.push([
        name,
        j.fromCache ? "cached" : j.seconds.toFixed(1),
        String(rep?.functions ?? "-"),
        String(rep?.unsupported ?? "-"),
        String(rep?.unresolved ?? "-"),
        rep ? (rep.wasmBytes / 1e6).toFixed(1) : "-",
      ]);
    }
    table(liftRows);
    console.log("");

    const header = ["row", "native", "lifted", "lifted-opt", "qemu", "wasm32-wasi"];
    header.push("lifted/native", "opt/native", "lifted/wasm", "opt/wasm", "qemu/native");
    header.push("start-up", "less start-up/native");
    const out: string[][] = [header];
    const geo: Record<"lifted" | "lifted-opt" | "less", number[]> = {
      lifted: [],
      "lifted-opt": [],
      less: [],
    };
    // The lifted start-up (Node, the bundle, the lift-cache lookup, compiling the
    // module): what a process the vkernel spawns in-host does not pay.
    const startups = new Map<string, number>();
    const startupOf = (row: Row): number | undefined => {
      if (!startups.has(row.program)) {
        const argv = variantArgv({ ...row, args: row.idle }, "lifted", optimize) ?? [];
        const ms = Array.from({ length: runs }, () => measure(argv, work, timeoutS, env));
        if (ms.some((m) => m.failure !== undefined)) return undefined;
        startups.set(row.program, median(ms.map((m) => (clock === "cpu" ? m.cpu : m.wall))));
      }
      return startups.get(row.program);
    };
    for (const row of rows) {
      const times = new Map<Variant, number[]>();
      const failures = new Map<Variant, string>();
      let reference: string | undefined;
      // Runs interleave the variants so load from other processes spreads evenly.
      for (let run = 0; run < runs; run++) {
        for (const v of VARIANTS) {
          const argv = variantArgv(row, v, optimize);
          if (!argv || failures.has(v)) continue;
          const tier = v === "lifted-opt" ? { MEGALIFT_WASM_TIER: "optimizing" } : {};
          const m = measure(argv, work, timeoutS, { ...env, ...tier });
          if (v === "native" && m.failure === undefined) reference ??= m.outputHash;
          if (m.failure !== undefined) failures.set(v, m.failure);
          else if (m.outputHash !== reference) failures.set(v, "WRONG (output differs)");
          else times.set(v, [...(times.get(v) ?? []), clock === "cpu" ? m.cpu : m.wall]);
          process.stderr.write(
            `  ${row.name} ${v} run ${run + 1}: ${m.failure ?? `${m.wall.toFixed(2)} s wall, ${m.cpu.toFixed(2)} s cpu`}\n`,
          );
        }
      }
      const t = (v: Variant): number | undefined =>
        times.has(v) && !failures.has(v) ? median(times.get(v)!) : undefined;
      const cell = (v: Variant): string =>
        failures.get(v) ?? (t(v) === undefined ? "-" : t(v)!.toFixed(2));
      const ratio = (a: Variant, b: Variant): string => {
        const x = t(a);
        const y = t(b);
        return x === undefined || y === undefined ? "-" : (x / y).toFixed(2);
      };
      for (const v of ["lifted", "lifted-opt"] as const) {
        const x = t(v);
        const n = t("native");
        if (x !== undefined && n !== undefined) geo[v].push(x / n);
      }
      const label = row.name === "cpu-bench" ? row.name : `busybox ${row.name} ${mb}`;
      out.push([label, ...VARIANTS.map(cell)]);
      out.at(-1)!.push(ratio("lifted", "native"), ratio("lifted-opt", "native"));
      out
        .at(-1)!
        .push(ratio("lifted", "wasm"), ratio("lifted-opt", "wasm"), ratio("qemu", "native"));
      const start = startupOf(row);
      const [l, n] = [t("lifted"), t("native")];
      const less =
        start !== undefined && l !== undefined && n !== undefined ? (l - start) / n : undefined;
      if (less !== undefined) geo.less.push(less);
      out.at(-1)!.push(start?.toFixed(2) ?? "-", less?.toFixed(2) ?? "-");
    }
    table(out);
    const mean = (xs: number[]): string =>
      xs.length === 0
        ? "n/a"
        : `${Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length).toFixed(2)}× over ${xs.length} rows`;
    console.log(
      `\ngeometric mean lifted/native: default tier ${mean(geo.lifted)}, ` +
        `optimizing tier ${mean(geo["lifted-opt"])} (target ≤ 1.5×); ` +
        `default tier less the lifted start-up ${mean(geo.less)}`,
    );
    console.log("lifted-opt = MEGALIFT_WASM_TIER=optimizing (TurboFan only, --no-liftoff)");
    // One program run, timed by --clock; and the argv that runs a program lifted.
    const time: KernelTiming = (argv) => {
      const m = measure(argv, work, timeoutS, env);
      return {
        seconds: clock === "cpu" ? m.cpu : m.wall,
        outputHash: m.outputHash,
        failure: m.failure,
      };
    };
    const lifted = (program: string, args: readonly string[]): string[] => [
      ...(variantArgv({ name: "extra", program, args: [], idle: [] }, "lifted", optimize) ?? []),
      ...args,
    ];
    if (values.kernels) {
      console.log(
        "\ncpu-bench kernel by kernel (median of --runs; ratio = (lifted - start-up) / native)",
      );
      table(kernelRows({ native: build.native, lifted, runs, time, median }));
    }
    if (values.float) {
      console.log("\nfloat modes and x87 (median of --runs, warm lift cache; start-up included)");
      const dir = join(work, "float");
      const source = { floatSource: FLOAT_SOURCE, cpuBenchSource: BENCH_SOURCE };
      table(floatRows({ dir, ...source, lifted, runs, time, median }));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
