// Sharded lifting (issue 4 item 7): the output is the same bytes however
// many shards and threads lift an ELF, and the spliced module runs. The
// pool tests start worker threads, which run the build in dist/ (npm run
// build first).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { liftElf, liftElfInShards } from "../../src/lift/lift-elf.js";
import { createLiftPool } from "../../src/lift/lift-pool.js";
import { CodeDecoder } from "../../src/lift/decode.js";
import type { DiscoveredFunction } from "../../src/lift/discover.js";
import { guestImageOf, liftWeight, shardFunctions } from "../../src/lift/lift-shard-plan.js";
import { decodeFunctions, encodeFunctions } from "../../src/lift/lift-shard-wire.js";
import { planLift } from "../../src/lift/lift-shard-discover.js";
import { packageRoot } from "../../src/package-root.js";
import { runLifted } from "../../src/vkernel/run.js";

const fixture = (path: string): string => join(packageRoot(), "fixtures", "bin", path);
const cacheDir = mkdtempSync(join(tmpdir(), "megalift-lift-shard-"));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

/** Runs a lifted module as a process; its stdout and exit status. */
async function run(wasm: Uint8Array, elf: Uint8Array, argv: string[]) {
  const out: Uint8Array[] = [];
  const status = await runLifted({
    module: await WebAssembly.compile(wasm),
    elfBytes: elf,
    root: tmpdir(),
    argv,
    env: [],
    stdout: (b) => out.push(b),
    stderr: () => undefined,
  });
  return { status, stdout: Buffer.concat(out).toString() };
}

describe("shardFunctions", () => {
  it("splits the address-ordered functions into balanced consecutive runs", () => {
    const plan = planLift("x87-ops", readFileSync(fixture("musl/x87-ops")));
    try {
      for (const count of [1, 2, 3, 7]) {
        const shards = Array.from({ length: count }, (_, i) =>
          shardFunctions(plan.functions, i, count),
        );
        expect(shards.flat()).toEqual(plan.functions);
        // Balanced by weight: no shard exceeds its share by more than one function.
        const weight = (fns: typeof plan.functions): number =>
          fns.reduce((n, fn) => n + liftWeight(fn), 0);
        const biggest = Math.max(...plan.functions.map((fn) => weight([fn])));
        for (const s of shards)
          expect(weight(s)).toBeLessThanOrEqual(weight(plan.functions) / count + biggest);
      }
    } finally {
      plan.dispose();
    }
  });
});

/** Functions as plain data, every instruction's text read (it is a getter). */
function plain(functions: readonly DiscoveredFunction[]): unknown[] {
  return functions.map((fn) => ({
    ...fn,
    blocks: [...fn.blocks.values()].map((b) => ({
      ...b,
      instructions: b.instructions.map((ins) => ({ ...ins, text: ins.text })),
    })),
  }));
}

describe("encodeFunctions", () => {
  it("gives back the decoded functions, instruction text included", () => {
    const bytes = readFileSync(fixture("musl/x87-ops"));
    const plan = planLift("x87-ops", bytes);
    const decoder = new CodeDecoder(guestImageOf("x87-ops", bytes).codeRanges);
    try {
      const textOf = (ip: number): string => decoder.decodeAt(ip)?.text ?? "";
      const encoded = structuredClone(encodeFunctions(plan.functions));
      expect(plain(decodeFunctions(encoded, textOf))).toEqual(plain(plan.functions));
    } finally {
      decoder.dispose();
      plan.dispose();
    }
  });
});

describe("sharded lift", () => {
  it("gives the same bytes for 1, 2 and 3 shards (traps renumbered across shards)", () => {
    const bytes = readFileSync(fixture("musl/x87-ops"));
    const one = liftElf("x87-ops", bytes);
    expect(one.metadata.traps.length).toBeGreaterThan(0);
    for (const count of [2, 3]) {
      const sharded = liftElfInShards("x87-ops", bytes, count);
      expect(Buffer.from(sharded.wasm).equals(Buffer.from(one.wasm))).toBe(true);
      expect(sharded.metadata).toEqual(one.metadata);
      expect(sharded.report.instructions).toBe(one.report.instructions);
    }
    expect(WebAssembly.validate(one.wasm)).toBe(true);
  }, 120_000);

  it("runs like the native program when lifted in 3 shards", async () => {
    const path = fixture("musl/sort-search");
    const bytes = readFileSync(path);
    const native = spawnSync(path, [], { encoding: "utf8" });
    const lifted = await run(liftElfInShards("sort-search", bytes, 3).wasm, bytes, ["sort-search"]);
    expect(lifted.stdout).toBe(native.stdout);
    expect(lifted.status).toBe(native.status);
  }, 120_000);

  it("gives the same bytes from 1 and 2 worker threads as in this thread", async () => {
    // shardCodeBytes 1: even this small fixture gets one shard per worker.
    const bytes = readFileSync(fixture("musl/x87-ops"));
    const local = liftElf("x87-ops", bytes);
    for (const workers of [1, 2]) {
      const dir = join(cacheDir, String(workers));
      const pool = createLiftPool({ workers, shardCodeBytes: 1, cacheDir: dir });
      try {
        const now = await pool.liftNow("x87-ops", bytes);
        expect(Buffer.from(now.wasm).equals(Buffer.from(local.wasm))).toBe(true);
        expect(now.report.functions).toBe(local.report.functions);
        const cached = await pool.lift("x87-ops", bytes);
        expect(cached.fromCache).toBe(false);
        expect(Buffer.from(cached.wasm).equals(Buffer.from(local.wasm))).toBe(true);
      } finally {
        await pool.close();
      }
    }
  }, 300_000);

  it("rejects a file that is not an ELF with its name, through the pool", async () => {
    const pool = createLiftPool({ workers: 2, shardCodeBytes: 1, cacheDir });
    try {
      await expect(
        pool.liftNow("not-elf", new TextEncoder().encode("#!/bin/sh\n")),
      ).rejects.toThrow(/not-elf/);
    } finally {
      await pool.close();
    }
  });
});
