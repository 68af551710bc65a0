// Looks into the proxy's cache directory from outside, knowing nothing of its
// layout: which files hold a given blob's bytes, or only a prefix of them.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** Every regular file under dir (none when dir does not exist). */
export function filesUnder(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat?.isDirectory()) return filesUnder(path);
    return stat?.isFile() ? [path] : [];
  });
}

/** Files under dir whose whole content is exactly `bytes`. */
export function filesHolding(dir: string, bytes: Uint8Array): string[] {
  const want = createHash("sha256").update(bytes).digest("hex");
  return filesUnder(dir).filter(
    (path) =>
      statSync(path).size === bytes.length &&
      createHash("sha256").update(readFileSync(path)).digest("hex") === want,
  );
}

/** Files under dir holding a strict, non-empty prefix of `bytes`: partial downloads. */
export function filesHoldingPartial(dir: string, bytes: Uint8Array): string[] {
  return filesUnder(dir).filter((path) => {
    const size = statSync(path).size;
    if (size === 0 || size >= bytes.length) return false;
    return Buffer.from(bytes.subarray(0, size)).equals(readFileSync(path));
  });
}
