// The lift cache: a second lift of the same bytes comes from disk, and a new
// lift removes that file's lifts by other lifter versions, nothing else.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { blake3Hex } from "../../src/hash/blake3.js";
import { lifterFingerprint, liftWithCache } from "../../src/lift/lift-cache.js";
import type { LiftResult } from "../../src/lift/lift-elf.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-lift-cache-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("liftWithCache", () => {
  it("lifts once, then reads the cache, and drops the file's lifts by other versions", async () => {
    const bytes = new TextEncoder().encode("an ELF, as far as this test cares");
    const hash = blake3Hex(bytes);
    const other = blake3Hex(new TextEncoder().encode("another file"));
    const stale = join(dir, `${hash}-0.0.1-old-0123456789abcdef-O1.wasm`);
    const staleO0 = join(dir, `${hash}-0.0.1-old-0123456789abcdef-O0.wasm`);
    const sameVersionO0 = join(dir, `${hash}-${lifterFingerprint()}-O0.wasm`);
    const otherFile = join(dir, `${other}-0.0.1-old-0123456789abcdef-O1.wasm`);
    for (const f of [stale, staleO0, sameVersionO0, otherFile]) writeFileSync(f, "x");
    let lifts = 0;
    const wasm = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
    const lifter = (): Promise<LiftResult> => {
      lifts++;
      return Promise.resolve({ wasm } as unknown as LiftResult);
    };
    const first = await liftWithCache("t", bytes, { cacheDir: dir, optimize: 1, lifter });
    expect(first.fromCache).toBe(false);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(staleO0)).toBe(false);
    expect(existsSync(sameVersionO0)).toBe(true);
    expect(existsSync(otherFile)).toBe(true);
    const second = await liftWithCache("t", bytes, { cacheDir: dir, optimize: 1, lifter });
    expect(second.fromCache).toBe(true);
    expect([...second.wasm]).toEqual([...wasm]);
    expect(lifts).toBe(1);
  });
});
