// End to end, as a new user would: a Debian 12 minbase image built with
// debootstrap and packed with umoci, scanned by the real CLI, checked against
// `file` (which files are ELF) and `b3sum` (their BLAKE3 hashes).
import { beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readSync, closeSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { packageRoot } from "../../src/package-root.js";
import { runCli } from "../helpers/cli.js";

const root = packageRoot();
const minbase = process.env.MEGALIFT_MINBASE_DIR ?? join(root, ".cache", "minbase");

interface ScanJson {
  executables: { kind: string; hash: string; paths: string[]; script?: { interpreter: string } }[];
  totals: Record<string, number>;
}

/** Every regular file under dir, as image paths. */
function regularFiles(dir: string): string[] {
  const out = execFileSync("find", [".", "-type", "f", "-print0"], {
    cwd: dir,
    maxBuffer: 1 << 26,
  });
  return out
    .toString("utf8")
    .split("\0")
    .filter(Boolean)
    .map((p) => p.slice(1));
}

function startsWithShebang(file: string): boolean {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(2);
    return readSync(fd, buf, 0, 2, 0) === 2 && buf.toString("latin1") === "#!";
  } finally {
    closeSync(fd);
  }
}

describe("scan of a Debian 12 minbase image", () => {
  let scan: ScanJson;
  let files: string[];

  beforeAll(() => {
    if (!existsSync(join(minbase, "oci", "index.json"))) {
      execFileSync("bash", [join(root, "scripts", "build-minbase.sh"), minbase], {
        stdio: "inherit",
      });
    }
    const cacheDir = mkdtempSync(join(tmpdir(), "megalift-scan-"));
    const result = runCli([
      "scan",
      `oci:${join(minbase, "oci")}:bookworm`,
      "--json",
      "--cache-dir",
      cacheDir,
    ]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    scan = JSON.parse(result.stdout) as ScanJson;
    files = regularFiles(join(minbase, "rootfs"));
  }, 900_000);

  it("finds exactly the files that `file` calls ELF", () => {
    const fileOut = execFileSync("xargs", ["-0", "file", "-N", "--separator", "\t"], {
      cwd: join(minbase, "rootfs"),
      input: files.map((p) => "." + p).join("\0"),
      maxBuffer: 1 << 26,
    }).toString("utf8");
    const elfByFile = fileOut
      .split("\n")
      .filter((line) => /\t\s*(?:set[ug]id )*ELF /.test(line))
      .map((line) => line.split("\t")[0]!.slice(1))
      .sort();
    const elfByScan = scan.executables
      .filter((e) => e.kind === "elf")
      .flatMap((e) => e.paths)
      .sort();
    expect(elfByFile.length).toBeGreaterThan(600);
    expect(elfByScan).toEqual(elfByFile);
  });

  it("hashes every ELF exactly as b3sum does", () => {
    const elves = scan.executables.filter((e) => e.kind === "elf");
    const paths = elves.map((e) => "." + e.paths[0]!);
    const out = execFileSync("b3sum", ["--no-names", ...paths], {
      cwd: join(minbase, "rootfs"),
      maxBuffer: 1 << 26,
    })
      .toString("utf8")
      .trim()
      .split("\n");
    expect(out.length).toBe(elves.length);
    elves.forEach((e, i) => expect(e.hash).toBe(`blake3:${out[i]}`));
  });

  it("finds every #! script with its interpreter", () => {
    const rootfs = join(minbase, "rootfs");
    const shebangFiles = files.filter((p) => startsWithShebang(join(rootfs, p))).sort();
    const scriptPaths = scan.executables
      .filter((e) => e.kind === "script")
      .flatMap((e) => e.paths)
      .sort();
    expect(scriptPaths).toEqual(shebangFiles);
    const ldd = scan.executables.find((e) => e.paths.includes("/usr/bin/ldd"));
    expect(ldd?.script?.interpreter).toBe("/bin/bash");
  });

  it("prints a readable table with totals", () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "megalift-scan-"));
    const result = runCli([
      "scan",
      `oci:${join(minbase, "oci")}:bookworm`,
      "--cache-dir",
      cacheDir,
    ]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/\d+ ELF executables, \d+ shared libraries/);
    expect(result.stdout).toContain("/usr/bin/ls");
  }, 120_000);
});
