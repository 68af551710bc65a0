// The lift cache (ARCHITECTURE.md "Lifting" 8): lifted modules on disk keyed
// by (BLAKE3 of the ELF file, lifter version), so a binary is lifted once.
// Writes are atomic (temporary file + rename) so concurrent runs are safe.
// A new lift removes the same file's lifts by other lifter versions that no
// run has read for a day (SUPERSEDED_GRACE_MS): this lifter can never read
// them, and busybox's is 15-18 MB each. The grace keeps two installed
// versions that share a cache from deleting each other's lifts on every run
// (measured: a 55 s lift of busybox at each alternate `exec`). A cache hit
// marks its file used (its mtime) at most once an hour.
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { setFlagsFromString } from "node:v8";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { blake3Hex } from "../hash/blake3.js";
import { DEFAULT_OPTIMIZE, LIFTER_VERSION } from "./abi.js";
import type { LiftOptions, LiftReport, LiftResult } from "./lift-elf.js";

let fingerprint: string | undefined;

/**
 * The bundled CLI's fingerprint, written in by scripts/bundle.mjs from the
 * modules it bundled; undefined when running the modules themselves.
 */
declare const MEGALIFT_LIFT_FINGERPRINT: string | undefined;

/** How long a lift by another lifter version is kept after its last use. */
export const SUPERSEDED_GRACE_MS = 24 * 60 * 60 * 1000;
const MARK_USED_EVERY_MS = 60 * 60 * 1000;

/**
 * LIFTER_VERSION plus a hash of the lifter's own code (this directory's
 * modules), so a changed lifter never reuses an old lift even when nobody
 * bumped the version. The bundled CLI has it built in (scripts/bundle.mjs).
 */
export function lifterFingerprint(): string {
  if (fingerprint !== undefined) return fingerprint;
  if (typeof MEGALIFT_LIFT_FINGERPRINT === "string") {
    fingerprint = MEGALIFT_LIFT_FINGERPRINT;
    return fingerprint;
  }
  const root = dirname(fileURLToPath(import.meta.url));
  const files = (readdirSync(root, { recursive: true }) as string[])
    .filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith(".d.ts"))
    .sort();
  const chunks = files.map((f) => readFileSync(join(root, f)));
  fingerprint = `${LIFTER_VERSION}-${blake3Hex(Buffer.concat(chunks)).slice(0, 16)}`;
  return fingerprint;
}

export function defaultLiftCacheDir(): string {
  const base = process.env.MEGALIFT_CACHE_DIR ?? join(homedir(), ".cache", "megalift");
  return join(base, "lift");
}

/** Where the lift cache remembers the BLAKE3 of the files it lifted (file-hash-memo.ts). */
export function fileHashMemoDir(cacheDir: string = defaultLiftCacheDir()): string {
  return join(cacheDir, "file-hashes");
}

export interface CachedLift {
  readonly wasm: Uint8Array;
  readonly fromCache: boolean;
  readonly hash: string;
  /** Present when the lift ran now (not from the cache). */
  readonly report?: LiftReport;
}

export interface LiftCacheOptions extends LiftOptions {
  readonly cacheDir?: string;
  /**
   * What lifts on a miss (default: liftElf in this thread; the lift pool
   * passes its sharded lift, which gives the same bytes).
   */
  readonly lifter?: () => Promise<LiftResult>;
  /** BLAKE3 of bytes (hex) when the caller has it (file-hash-memo.ts); else it is computed. */
  readonly hash?: string;
}

export async function liftWithCache(
  name: string,
  bytes: Uint8Array,
  options: LiftCacheOptions = {},
): Promise<CachedLift> {
  const hash = options.hash ?? blake3Hex(bytes);
  const dir = options.cacheDir ?? defaultLiftCacheDir();
  const file = join(
    dir,
    `${hash}-${lifterFingerprint()}-O${options.optimize ?? DEFAULT_OPTIMIZE}.wasm`,
  );
  try {
    // The Buffer itself (a Uint8Array): copying busybox's 17.8 MB cost 15 ms per exec.
    const wasm = readFileSync(file);
    markUsed(file);
    return { wasm, fromCache: true, hash };
  } catch {
    // not cached yet
  }
  // The lifter (binaryen, iced-x86) loads only on a cache miss: a second run starts fast.
  const result =
    options.lifter !== undefined
      ? await options.lifter()
      : (await import("./lift-elf.js")).liftElf(name, bytes, options);
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, result.wasm);
  renameSync(tmp, file);
  removeSuperseded(dir, hash);
  return { wasm: result.wasm, fromCache: false, hash, report: result.report };
}

/** Sets the file's mtime to now when it is older than an hour (best effort). */
function markUsed(file: string): void {
  try {
    const now = Date.now();
    if (now - statSync(file).mtimeMs > MARK_USED_EVERY_MS) utimesSync(file, now / 1000, now / 1000);
  } catch {
    // a read-only cache still serves lifts
  }
}

/**
 * Removes `hash`'s cached lifts by another lifter fingerprint (any -O level)
 * that have not been used for SUPERSEDED_GRACE_MS.
 */
function removeSuperseded(dir: string, hash: string): void {
  const current = `${hash}-${lifterFingerprint()}-O`;
  const cutoff = Date.now() - SUPERSEDED_GRACE_MS;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(`${hash}-`) || !name.endsWith(".wasm") || name.startsWith(current)) {
      continue;
    }
    const path = join(dir, name);
    try {
      if (statSync(path).mtimeMs < cutoff) rmSync(path, { force: true });
    } catch {
      // removed by a concurrent run
    }
  }
}

let lazyValidation = false;

/**
 * Compiles a module of the lift cache (or one just lifted). binaryen
 * validated it when it was lifted and the cache writes whole files only, so
 * V8 checks each function when it first compiles it, as it compiles them
 * lazily anyway, instead of the whole module up front
 * (--wasm-lazy-validation): busybox's 17.8 MB takes 20 ms instead of 75 ms,
 * on every `exec`. The flag stays on for the rest of the process: V8 aborts
 * if it is turned off while a lazily validated module has functions not yet
 * compiled. An invalid function (a damaged cache file) is then a
 * CompileError when it is first called.
 */
export function compileLifted(wasm: Uint8Array): WebAssembly.Module {
  if (!lazyValidation) {
    setFlagsFromString("--wasm-lazy-validation");
    lazyValidation = true;
  }
  return new WebAssembly.Module(wasm);
}
