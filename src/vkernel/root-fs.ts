// Guest paths → host paths under the root directory (ARCHITECTURE.md
// "vkernel": paths and symlinks never leave the image root). ".." stops at
// the root, and a symlink that resolves outside it is refused with EACCES.
import { realpathSync } from "node:fs";
import { dirname, join, posix, relative, isAbsolute } from "node:path";
import { EACCES } from "./errno.js";

export class RootFs {
  readonly root: string;
  cwd = "/";

  constructor(root: string) {
    this.root = realpathSync(root);
  }

  /** The normalised absolute guest path of `path` (relative to cwd, or to `dir` when given). */
  guestPath(path: string, dir?: string): string {
    const base = path.startsWith("/") ? "/" : (dir ?? this.cwd);
    return posix.normalize(posix.join("/", base, path));
  }

  /** The host path for a guest path, or -EACCES when it would leave the root. */
  hostPath(path: string, dir?: string): string | number {
    const host = join(this.root, this.guestPath(path, dir));
    // Check the deepest existing ancestor: symlinks in it must stay inside the root.
    let probe = host;
    for (;;) {
      try {
        const real = realpathSync(probe);
        const rel = relative(this.root, real);
        if (rel.startsWith("..") || isAbsolute(rel)) return -EACCES;
        return host;
      } catch {
        const parent = dirname(probe);
        if (parent === probe) return host;
        probe = parent;
      }
    }
  }
}
