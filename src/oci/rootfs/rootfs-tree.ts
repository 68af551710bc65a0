// The mutable directory tree the flattener builds layer by layer: entries
// only (metadata and content references, never bytes), with the operations
// extraction needs — place an entry, remove a subtree, empty a directory,
// and find the real directory a parent path leads to through symlinks.
import { MegaliftError } from "../../errors.js";
import { walkPath, type NodeKind } from "./path-walk.js";
import { pathComponents } from "./paths.js";
import type { RootfsEntry } from "./types.js";

interface TreeNode {
  entry: RootfsEntry;
  /** Present exactly when the entry is a directory. */
  children: Map<string, TreeNode> | undefined;
}

/** A directory nobody declared: created because an entry below it needs it (root, 0755). */
export function impliedDirectory(path: string, layer: number): RootfsEntry {
  return { path, type: "directory", mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0, layer };
}

export class RootfsTree {
  private readonly root: TreeNode = {
    entry: impliedDirectory("/", 0),
    children: new Map(),
  };

  /** The entry at exactly `path` (absolute, normalised), following no symlink. */
  lstat(path: string): RootfsEntry | undefined {
    return this.node(path)?.entry;
  }

  /** What is at `path`, for path-walk. */
  readonly kind = (path: string): NodeKind => {
    const entry = this.node(path)?.entry;
    if (entry === undefined) return { kind: "missing" };
    if (entry.type === "directory") return { kind: "directory" };
    if (entry.type === "symlink") return { kind: "symlink", target: entry.linkTarget ?? "" };
    return { kind: "other" };
  };

  /**
   * The real directory that `dir` names, following symlinks in every
   * component as extraction into a real root would, and refusing (PATH_ESCAPE)
   * to go through a link that climbs above the root. With `createAt` set,
   * missing directories are created as implied ones of that layer and a
   * non-directory in the way is LAYER_CORRUPT; without it the answer is
   * undefined when `dir` does not lead to a directory.
   */
  resolveDirectory(dir: string, what: string, createAt?: number): string | undefined {
    // Each round either finishes or creates one missing directory, so this ends.
    while (true) {
      const result = walkPath(dir, { lookup: this.kind, followFinal: true, climb: "reject", what });
      if (result.status === "found") {
        if (this.kind(result.path).kind === "directory") return result.path;
        if (createAt === undefined) return undefined;
        throw notADirectory(what, result.path);
      }
      if (createAt === undefined) return undefined;
      if (result.status === "notdir") throw notADirectory(what, result.path);
      this.put(impliedDirectory(result.path, createAt));
    }
  }

  /**
   * Puts `entry` at entry.path, whose parent must be a directory. A
   * directory over a directory keeps the children (a merge, as overlayfs
   * merges directories); anything else replaces the old node and its subtree.
   */
  put(entry: RootfsEntry): void {
    if (entry.path === "/") {
      if (entry.type !== "directory") {
        throw new MegaliftError(
          "LAYER_CORRUPT",
          `the image root must be a directory, not a ${entry.type}`,
        );
      }
      this.root.entry = entry;
      return;
    }
    const { parent, name } = this.parentOf(entry.path);
    const children = parent?.children;
    if (children === undefined) {
      throw new MegaliftError("LAYER_CORRUPT", `no directory to hold ${entry.path}`);
    }
    const old = children.get(name);
    if (old?.children !== undefined && entry.type === "directory") {
      old.entry = entry;
      return;
    }
    children.set(name, { entry, children: entry.type === "directory" ? new Map() : undefined });
  }

  /** Removes the entry at `path` and everything below it; true if something was there. */
  remove(path: string): boolean {
    const { parent, name } = this.parentOf(path);
    return parent?.children?.delete(name) ?? false;
  }

  /** Removes every child of the directory at `path` (the directory stays). */
  clearDirectory(path: string): void {
    this.node(path)?.children?.clear();
  }

  /** Every entry, parents before children (unsorted within a directory). */
  *entries(): IterableIterator<RootfsEntry> {
    const stack: TreeNode[] = [this.root];
    while (stack.length > 0) {
      const node = stack.pop() as TreeNode;
      yield node.entry;
      if (node.children !== undefined) stack.push(...node.children.values());
    }
  }

  private node(path: string): TreeNode | undefined {
    let node: TreeNode | undefined = this.root;
    for (const name of pathComponents(path)) {
      node = node.children?.get(name);
      if (node === undefined) return undefined;
    }
    return node;
  }

  private parentOf(path: string): { parent: TreeNode | undefined; name: string } {
    const names = pathComponents(path);
    const name = names.pop() ?? "";
    return { parent: this.node("/" + names.join("/")), name };
  }
}

function notADirectory(what: string, path: string): MegaliftError {
  return new MegaliftError("LAYER_CORRUPT", `${what}: ${path} is not a directory`);
}
