// Path resolution inside an image root, shared by the flattener (where does
// a tar entry land?) and the view (what does a path name?). It follows
// path_resolution(7): components are looked up one by one, a symlink in a
// non-final component is always followed (and the final one unless told
// not to), an absolute target restarts at the root, and more than 40
// symlinks is ELOOP (symlink(7), MAXSYMLINKS). The image root is the root:
// ".." at "/" either stays there (a chroot; the view) or is refused as an
// escape (the flattener, which must not extract through such a link).
import { MegaliftError } from "../../errors.js";
import { joinComponents, pathComponents } from "./paths.js";

/** Linux MAXSYMLINKS (path_resolution(7)). */
export const MAX_SYMLINKS = 40;

/** What a path names, without following a symlink at that path. */
export type NodeKind =
  | { readonly kind: "directory" }
  | { readonly kind: "symlink"; readonly target: string }
  | { readonly kind: "other" }
  | { readonly kind: "missing" };

export interface WalkOptions {
  /** What is at an absolute normalised path (lstat). */
  readonly lookup: (path: string) => NodeKind;
  /** Follow a symlink in the final component (stat) rather than not (lstat). */
  readonly followFinal: boolean;
  /** ".." at the root: "clamp" stays at the root, "reject" throws PATH_ESCAPE. */
  readonly climb: "clamp" | "reject";
  /** Names the path being resolved in error messages ("layer X entry Y"). */
  readonly what: string;
}

export type WalkResult =
  /** Every component exists; `path` is the resolved absolute path. */
  | { readonly status: "found"; readonly path: string }
  /** `path` (a prefix after resolution) does not exist; `remaining` components follow it. */
  | { readonly status: "missing"; readonly path: string; readonly remaining: readonly string[] }
  /** `path` exists but is neither a directory nor a symlink, and more components follow (ENOTDIR). */
  | { readonly status: "notdir"; readonly path: string };

/** Resolves `path` (absolute or relative to the root) within the image root. */
export function walkPath(path: string, options: WalkOptions): WalkResult {
  // `todo` is a stack of components still to resolve, top = next; `done`
  // holds the resolved components so far (always a real directory path).
  const todo = pathComponents(path).reverse();
  const done: string[] = [];
  let symlinks = 0;
  while (todo.length > 0) {
    const name = todo.pop() as string;
    if (name === "..") {
      if (done.length > 0) done.pop();
      else if (options.climb === "reject") {
        throw new MegaliftError(
          "PATH_ESCAPE",
          `${options.what}: path ${JSON.stringify(path)} climbs above the image root through a symlink`,
        );
      }
      continue;
    }
    const here = joinComponents([...done, name]);
    const node = options.lookup(here);
    const isLast = todo.length === 0;
    switch (node.kind) {
      case "missing":
        return { status: "missing", path: here, remaining: [...todo].reverse() };
      case "symlink":
        if (isLast && !options.followFinal) break;
        if (++symlinks > MAX_SYMLINKS) {
          throw new MegaliftError(
            "PATH_ESCAPE",
            `${options.what}: too many levels of symbolic links resolving ${JSON.stringify(path)} (ELOOP after ${MAX_SYMLINKS})`,
          );
        }
        // An empty target names nothing (path_resolution(7): ENOENT).
        if (node.target === "") {
          return { status: "missing", path: here, remaining: [...todo].reverse() };
        }
        // symlink(7): an absolute target is taken from the (image) root, a
        // relative one from the directory holding the link.
        if (node.target.startsWith("/")) done.length = 0;
        todo.push(...pathComponents(node.target).reverse());
        continue;
      case "other":
        if (!isLast) return { status: "notdir", path: here };
        break;
      case "directory":
        break;
    }
    done.push(name);
  }
  return { status: "found", path: joinComponents(done) };
}
