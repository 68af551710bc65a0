// `megalift lift` as a user meets it: a module and a coverage report, and a
// clear one-line error for a file that is not an x86-64 ELF. And the lift
// cache the bundled `megalift` shares with the built modules.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../src/package-root.js";
import { CLI_MAIN, runCli } from "../helpers/cli.js";

/** `megalift exec` of the musl hello fixture through `main` with the lift cache in `cache`. */
function execHello(main: string, cache: string): string {
  const hello = join(packageRoot(), "fixtures/bin/musl/hello");
  const r = runCli(["exec", "--root", "/", hello], { MEGALIFT_CACHE_DIR: cache }, main);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return r.stdout;
}

const dir = mkdtempSync(join(tmpdir(), "megalift-lift-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("megalift lift", () => {
  it("writes a wasm module and prints the coverage report", () => {
    const out = join(dir, "hello.wasm");
    const r = runCli(["lift", join(packageRoot(), "fixtures/bin/musl/hello"), "-o", out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/functions\s+\d+/);
    expect(r.stdout).toMatch(/instructions\s+\d+/);
    expect(r.stdout).toMatch(/unsupported\s+0 instructions/);
    expect(readFileSync(out).subarray(0, 4)).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d]));
  });

  it("names the file when it is not an ELF", () => {
    const r = runCli([
      "lift",
      join(packageRoot(), "fixtures/bin/scripts/hello.sh"),
      "-o",
      join(dir, "x.wasm"),
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^megalift: .*hello\.sh/m);
  });
});

describe("the lift cache", () => {
  it("is shared by the bundled CLI and the built modules (one fingerprint)", () => {
    const cache = join(dir, "cache");
    const modules = join(packageRoot(), "dist", "src", "cli", "main.js");
    const output = execHello(modules, cache);
    const lifts = (): string[] =>
      readdirSync(join(cache, "lift")).filter((name) => name.endsWith(".wasm"));
    const lifted = lifts();
    expect(lifted).toHaveLength(1);
    // The bundle finds that lift: no second module by another fingerprint.
    expect(execHello(CLI_MAIN, cache)).toBe(output);
    expect(lifts()).toEqual(lifted);
  });
});
