// The lift cache: a second lift of the same bytes comes from disk, and a new
// lift removes that file's lifts by other lifter versions unused for a day,
// nothing else; a cache hit marks its file used.
// compileLifted leaves validation to the first call of each function.
import { existsSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { blake3Hex } from "../../src/hash/blake3.js";
import {
  compileLifted,
  lifterFingerprint,
  liftWithCache,
  SUPERSEDED_GRACE_MS,
} from "../../src/lift/lift-cache.js";
import type { LiftResult } from "../../src/lift/lift-elf.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-lift-cache-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("liftWithCache", () => {
  it("lifts once, then reads the cache, and drops the file's unused lifts by other versions", async () => {
    const bytes = new TextEncoder().encode("an ELF, as far as this test cares");
    const hash = blake3Hex(bytes);
    const other = blake3Hex(new TextEncoder().encode("another file"));
    const stale = join(dir, `${hash}-0.0.1-old-0123456789abcdef-O1.wasm`);
    const staleO0 = join(dir, `${hash}-0.0.1-old-0123456789abcdef-O0.wasm`);
    // Another installed version that read its lift an hour ago keeps it.
    const recent = join(dir, `${hash}-0.0.2-other-fedcba9876543210-O1.wasm`);
    const sameVersionO0 = join(dir, `${hash}-${lifterFingerprint()}-O0.wasm`);
    const otherFile = join(dir, `${other}-0.0.1-old-0123456789abcdef-O1.wasm`);
    for (const f of [stale, staleO0, recent, sameVersionO0, otherFile]) writeFileSync(f, "x");
    const secondsAgo = (ms: number): number => (Date.now() - ms) / 1000;
    for (const f of [stale, staleO0, sameVersionO0, otherFile]) {
      utimesSync(
        f,
        secondsAgo(SUPERSEDED_GRACE_MS + 60_000),
        secondsAgo(SUPERSEDED_GRACE_MS + 60_000),
      );
    }
    utimesSync(recent, secondsAgo(3_600_000), secondsAgo(3_600_000));
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
    expect(existsSync(recent)).toBe(true);
    expect(existsSync(sameVersionO0)).toBe(true);
    expect(existsSync(otherFile)).toBe(true);
    // A hit on a lift last used two days ago marks it used now.
    const cached = join(dir, `${hash}-${lifterFingerprint()}-O1.wasm`);
    const twoDaysAgo = secondsAgo(2 * SUPERSEDED_GRACE_MS);
    utimesSync(cached, twoDaysAgo, twoDaysAgo);
    const second = await liftWithCache("t", bytes, { cacheDir: dir, optimize: 1, lifter });
    expect(second.fromCache).toBe(true);
    expect([...second.wasm]).toEqual([...wasm]);
    expect(lifts).toBe(1);
    expect(Date.now() - statSync(cached).mtimeMs).toBeLessThan(60_000);
  });
});

describe("compileLifted", () => {
  // (module (func (result i32) i32.const 7)), and the same with a body that
  // adds with nothing on the stack.
  const head = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7f, 3, 2, 1, 0];
  const exported = [7, 5, 1, 1, 0x66, 0, 0];
  const valid = Uint8Array.from([...head, ...exported, 10, 6, 1, 4, 0, 0x41, 7, 0x0b]);
  const invalid = Uint8Array.from([...head, ...exported, 10, 5, 1, 3, 0, 0x6a, 0x0b]);

  it("gives a module that runs, and an invalid function is a CompileError at its first call", () => {
    const module = compileLifted(valid);
    const f = new WebAssembly.Instance(module, {}).exports.f as () => number;
    expect(f()).toBe(7);
    const damaged = compileLifted(invalid);
    const g = new WebAssembly.Instance(damaged, {}).exports.f as () => number;
    expect(() => g()).toThrow(WebAssembly.CompileError);
  });
});
