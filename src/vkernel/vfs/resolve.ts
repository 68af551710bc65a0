// Guest path resolution as path_resolution(7) describes it, with the guest
// root as the root: components are looked up one at a time, ".." at "/"
// stays at "/", a symlink in a non-final component is always followed (the
// final one unless told not to), an absolute target restarts at the root and
// a relative one at the link's directory, and more than 40 symlinks is
// ELOOP (symlink(7), MAXSYMLINKS). So no path ever leaves the root.
import { ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR } from "../errno.js";
import { typeOfMode } from "./constants.js";
import type { VfsStat } from "./types.js";

export const MAX_SYMLINKS = 40;
/** NAME_MAX and PATH_MAX (limits.h). */
const NAME_MAX = 255;
const PATH_MAX = 4096;

/** lstat and readlink over the whole (mounted) tree, at resolved paths. */
export interface PathLookup {
  lstat(path: string): VfsStat | number;
  readlink(path: string): string | number;
}

export type Resolved =
  /** The path names an existing node (a symlink only when not followed). */
  | { readonly path: string; readonly stat: VfsStat }
  /** Everything but the final component exists; it does not (for O_CREAT, mkdir, …). */
  | { readonly path: string; readonly stat: undefined };

export interface ResolveOptions {
  /** Follow a symlink in the final component (stat) or not (lstat, unlink). */
  readonly followFinal: boolean;
  /** Where a relative path starts. */
  readonly base?: string;
}

/** The canonical path `path` names, or -errno (ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG). */
export function resolvePath(
  lookup: PathLookup,
  path: string,
  options: ResolveOptions,
): Resolved | number {
  if (path === "") return -ENOENT;
  if (path.length >= PATH_MAX) return -ENAMETOOLONG;
  const start = path.startsWith("/") ? [] : split(options.base ?? "/");
  // A trailing slash makes the final component a directory that is followed
  // (path_resolution(7) "Trailing slashes"): "name/" resolves as "name/.".
  const todo = split(path);
  if (path.endsWith("/") && todo.length > 0) todo.push(".");
  todo.reverse();
  const done = [...start];
  let here: VfsStat | undefined;
  let symlinks = 0;
  while (todo.length > 0) {
    const name = todo.pop() as string;
    const isLast = todo.length === 0;
    if (name === "." || name === "..") {
      if (name === ".." && done.length > 0) done.pop();
      here = undefined;
      continue;
    }
    if (name.length > NAME_MAX) return -ENAMETOOLONG;
    const at = join([...done, name]);
    const stat = lookup.lstat(at);
    if (typeof stat === "number") {
      if (stat === -ENOENT && isLast) return { path: at, stat: undefined };
      return stat;
    }
    const type = typeOfMode(stat.mode);
    if (type === "symlink" && (!isLast || options.followFinal)) {
      if (++symlinks > MAX_SYMLINKS) return -ELOOP;
      const target = lookup.readlink(at);
      if (typeof target === "number") return target;
      if (target === "") return -ENOENT;
      if (target.startsWith("/")) done.length = 0;
      todo.push(...split(target).reverse());
      // The link's own trailing slash, if any, changes nothing: its name
      // was already followed as a directory or a final component.
      here = undefined;
      continue;
    }
    if (!isLast && type !== "directory") return -ENOTDIR;
    done.push(name);
    here = stat;
  }
  const final = join(done);
  if (here === undefined) {
    const stat = lookup.lstat(final);
    if (typeof stat === "number") return stat;
    here = stat;
  }
  return { path: final, stat: here };
}

function split(path: string): string[] {
  return path.split("/").filter((c) => c !== "");
}

function join(components: readonly string[]): string {
  return `/${components.join("/")}`;
}

/** The directory holding an absolute canonical path, and its last component. */
export function parentOf(path: string): { dir: string; name: string } {
  const at = path.lastIndexOf("/");
  return { dir: at <= 0 ? "/" : path.slice(0, at), name: path.slice(at + 1) };
}
