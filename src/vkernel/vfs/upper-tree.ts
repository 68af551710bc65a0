// The image Vfs's writable upper layer, in memory: files, directories and
// symlinks created or copied up by the guest, and whiteouts that hide the
// image's (lower) entries the guest deleted — the model of overlayfs
// (Documentation/filesystems/overlayfs.rst "whiteouts and opaque
// directories"). An opaque directory hides every lower entry beneath it.
import type { MemoryBytes } from "./memory-bytes.js";

/** What stat(2) reports for an upper node that the node itself keeps. */
export interface UpperMeta {
  permissions: number;
  readonly uid: number;
  readonly gid: number;
  mtimeMs: number;
  readonly ino: number;
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
