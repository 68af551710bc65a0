// Differential tests on Debian's busybox-static (a stripped 2 MB static
// binary, installed by scripts/install-tools.sh): each applet runs natively
// and lifted on the same input; stdout, stderr and exit status must be equal.
// The lift (about two minutes here) happens once, in beforeAll, into a cache
// shared by every case.
import { beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../../src/package-root.js";

const BUSYBOX = "/bin/busybox";
const CLI = join(packageRoot(), "dist", "src", "cli", "main.js");
const work = mkdtempSync(join(tmpdir(), "megalift-busybox-"));
const ENV = {
  LANG: "C",
  LC_ALL: "C",
  PATH: "/usr/bin:/bin",
  MEGALIFT_CACHE_DIR: join(work, "cache"),
};
const INPUT = join(work, "input.txt");

interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], stdin: string): Run {
  const result = spawnSync(command, args, {
    input: stdin,
    encoding: "utf8",
    env: ENV,
    timeout: 600_000,
  });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

const lifted = (args: readonly string[], stdin = ""): Run =>
  run(process.execPath, [CLI, "exec", "--root", "/", BUSYBOX, ...args], stdin);
const native = (args: readonly string[], stdin = ""): Run => run(BUSYBOX, args, stdin);

const TEXT = "pear 3\napple 10\nfig 7\napple 10\nbanana 2\n";

const CASES: readonly (readonly string[])[] = [
  ["echo", "hello", "world"],
  ["cat", INPUT],
  ["wc", INPUT],
  ["sort", INPUT],
  ["sort", "-k2", "-n", INPUT],
  ["uniq", "-c", INPUT],
  ["head", "-2", INPUT],
  ["tail", "-1", INPUT],
  ["tr", "a-z", "A-Z"],
  ["cut", "-d", " ", "-f", "2", INPUT],
  ["sed", "s/apple/APPLE/g", INPUT],
  ["grep", "-n", "an", INPUT],
  ["awk", "{ s += $2 } END { print NR, s }", INPUT],
  ["sha256sum", INPUT],
  ["md5sum", INPUT],
  ["base64", INPUT],
  ["basename", "/a/b/c.txt", ".txt"],
  ["true"],
  ["false"],
  ["cat", join(work, "missing")],
  // glibc's vfprintf computed gotos (byte-indexed jump tables) and strtol/strtod paths.
  ["seq", "1", "5"],
  ["printf", "%d %s|%5.2f|%x\n", "3", "x", "2.5", "255"],
  ["od", "-c", INPUT],
  ["expr", "1", "+", "2"],
];

describe("lifted busybox applets behave like native ones", () => {
  beforeAll(() => {
    writeFileSync(INPUT, TEXT);
    const first = lifted(["true"]);
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
  }, 900_000);

  for (const args of CASES) {
    it(args.map((a) => (a.startsWith(work) ? a.slice(work.length + 1) : a)).join(" "), () => {
      const stdin = args.includes(INPUT) || args[0] !== "tr" ? "" : TEXT;
      const expected = native(args, stdin);
      const actual = lifted(args, stdin);
      expect(actual).toEqual(expected);
    });
  }
});
