// npm run bench:transform — `megalift transform` of the busybox image and the
// Debian 12 minbase image, cold (empty content store and lift cache) and warm
// (the same caches again), side by side in one run. Prints per image: the
// executables found, lifted and omitted, cold and warm wall time with the
// lift and link stages, the megabinary size, and whether both runs gave the
// same index digest (they must: determinism).
// Usage: npm run bench:transform [-- --jobs N] [-- --only busybox|minbase]
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../src/package-root.js";
import type { TransformSummary } from "../src/pipeline/transform.js";

const root = packageRoot();
/** The `megalift` command users run (the bundle, scripts/bundle.mjs). */
const cli = join(root, "dist", "bundle", "megalift.mjs");
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const only = option("only");
const jobs = option("jobs");

function run(command: string, argv: readonly string[]): string {
  const result = spawnSync(command, argv, { encoding: "utf8", maxBuffer: 256 << 20 });
  if (result.status !== 0) {
    throw new Error(`${command} ${argv.join(" ")} failed (${result.status}):\n${result.stderr}`);
  }
  return result.stdout;
}

function transform(source: string, dest: string, cacheDir: string): TransformSummary {
  const argv = [cli, "transform", source, dest, "--json", "--cache-dir", cacheDir];
  if (jobs !== undefined) argv.push("--jobs", jobs);
  return JSON.parse(run(process.execPath, argv)) as TransformSummary;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;

const work = mkdtempSync(join(tmpdir(), "megalift-bench-transform-"));
try {
  const images: { name: string; source: string }[] = [];
  if (only === undefined || only === "busybox") {
    const dir = join(work, "busybox");
    run(process.execPath, [join(root, "scripts", "build-busybox-image.mjs"), dir]);
    images.push({ name: "busybox", source: `oci:${dir}:latest` });
  }
  if (only === undefined || only === "minbase") {
    const minbase = join(root, ".cache", "minbase");
    if (!existsSync(join(minbase, "oci", "index.json"))) {
      process.stderr.write("building the Debian 12 minbase image (debootstrap, ~2 min)…\n");
      run("bash", [join(root, "scripts", "build-minbase.sh"), minbase]);
    }
    images.push({ name: "minbase", source: `oci:${join(minbase, "oci")}:bookworm` });
  }
  const rows: string[][] = [
    [
      "image",
      "ELF",
      "scripts",
      "lifted",
      "omitted",
      "cold",
      "(lift",
      "link)",
      "warm",
      "(lift",
      "link)",
      "megabinary",
      "same digest",
    ],
  ];
  for (const image of images) {
    const cache = join(work, `cache-${image.name}`);
    process.stderr.write(`${image.name}: cold transform…\n`);
    const cold = transform(image.source, `oci:${join(work, `out-${image.name}-1`)}:t`, cache);
    process.stderr.write(`${image.name}: warm transform…\n`);
    const warm = transform(image.source, `oci:${join(work, `out-${image.name}-2`)}:t`, cache);
    rows.push([
      image.name,
      String(cold.executables.elf),
      String(cold.executables.scripts),
      `${cold.lifted.length} + ${cold.scripts} scripts`,
      String(cold.omitted.length),
      seconds(cold.milliseconds.total),
      seconds(cold.milliseconds.lift),
      seconds(cold.milliseconds.link),
      seconds(warm.milliseconds.total),
      seconds(warm.milliseconds.lift),
      seconds(warm.milliseconds.link),
      mib(cold.megabinaryBytes),
      cold.indexDigest === warm.indexDigest ? "yes" : "NO",
    ]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  "));
  console.log(
    `\nmachine: ${process.arch}, node ${process.version}; cold = empty content store and lift cache`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
