// scanRootfs over an in-memory root filesystem holding the fixture binaries,
// scripts, duplicate content at several paths, a non-executable `#!` file and
// a corrupt ELF: kinds, hashes (checked against b3sum), grouping, totals,
// problems, the table, and the --json document against its JSON Schema.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import { beforeAll, describe, expect, it } from "vitest";
import { blake3Hex } from "../../src/hash/blake3.js";
import { formatScanTable, toJson, toScanJson } from "../../src/scan/report.js";
import {
  scanRootfs,
  type ScannedElf,
  type ScannedExecutable,
  type ScanResult,
} from "../../src/scan/scan.js";
import { createMemoryRootfs, type MemoryEntrySpec } from "../helpers/memory-rootfs.js";
import { fixturePath, readFixture } from "../elf/fixtures.js";

const SCRIPT = readFixture("scripts/hello.sh");
const CORRUPT = readFixture("glibc/hello").subarray(0, 100); // ends inside the program header table

const SPECS: MemoryEntrySpec[] = [
  { path: "/bin/hello", content: readFixture("glibc/hello"), mode: 0o755 },
  { path: "/usr/local/bin/hello-copy", content: readFixture("glibc/hello"), mode: 0o700 },
  { path: "/bin/hello-hardlink", type: "hardlink", linkTarget: "/bin/hello", mode: 0o755 },
  { path: "/bin/hello-symlink", linkTarget: "hello" },
  { path: "/bin/musl-hello", content: readFixture("musl/hello"), mode: 0o755 },
  { path: "/usr/bin/greet", content: readFixture("dynamic/greet"), mode: 0o755 },
  { path: "/usr/lib/libgreet.so.1", content: readFixture("dynamic/libgreet.so.1"), mode: 0o644 },
  { path: "/sbin/stripped-hello", content: readFixture("stripped/hello"), mode: 0o4755, uid: 0 },
  { path: "/usr/bin/hello.sh", content: SCRIPT, mode: 0o755 },
  { path: "/opt/tools/hello.sh", content: SCRIPT, mode: 0o755, uid: 1000, gid: 1000 },
  { path: "/usr/share/doc/example.py", content: "#!/usr/bin/env python3 -u\nprint(1)\n" },
  { path: "/usr/bin/broken", content: CORRUPT, mode: 0o755 },
  { path: "/usr/bin/crlf.sh", content: "#!/bin/sh\r\necho hi\r\n", mode: 0o755 },
  { path: "/usr/bin/not-a-script", content: "#!\n/bin/sh\n", mode: 0o755 },
  { path: "/etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\n" },
  { path: "/etc/empty", content: "" },
  { path: "/etc/one", content: "#" },
  { path: "/var/cache" },
];

/** BLAKE3 of a fixture file: b3sum's answer when it is installed, else blake3-wasm's. */
function blake3OfFixture(relative: string): string {
  try {
    const out = execFileSync("b3sum", ["--no-names", fixturePath(relative)], { encoding: "utf8" });
    return out.trim();
  } catch {
    return blake3Hex(readFixture(relative));
  }
}

const byPath = (result: ScanResult, path: string): ScannedExecutable => {
  const found = result.executables.find((e) => e.paths.includes(path));
  if (found === undefined) throw new Error(`no executable at ${path}`);
  return found;
};

