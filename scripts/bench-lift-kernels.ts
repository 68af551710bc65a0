// npm run bench:lift -- --kernels: cpu-bench's kernels one by one, native
// and lifted, so a change to one kind of code (floating point, a switch, a
// byte loop) shows in its own row. A kernel alone runs for a tenth of a
// second natively, so the lifted process's start-up (measured by running
// cpu-bench with no kernel selected) is subtracted before the ratio.
import { spawnSync } from "node:child_process";

/** Runs a command: seconds (wall or CPU, as the bench's --clock says) and a digest of its stdout. */
export type KernelTiming = (argv: readonly string[]) => {
  seconds: number;
  outputHash: string;
  failure?: string;
};

export interface KernelOptions {
  readonly native: string;
  readonly lifted: (program: string, args: readonly string[]) => string[];
  readonly runs: number;
  readonly time: KernelTiming;
  readonly median: (xs: readonly number[]) => number;
}

/** The kernel names cpu-bench prints when it runs them all, one per line before "total". */
function kernelNames(native: string): string[] {
  return spawnSync(native, [], { encoding: "utf8" })
    .stdout.split("\n")
    .map((line) => line.split(/\s+/)[0] ?? "")
    .filter((name) => name !== "" && name !== "total");
}

/** Table rows: kernel, native, lifted, lifted less start-up, that over native. */
export function kernelRows(o: KernelOptions): string[][] {
  const rows = [["kernel", "native", "lifted", "less start-up", "ratio"]];
  const startup: number[] = [];
  for (let run = 0; run < o.runs; run++) {
    const r = o.time(o.lifted(o.native, ["none"]));
    if (r.failure !== undefined) return [["kernels", `lifted start-up failed: ${r.failure}`]];
    startup.push(r.seconds);
  }
  const start = o.median(startup);
  rows.push(["(start-up)", "-", start.toFixed(2), "-", "-"]);
  for (const name of kernelNames(o.native)) {
    const native: number[] = [];
    const lifted: number[] = [];
    let failure: string | undefined;
    for (let run = 0; run < o.runs && failure === undefined; run++) {
      const n = o.time([o.native, name]);
      const l = o.time(o.lifted(o.native, [name]));
      failure = n.failure ?? l.failure;
      if (failure === undefined && l.outputHash !== n.outputHash) {
        failure = "WRONG (output differs)";
      }
      native.push(n.seconds);
      lifted.push(l.seconds);
    }
    if (failure !== undefined) {
      rows.push([name, failure]);
      continue;
    }
    const n = o.median(native);
    const l = o.median(lifted);
    rows.push([
      name,
      n.toFixed(2),
      l.toFixed(2),
      (l - start).toFixed(2),
      ((l - start) / n).toFixed(2),
    ]);
  }
  return rows;
}
