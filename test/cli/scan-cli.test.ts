// The scan command as a user meets it: the demo image, JSON valid against its
// schema, a byte-identical rebuild of the demo image, and every kind of bad
// input answered with one clear line on stderr and a non-zero status.
import { describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { Ajv } from "ajv";
import { gzipSync } from "node:zlib";
import { packageRoot } from "../../src/package-root.js";
import { runCli, type CliResult, CLI_MAIN } from "../helpers/cli.js";
import {
  descriptorOf,
  makeImage,
  makeLayer,
  tempDir,
  writeRawLayout,
  type BuiltLayer,
} from "../oci/build-image.js";
import type { TarEntrySpec } from "../helpers/tar.js";
import { blake3Hex } from "../../src/hash/blake3.js";

const root = packageRoot();
const demo = join(root, "fixtures", "images", "demo");

async function cacheDir(): Promise<string> {
  return tempDir("megalift-cli-cache-");
}

async function scan(source: string, ...extra: string[]): Promise<CliResult> {
  return runCli(["scan", source, "--cache-dir", await cacheDir(), ...extra]);
}

/** A layout holding one image made of `layers`, tagged "t". */
async function layoutOf(layers: readonly BuiltLayer[]): Promise<string> {
  const dir = await tempDir();
  const image = makeImage(layers);
  await writeRawLayout(dir, [{ descriptor: image.descriptor, tag: "t" }], image.blobs);
  return dir;
}

async function layoutWith(entries: readonly TarEntrySpec[]): Promise<string> {
  return layoutOf([await makeLayer(entries)]);
}

/** One line on stderr, prefixed, no stack trace; the given status. */
function expectCleanError(result: CliResult, pattern: RegExp, status = 1): void {
  expect(result.status).toBe(status);
  expect(result.stdout).toBe("");
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^megalift: /);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe("megalift scan on the demo image", () => {
  it("prints a table with totals", async () => {
    const result = await scan(`oci:${demo}:latest`);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("/bin/hello-glibc");
    expect(result.stdout).toContain("/bin/hello-copy (+1 more)");
    expect(result.stdout).toMatch(
      /3 ELF executables, 1 shared library, 0 other ELF files, 1 script/,
    );
  });

  it("prints JSON valid against schemas/scan.schema.json with BLAKE3 hashes of the files", async () => {
    const result = await scan(`oci:${demo}:latest`, "--json");
    expect(result.status).toBe(0);
    const doc = JSON.parse(result.stdout) as {
      executables: { kind: string; hash: string; paths: string[] }[];
    };
    const schema = JSON.parse(
      readFileSync(join(root, "schemas", "scan.schema.json"), "utf8"),
    ) as object;
    const validate = new Ajv({ strict: true }).compile(schema);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    const musl = doc.executables.find((e) => e.paths.includes("/bin/hello-musl"));
    expect(musl?.paths).toEqual(["/bin/hello-copy", "/bin/hello-musl"]);
    const expected = blake3Hex(readFileSync(join(root, "fixtures", "bin", "musl", "hello")));
    expect(musl?.hash).toBe(`blake3:${expected}`);
    expect(doc.executables.find((e) => e.paths.includes("/bin/hello.sh"))?.kind).toBe("script");
  });

  it("stops quietly when its reader has gone away (megalift proxy … | head -1, then SIGTERM)", async () => {
    const dir = await cacheDir();
    // head exits after the "listening" line; the proxy's shutdown line then
    // meets a closed pipe, which must end the process quietly with status 0.
    const script = [
      `mkfifo "${dir}/out"`,
      `"${process.execPath}" "${CLI_MAIN}" proxy --listen 127.0.0.1:0 --upstream http://127.0.0.1:9 --cache "${dir}/c" >"${dir}/out" 2>"${dir}/err" &`,
      "proxy=$!",
      `head -1 <"${dir}/out" >/dev/null`,
      'kill -TERM "$proxy"',
      'wait "$proxy"',
    ].join("\n");
    const result = spawnSync("bash", ["-c", script], { encoding: "utf8", timeout: 30_000 });
    expect(readFileSync(join(dir, "err"), "utf8")).toBe("");
    expect(result.status).toBe(0);
  });

  it("is rebuilt byte for byte by scripts/build-demo-image.mjs", async () => {
    const dest = await tempDir("megalift-demo-");
    execFileSync(process.execPath, [join(root, "scripts", "build-demo-image.mjs"), dest]);
    const files = (dir: string): string[] =>
      readdirSync(dir, { recursive: true, encoding: "utf8" })
        .filter((f) => statSync(join(dir, f)).isFile())
        .sort();
    expect(files(dest)).toEqual(files(demo));
    for (const f of files(demo)) {
      expect(
        readFileSync(join(dest, f)).equals(readFileSync(join(demo, f))),
        relative(root, f),
      ).toBe(true);
    }
  });
});

describe("megalift scan on bad input", () => {
  it("names a truncated layer as corrupt", async () => {
    const good = await makeLayer([{ name: "bin/x", content: "x".repeat(5000) }]);
    const blob = good.blob.subarray(0, good.blob.length - 40);
    const truncated: BuiltLayer = {
      ...good,
      blob,
      descriptor: descriptorOf(good.descriptor.mediaType, blob),
    };
    expectCleanError(await scan(`oci:${await layoutOf([truncated])}:t`), /corrupt/);
  });

  it("names a blob whose bytes do not match its digest", async () => {
    const good = await makeLayer([{ name: "bin/x", content: "hello" }]);
    const other = gzipSync(Buffer.from("not the layer"));
    const blob = Buffer.concat([other, Buffer.alloc(Math.max(0, good.blob.length - other.length))]);
    const forged: BuiltLayer = { ...good, blob: blob.subarray(0, good.blob.length) };
    expectCleanError(
      await scan(`oci:${await layoutOf([forged])}:t`),
      /digest mismatch|size mismatch/,
    );
  });

  it.each([
    ["a .. entry", [{ name: "../etc/passwd", content: "x" }]],
    ["an absolute entry", [{ name: "/etc/passwd", content: "x" }]],
    [
      "an entry through a symlink that climbs out",
      [
        { name: "up", type: "symlink", linkname: "../../.." },
        { name: "up/etc/passwd", content: "x" },
      ],
    ],
  ] as [string, TarEntrySpec[]][])("refuses %s that escapes the root", async (_what, entries) => {
    expectCleanError(
      await scan(`oci:${await layoutWith(entries)}:t`),
      /outside the image root|climbs above the image root/,
    );
  });

  it("lists a malformed ELF as a problem, names it on stderr and exits 1", async () => {
    const broken = Buffer.concat([
      Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]),
      Buffer.alloc(20),
    ]);
    const dir = await layoutWith([
      { name: "bin/broken", content: broken, mode: 0o755 },
      { name: "bin/run.sh", content: "#!/bin/sh\n", mode: 0o755 },
    ]);
    const result = await scan(`oci:${dir}:t`);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("/bin/run.sh");
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/^megalift: scan: \/bin\/broken: .*offset/);
  });

  it("names an unknown layer media type", async () => {
    const layer = await makeLayer([{ name: "a", content: "a" }]);
    const odd: BuiltLayer = {
      ...layer,
      descriptor: { ...layer.descriptor, mediaType: "application/x-strange" },
    };
    expectCleanError(await scan(`oci:${await layoutOf([odd])}:t`), /application\/x-strange/);
  });

  it("names a missing tag and lists the tags there", async () => {
    const dir = await layoutWith([{ name: "a", content: "a" }]);
    expectCleanError(await scan(`oci:${dir}:nope`), /nope.*\bt\b/);
  });

  it("names a missing layout directory", async () => {
    expectCleanError(await scan("oci:/nonexistent/megalift-layout:t"), /nonexistent/);
  });

  it("answers bad usage with status 2", async () => {
    expectCleanError(runCli(["scan"]), /expected exactly one SOURCE/, 2);
    expectCleanError(runCli(["scan", "oci:x", "--frobnicate"]), /frobnicate/, 2);
    expectCleanError(runCli(["scan", "ftp:x"]), /ftp/, 1);
  });
});
