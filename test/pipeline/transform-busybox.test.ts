// The busybox image (scripts/build-busybox-image.mjs: Debian's busybox-static
// and a link per applet) transformed, then run with `megalift run`: the
// shell cases that need processes behave as busybox sh does natively in a
// chroot of the same image, every
// program comes from the megabinary (no lift cache is written at run time),
// and the image's #! script runs through its interpreter's hash.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../src/package-root.js";
import { transformImage, type TransformSummary } from "../../src/pipeline/transform.js";
import { runCli } from "../helpers/cli.js";
import { runChrooted, unpackLayout } from "../helpers/chroot.js";
import { SHELL_CASES } from "../helpers/shell-cases.js";

let work: string;
let image: string;
let summary: TransformSummary;
/** The cache `megalift run` uses: flattened layers only, never a lift. */
let runCache: string;
/** The source image unpacked, for the native runs (chroot). */
let nativeRoot: string;

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
  nativeRoot = join(work, "native-root");
  unpackLayout(source, "latest", nativeRoot);
}, 1_200_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("megalift run of the transformed busybox image", () => {
  it("has busybox in the megabinary and the script kept", () => {
    expect(summary.lifted.map((l) => l.path)).toEqual(["/bin/busybox"]);
    expect(summary.scripts).toBe(1);
  });

  for (const [name, script] of SHELL_CASES) {
    it(name, () => {
      // The image's Env (PATH=/usr/local/bin:/bin), as `megalift run` sets it.
      const expected = runChrooted(nativeRoot, ["/bin/sh", "-c", script], {
        PATH: "/usr/local/bin:/bin",
      });
      const actual = runCli(["run", image, "--cache-dir", runCache, "--", "sh", "-c", script]);
      expect(actual.stdout).toBe(expected.stdout);
      expect(actual.stderr).toBe(expected.stderr);
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