describe("scanRootfs", () => {
  let result: ScanResult;
  const progress: [number, number, string][] = [];
  const view = createMemoryRootfs(SPECS);

  beforeAll(async () => {
    result = await scanRootfs(view, { onProgress: (...args) => void progress.push(args) });
  });

  it("lists one entry per distinct content, ordered by first path", () => {
    expect(result.executables.map((e) => [e.kind, e.paths[0]])).toEqual([
      ["elf", "/bin/hello"],
      ["elf", "/bin/musl-hello"],
      ["script", "/opt/tools/hello.sh"],
      ["elf", "/sbin/stripped-hello"],
      ["script", "/usr/bin/crlf.sh"],
      ["elf", "/usr/bin/greet"],
      ["elf", "/usr/lib/libgreet.so.1"],
      ["script", "/usr/share/doc/example.py"],
    ]);
  });

  it("groups every path with the same content, sorted, hardlinks included", () => {
    const hello = byPath(result, "/bin/hello");
    expect(hello.paths).toEqual(["/bin/hello", "/bin/hello-hardlink", "/usr/local/bin/hello-copy"]);
    expect(hello.files.map((f) => f.mode)).toEqual([0o755, 0o755, 0o700]);
    expect(byPath(result, "/usr/bin/hello.sh").paths).toEqual([
      "/opt/tools/hello.sh",
      "/usr/bin/hello.sh",
    ]);
    expect(result.executables.flatMap((e) => e.paths)).not.toContain("/bin/hello-symlink");
  });

  it("names each content by the BLAKE3 of its bytes", () => {
    const expected: [string, string][] = [
      ["/bin/hello", "glibc/hello"],
      ["/bin/musl-hello", "musl/hello"],
      ["/usr/bin/greet", "dynamic/greet"],
      ["/usr/lib/libgreet.so.1", "dynamic/libgreet.so.1"],
      ["/sbin/stripped-hello", "stripped/hello"],
      ["/usr/bin/hello.sh", "scripts/hello.sh"],
    ];
    for (const [path, fixture] of expected) {
      const entry = byPath(result, path);
      expect(entry.hash, path).toBe(`blake3:${blake3OfFixture(fixture)}`);
      expect(entry.size).toBe(readFixture(fixture).length);
    }
  });

  it("describes ELF files", () => {
    const elf = (path: string): ScannedElf["elf"] => {
      const entry = byPath(result, path);
      if (entry.kind !== "elf") throw new Error(`${path} is not an ELF`);
      return entry.elf;
    };
    expect(elf("/bin/hello")).toMatchObject({ type: "EXEC", linkage: "static", stripped: false });
    expect(elf("/sbin/stripped-hello")).toMatchObject({ type: "EXEC", stripped: true });
    expect(elf("/usr/bin/greet")).toMatchObject({
      type: "DYN",
      pie: true,
      interpreter: "/lib64/ld-linux-x86-64.so.2",
      needed: ["libgreet.so.1", "libc.so.6"],
      linkage: "dynamic",
    });
    expect(elf("/usr/lib/libgreet.so.1")).toMatchObject({
      sharedLibrary: true,
      soname: "libgreet.so.1",
    });
    expect(byPath(result, "/usr/lib/libgreet.so.1").executable).toBe(false);
    expect(byPath(result, "/sbin/stripped-hello").files[0]?.mode).toBe(0o4755);
  });

  it("describes scripts, executable or not", () => {
    const sh = byPath(result, "/usr/bin/hello.sh");
    expect(sh).toMatchObject({ kind: "script", executable: true });
    expect(sh.kind === "script" && sh.script).toEqual({ interpreter: "/bin/sh" });
    const py = byPath(result, "/usr/share/doc/example.py");
    expect(py).toMatchObject({ kind: "script", executable: false });
    expect(py.kind === "script" && py.script).toEqual({
      interpreter: "/usr/bin/env",
      argument: "python3 -u",
    });
    expect(result.executables.flatMap((e) => e.paths)).not.toContain("/usr/bin/not-a-script");
    const crlf = byPath(result, "/usr/bin/crlf.sh");
    expect(crlf.kind === "script" && crlf.script).toEqual({ interpreter: "/bin/sh\r" });
  });

  it("reports a corrupt ELF as a problem and goes on", () => {
    expect(result.problems).toEqual([
      {
        path: "/usr/bin/broken",
        paths: ["/usr/bin/broken"],
        hash: `blake3:${blake3Hex(CORRUPT)}`,
        code: "ELF_MALFORMED",
        message:
          "program header table (560 bytes) extends past the end of the file (100 bytes) at offset 64",
      },
    ]);
  });

  it("counts totals", () => {
    const bytes = ["glibc/hello", "musl/hello", "stripped/hello", "dynamic/greet"]
      .concat(["dynamic/libgreet.so.1", "scripts/hello.sh"])
      .reduce((n, f) => n + readFixture(f).length, 0);
    expect(result.totals).toEqual({
      elfExecutables: 4,
      sharedLibraries: 1,
      otherElf: 0,
      scripts: 3,
      distinctFiles: 8,
      paths: 11,
      bytes:
        bytes +
        byPath(result, "/usr/share/doc/example.py").size +
        byPath(result, "/usr/bin/crlf.sh").size,
      problems: 1,
      filesScanned: view.fileCount,
    });
  });

  it("reports progress once per regular file", () => {
    expect(progress).toHaveLength(view.fileCount);
    expect(progress.at(-1)?.slice(0, 2)).toEqual([view.fileCount, view.fileCount]);
  });

  it("is deterministic", async () => {
    const again = await scanRootfs(createMemoryRootfs([...SPECS].reverse()));
    expect(JSON.stringify(toScanJson(again))).toBe(JSON.stringify(toScanJson(result)));
  });

  it("handles an empty root filesystem", async () => {
    const empty = await scanRootfs(createMemoryRootfs([]));
    expect(empty.executables).toEqual([]);
    expect(empty.totals.distinctFiles).toBe(0);
    expect(formatScanTable(empty)).toContain("no executables found");
  });
});

