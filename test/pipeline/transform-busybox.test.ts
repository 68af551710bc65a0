// The busybox image (scripts/build-busybox-image.mjs: Debian's busybox-static
// and a link per applet) transformed, then run with `megalift run`: the
// shell cases that need processes behave as busybox sh does natively, every
// program comes from the megabinary (no lift cache is written at run time),
// and the image's #! script runs through its interpreter's hash.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../src/package-root.js";
import { transformImage, type TransformSummary } from "../../src/pipeline/transform.js";
import { runCli } from "../helpers/cli.js";
import { SHELL_APPLETS, SHELL_CASES } from "../helpers/shell-cases.js";

const BUSYBOX = "/bin/busybox";
let work: string;
let image: string;
let summary: TransformSummary;
/** The cache `megalift run` uses: flattened layers only, never a lift. */
let runCache: string;
/** A directory of applet links for the native runs. */
let nativeBin: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "megalift-transform-busybox-"));
  const source = join(work, "source");
  const built = spawnSync(
    process.execPath,
    [join(packageRoot(), "scripts", "build-busybox-image.mjs"), source],
    {
      encoding: "utf8",
    },
  );
  expect(built.stderr).toBe("");
  image = `oci:${join(work, "out")}:tx`;
  summary = await transformImage({
    source: `oci:${source}:latest`,
    destination: image,
    cacheDir: join(work, "transform-cache"),
    workers: 2,
  });
  runCache = join(work, "run-cache");
  nativeBin = join(work, "native-bin");
  mkdirSync(nativeBin);
  for (const applet of SHELL_APPLETS) symlinkSync(BUSYBOX, join(nativeBin, applet));
}, 1_200_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("megalift run of the transformed busybox image", () => {
  it("has busybox in the megabinary and the script kept", () => {
    expect(summary.lifted.map((l) => l.path)).toEqual(["/bin/busybox"]);
    expect(summary.scripts).toBe(1);
  });

  for (const [name, script] of SHELL_CASES) {
    it(name, () => {
      const scratch = join(work, "native-tmp");
      rmSync(scratch, { recursive: true, force: true });
      mkdirSync(scratch);
      const expected = spawnSync(
        join(nativeBin, "sh"),
        ["-c", script.replaceAll("/tmp/", `${scratch}/`)],
        {
          encoding: "utf8",
          env: { PATH: nativeBin, LANG: "C", LC_ALL: "C" },
        },
      );
      const actual = runCli(["run", image, "--cache-dir", runCache, "--", "sh", "-c", script]);
      expect(actual.stdout).toBe(expected.stdout.replaceAll(`${scratch}/`, "/tmp/"));
      expect(actual.stderr).toBe(expected.stderr.replaceAll(`${scratch}/`, "/tmp/"));
      expect(actual.status).toBe(expected.status);
    });
  }

  it("runs the image's #! script through the interpreter's hash", () => {
    const result = runCli(["run", image, "--cache-dir", runCache, "--", "hello.sh"]);
    expect(result).toMatchObject({ status: 0, stdout: "hello from /usr/local/bin/hello.sh\n" });
  });

  it("lifted nothing at run time", () => {
    const lift = join(runCache, "lift");
    expect(existsSync(lift) ? readdirSync(lift) : []).toEqual([]);
  });
});
