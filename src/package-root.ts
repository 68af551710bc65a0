// Locates the package root (the directory holding package.json), so schemas/
// and fixtures/ are found both from src/ (vitest) and from dist/src/ (built CLI).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

export function packageRoot(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("megalift: cannot find package.json above " + dir);
    dir = parent;
  }
  cached = dir;
  return dir;
}
