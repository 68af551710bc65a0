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

/**
 * A file's content, or undefined when it is gone: the proxy removes its
 * temporary files while a test looks (a file removed holds nothing).
 */
function contentOf(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** A file's size, or undefined when it is gone. */
function sizeOf(path: string): number | undefined {
  return statSync(path, { throwIfNoEntry: false })?.size;
}

/** Files under dir whose whole content is exactly `bytes`. */
export function filesHolding(dir: string, bytes: Uint8Array): string[] {
  const want = createHash("sha256").update(bytes).digest("hex");
  return filesUnder(dir).filter((path) => {
    if (sizeOf(path) !== bytes.length) return false;
    const content = contentOf(path);
    return content !== undefined && createHash("sha256").update(content).digest("hex") === want;
  });
}

/** Files under dir holding a strict, non-empty prefix of `bytes`: partial downloads. */
export function filesHoldingPartial(dir: string, bytes: Uint8Array): string[] {
  return filesUnder(dir).filter((path) => {
    const size = sizeOf(path);
    if (size === undefined || size === 0 || size >= bytes.length) return false;
    const content = contentOf(path);
    return content !== undefined && Buffer.from(bytes.subarray(0, content.length)).equals(content);
  });
}