describe("scan report", () => {
  let result: ScanResult;
  beforeAll(async () => {
    result = await scanRootfs(createMemoryRootfs(SPECS));
  });

  it("prints a table with a totals footer", () => {
    const table = formatScanTable(result, { source: "oci:demo:latest" });
    const lines = table.split("\n");
    expect(lines[0]).toBe("scan of oci:demo:latest");
    expect(lines[2]).toMatch(/^KIND\s+TYPE\s+SIZE\s+HASH\s+PATH\s+INTERPRETER$/);
    const hello = byPath(result, "/bin/hello").hash.slice(7, 19);
    expect(table).toMatch(
      new RegExp(`^elf\\s+exec static\\s+\\S+\\s+${hello}\\s+/bin/hello \\(\\+2 more\\)$`, "m"),
    );
    expect(table).toMatch(
      /^elf\s+pie dynamic .*\/usr\/bin\/greet\s+\/lib64\/ld-linux-x86-64\.so\.2$/m,
    );
    expect(table).toMatch(/^elf\s+lib dynamic .*\/usr\/lib\/libgreet\.so\.1$/m);
    expect(table).toMatch(/^script\s+script, not \+x .*\/usr\/bin\/env python3 -u$/m);
    expect(table).toContain("/usr/bin/broken: program header table (560 bytes) extends past");
    expect(table).toContain("4 ELF executables, 1 shared library, 0 other ELF files, 3 scripts");
    expect(table).toMatch(/\/usr\/bin\/crlf\.sh\s+\/bin\/sh\\r$/m);
    expect(table).toMatch(/8 distinct files at 11 paths, .*; 1 problem; 16 files scanned\n$/);
  });

  it("produces JSON that satisfies schemas/scan.schema.json", () => {
    const schemaPath = fileURLToPath(new URL("../../schemas/scan.schema.json", import.meta.url));
    const schema: unknown = JSON.parse(readFileSync(schemaPath, "utf8"));
    const validate = new Ajv({ strict: true, allErrors: true }).compile(schema as object);
    const doc: unknown = JSON.parse(
      JSON.stringify(
        toJson(result, { source: "oci:demo", imageDigest: `sha256:${"a".repeat(64)}` }),
      ),
    );
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc).toMatchObject({
      source: "oci:demo",
      executables: expect.arrayContaining([
        expect.objectContaining({
          paths: ["/sbin/stripped-hello"],
          files: [{ path: "/sbin/stripped-hello", mode: "4755", uid: 0, gid: 0 }],
        }),
      ]),
    });

    // The schema is not vacuous: broken documents fail it.
    const broken = structuredClone(doc) as { executables: { hash: string; paths: string[] }[] };
    broken.executables[0]!.hash = "sha256:1234";
    expect(validate(broken)).toBe(false);
    const relative = structuredClone(doc) as { executables: { paths: string[] }[] };
    relative.executables[0]!.paths = ["bin/hello"];
    expect(validate(relative)).toBe(false);
    const wrongKind = structuredClone(doc) as { executables: { kind: string }[] };
    wrongKind.executables[0]!.kind = "script";
    expect(validate(wrongKind)).toBe(false);
  });
});
