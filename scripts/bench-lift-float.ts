// npm run bench:lift -- --float: what MXCSR's modes and the x87 cost a
// lifted program, native against lifted in one run. fixtures/src/bench/
// float-modes.c built with glibc (directed rounding, glibc's software fma,
// printf of doubles) and musl (printf of doubles: x87 long double), and
// cpu-bench built with -Ofast, whose crtfastmath.o sets FTZ and DAZ before
// main (the flush flavour, lift/semantics/sse-flush.ts). Rows print the
// lifted start-up too: these programs run for a tenth of a second natively.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { KernelTiming } from "./bench-lift-kernels.js";

export interface FloatOptions {
  /** Where the binaries are built (cached by the caller's key). */
  readonly dir: string;
  readonly floatSource: string;
  readonly cpuBenchSource: string;
  readonly lifted: (program: string, args: readonly string[]) => string[];
  readonly runs: number;
  readonly time: KernelTiming;
  readonly median: (xs: readonly number[]) => number;
}

interface Program {
  readonly name: string;
  readonly binary: string;
  readonly args: readonly string[];
}

function build(o: FloatOptions): Program[] {
  mkdirSync(o.dir, { recursive: true });
  const flags = ["-O2", "-static", "-std=gnu11"];
  const glibc = join(o.dir, "float-modes-glibc");
  const musl = join(o.dir, "float-modes-musl");
  const fast = join(o.dir, "cpu-bench-ofast");
  const crtfastmath = spawnSync("gcc", ["-print-file-name=crtfastmath.o"], {
    encoding: "utf8",
  }).stdout.trim();
  const steps: [string, string, string[]][] = [
    [glibc, "gcc", [...flags, "-o", glibc, o.floatSource, "-lm"]],
    [musl, "musl-gcc", [...flags, "-o", musl, o.floatSource, "-lm"]],
    // musl-gcc's specs leave crtfastmath.o out: named by hand, as gcc would link it.
    [
      fast,
      "musl-gcc",
      ["-Ofast", "-static", "-std=gnu11", "-o", fast, o.cpuBenchSource, crtfastmath, "-lm"],
    ],
  ];
  for (const [output, cc, args] of steps) {
    if (existsSync(output)) continue;
    const r = spawnSync(cc, args, { stdio: "inherit" });
    if (r.status !== 0) throw new Error(`${cc} failed building ${output}`);
  }
  return [
    { name: "directed rounding (glibc)", binary: glibc, args: ["directed"] },
    { name: "fma() (glibc, x87)", binary: glibc, args: ["fma"] },
    { name: "printf %f %g (glibc)", binary: glibc, args: ["printf"] },
    { name: "printf %f %g (musl, x87)", binary: musl, args: ["printf"] },
    { name: "cpu-bench -Ofast (FTZ+DAZ)", binary: fast, args: [] },
  ];
}

/** Table rows: program, native, lifted, lifted over native; then the lifted start-up. */
export function floatRows(o: FloatOptions): string[][] {
  const rows = [["program", "native", "lifted", "lifted/native"]];
  const programs = build(o);
  for (const p of programs) {
    const native: number[] = [];
    const lifted: number[] = [];
    let failure: string | undefined;
    // One unmeasured lifted run first: the lift itself is not what this table is about.
    const warm = o.time(o.lifted(p.binary, p.args));
    failure = warm.failure;
    for (let run = 0; run < o.runs && failure === undefined; run++) {
      const n = o.time([p.binary, ...p.args]);
      const l = o.time(o.lifted(p.binary, p.args));
      failure = n.failure ?? l.failure;
      if (failure === undefined && l.outputHash !== n.outputHash)
        failure = "WRONG (output differs)";
      native.push(n.seconds);
      lifted.push(l.seconds);
    }
    if (failure !== undefined) {
      rows.push([p.name, failure]);
      continue;
    }
    const n = o.median(native);
    const l = o.median(lifted);
    rows.push([p.name, n.toFixed(2), l.toFixed(2), (l / n).toFixed(1)]);
  }
  return rows;
}
