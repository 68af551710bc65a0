// The image Vfs's writable upper layer, in memory: files, directories and
// symlinks created or copied up by the guest, and whiteouts that hide the
// image's (lower) entries the guest deleted — the model of overlayfs
// (Documentation/filesystems/overlayfs.rst "whiteouts and opaque
// directories"). An opaque directory hides every lower entry beneath it.
import { PERMISSION_BITS, S_ISGID, S_ISUID, S_IXGRP } from "./constants.js";
import type { MemoryBytes } from "./memory-bytes.js";
import type { AttributeChange } from "./types.js";

/**
 * What stat(2) reports for an upper node that the node itself keeps: the
 * inode. Paths that are hard links (link(2)) share one node and so one meta.
 */
export interface UpperMeta {
  permissions: number;
  uid: number;
  gid: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  readonly ino: number;
  /** st_nlink of a file or symlink: how many paths name it. */
  links: number;
}

/**
 * Applies chmod(2)/chown(2)/utimensat(2) to an inode. Any change sets
 * st_ctime (inode(7)); a chown of a non-directory clears set-user-ID, and
 * set-group-ID when group execute is set, even for root (chown(2) NOTES,
 * since Linux 2.2.13: the kernel's setattr_should_drop_suidgid()).
 */
export function changeMeta(
  meta: UpperMeta,
  change: AttributeChange,
  isDirectory: boolean,
  now: number,
): void {
  if (change.mode !== undefined) meta.permissions = change.mode & PERMISSION_BITS;
  if (change.uid !== undefined || change.gid !== undefined) {
    if (change.uid !== undefined) meta.uid = change.uid;
    if (change.gid !== undefined) meta.gid = change.gid;
    if (!isDirectory) {
      let drop = S_ISUID;
      if ((meta.permissions & S_IXGRP) !== 0) drop |= S_ISGID;
      meta.permissions &= ~drop;
    }
  }
  if (change.atimeMs !== undefined) meta.atimeMs = change.atimeMs;
  if (change.mtimeMs !== undefined) meta.mtimeMs = change.mtimeMs;
  meta.ctimeMs = now;
}

export type UpperNode =
  | { readonly kind: "file"; readonly bytes: MemoryBytes; readonly meta: UpperMeta }
  | { readonly kind: "directory"; readonly opaque: boolean; readonly meta: UpperMeta }
  | { readonly kind: "symlink"; readonly target: string; readonly meta: UpperMeta }
  | { readonly kind: "whiteout" };

export class UpperTree {
  private readonly nodes = new Map<string, UpperNode>();
  /** Directory path → names of upper nodes (whiteouts included) directly in it. */
  private readonly children = new Map<string, Set<string>>();

  get(path: string): UpperNode | undefined {
    return this.nodes.get(path);
  }

  set(path: string, node: UpperNode): void {
    this.nodes.set(path, node);
    const { dir, name } = split(path);
    let names = this.children.get(dir);
    if (names === undefined) this.children.set(dir, (names = new Set()));
    names.add(name);
  }

  delete(path: string): void {
    if (!this.nodes.delete(path)) return;
    const { dir, name } = split(path);
    this.children.get(dir)?.delete(name);
  }

  /** Names of the upper nodes directly in `dir`, whiteouts included. */
  names(dir: string): readonly string[] {
    return [...(this.children.get(dir) ?? [])];
  }

  /** Paths of every upper node strictly beneath `dir`. */
  descendants(dir: string): string[] {
    const prefix = dir === "/" ? "/" : `${dir}/`;
    return [...this.nodes.keys()].filter((p) => p !== dir && p.startsWith(prefix));
  }

  /** Bytes held by upper files and the number of distinct upper inodes (statfs(2)). */
  usage(): { bytes: number; nodes: number } {
    const seen = new Set<UpperMeta>();
    let bytes = 0;
    for (const node of this.nodes.values()) {
      if (node.kind === "whiteout" || seen.has(node.meta)) continue;
      seen.add(node.meta);
      if (node.kind === "file") bytes += node.bytes.size;
    }
    return { bytes, nodes: seen.size };
  }

  /**
   * True when an upper node above `path` hides the image's entries beneath
   * it: an opaque directory, or anything that is not a directory.
   */
  hidesLowerBelow(path: string): boolean {
    for (let at = path.lastIndexOf("/"); at > 0; at = path.lastIndexOf("/", at - 1)) {
      const node = this.nodes.get(path.slice(0, at));
      if (node !== undefined && (node.kind !== "directory" || node.opaque)) return true;
    }
    return false;
  }
}

function split(path: string): { dir: string; name: string } {
  const at = path.lastIndexOf("/");
  return { dir: at <= 0 ? "/" : path.slice(0, at), name: path.slice(at + 1) };
}
