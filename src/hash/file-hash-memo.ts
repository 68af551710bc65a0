// A file's BLAKE3, remembered across runs by the file's identity and version
// (device, inode, size, mtime and ctime in nanoseconds), as git's index
// remembers what it hashed. `megalift exec` of a program lifted before then
// neither loads the hasher nor hashes the file (measured on busybox's 2 MB:
// about 20 ms of a 170 ms start, half loading blake3-wasm, half hashing).
//
// Why it cannot answer wrong: user space cannot set a file's ctime, and any
// write, chmod, rename over or truncation sets it to the current time, so
// a changed file never matches what was remembered. Timestamps tick
// coarsely (a few ms on ext4), so a file changed within a tick of being
// remembered could keep its version: a file is remembered only when its ctime
// is SETTLED_NS old (git's "racily clean" rule). The bytes returned are the
// ones hashed or matched: the file is read between two fstat calls on the same
// descriptor and a version that changed meanwhile is hashed, never looked up.
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  type BigIntStats,
} from "node:fs";
import { join } from "node:path";
import { blake3Hex } from "./blake3.js";

const SETTLED_NS = 2_000_000_000n;
const HEX64 = /^[0-9a-f]{64}$/;

export interface HashedFile {
  readonly bytes: Buffer;
  /** BLAKE3 of bytes, 64 lowercase hex digits. */
  readonly hash: string;
  /** True when the hash came from the memo, not from hashing. */
  readonly remembered: boolean;
}

function version(st: BigIntStats): string {
  return `${st.size} ${st.mtimeNs} ${st.ctimeNs}`;
}

/**
 * Reads `path` and its BLAKE3, from the memo in `memoDir` when it holds this
 * version of the file; remembers a newly hashed version there (best effort:
 * a read-only or missing memo directory only costs the hashing).
 * `settledNs` (tests) replaces SETTLED_NS.
 */
export function readFileHashed(
  path: string,
  memoDir: string,
  options: { readonly settledNs?: bigint } = {},
): HashedFile {
  const fd = openSync(path, "r");
  let before: BigIntStats;
  let after: BigIntStats;
  let bytes: Buffer;
  try {
    before = fstatSync(fd, { bigint: true });
    bytes = readFileSync(fd);
    after = fstatSync(fd, { bigint: true });
  } finally {
    closeSync(fd);
  }
  const current = version(before);
  const stable = current === version(after);
  const memo = join(memoDir, `${before.dev}-${before.ino}`);
  if (stable) {
    try {
      const [remembered, hash] = readFileSync(memo, "utf8").split("\n");
      if (remembered === current && hash !== undefined && HEX64.test(hash)) {
        return { bytes, hash, remembered: true };
      }
    } catch {
      // not remembered yet
    }
  }
  const hash = blake3Hex(bytes);
  const now = BigInt(Date.now()) * 1_000_000n;
  if (stable && before.ctimeNs <= now - (options.settledNs ?? SETTLED_NS)) {
    try {
      mkdirSync(memoDir, { recursive: true });
      const tmp = `${memo}.${process.pid}.tmp`;
      writeFileSync(tmp, `${current}\n${hash}\n`);
      renameSync(tmp, memo);
    } catch {
      // remembering is an optimisation
    }
  }
  return { bytes, hash, remembered: false };
}
