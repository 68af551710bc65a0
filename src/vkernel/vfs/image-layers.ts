// The two layers of the image Vfs and the moves between them: finding a
// path (upper first, then the image unless a whiteout or opaque directory
// hides it), deleting with a whiteout, and copying image entries up
// (overlayfs "copy up", Documentation/filesystems/overlayfs.rst) before
// they are written, linked, renamed or have their attributes changed.
import { EINVAL, ENOENT } from "../errno.js";
import { EIO, EOPNOTSUPP, EXDEV } from "./constants.js";
import { ImageInodes } from "./image-inodes.js";
import { lowerType, type LiveUpperNode } from "./image-stat.js";
import type { LowerContent } from "./lower-content.js";
import { MemoryBytes } from "./memory-bytes.js";
import { parentOf } from "./resolve.js";
import { UpperTree, type UpperMeta, type UpperNode } from "./upper-tree.js";
import type { RootfsEntry, RootfsView } from "../../oci/rootfs/types.js";

export type Found =
  | { readonly layer: "upper"; readonly node: LiveUpperNode }
  | { readonly layer: "lower"; readonly entry: RootfsEntry };

export type UpperFile = Extract<UpperNode, { kind: "file" }>;

export class ImageLayers {
  readonly upper = new UpperTree();
  readonly inodes = new ImageInodes();
  private lowerChildren: Map<string, string[]> | undefined;

  constructor(
    readonly view: RootfsView,
    readonly content: LowerContent,
  ) {}

  /** The node at a canonical path: upper first, then the image unless hidden. */
  find(path: string): Found | undefined {
    const node = this.upper.get(path);
    if (node !== undefined) return node.kind === "whiteout" ? undefined : { layer: "upper", node };
    if (this.upper.hidesLowerBelow(path)) return undefined;
    const entry = this.view.lstat(path);
    return entry === undefined ? undefined : { layer: "lower", entry };
  }

  /** Deletes whatever is at `path`, leaving a whiteout if the image has an entry there. */
  remove(path: string): void {
    if (this.view.lstat(path) !== undefined) this.upper.set(path, { kind: "whiteout" });
    else this.upper.delete(path);
  }

  /** The upper node a rename moves: image files and symlinks are copied up; image directories are EXDEV. */
  movable(path: string, found: Found): UpperNode | number {
    if (found.layer === "upper") {
      // A copied-up image directory still shows the image's children, which
      // cannot move with it: the same EXDEV as for the image directory.
      const { node } = found;
      const merged =
        node.kind === "directory" && !node.opaque && this.view.lstat(path) !== undefined;
      return merged ? -EXDEV : node;
    }
    const { entry } = found;
    // overlayfs without redirect_dir refuses to rename a lower directory
    // (EXDEV), and mv(1) then copies: the same contract here.
    if (entry.type === "directory") return -EXDEV;
    if (entry.type === "symlink") {
      return { kind: "symlink", target: entry.linkTarget ?? "", meta: this.lowerMeta(path, entry) };
    }
    if (lowerType(entry) !== "file") return -EXDEV;
    return this.copyUp(path);
  }

  /**
   * The upper node at `path`, copying an image file, symlink or directory
   * up first (a directory's copy is not opaque: its image children stay).
   */
  copiedUp(path: string, found: Found): LiveUpperNode | number {
    if (found.layer === "upper") return found.node;
    const { entry } = found;
    const meta = this.lowerMeta(path, entry);
    let node: LiveUpperNode;
    if (entry.type === "directory") node = { kind: "directory", opaque: false, meta };
    else if (entry.type === "symlink")
      node = { kind: "symlink", target: entry.linkTarget ?? "", meta };
    else if (lowerType(entry) === "file") return this.copyUp(path);
    // Device nodes and fifos have no upper form here.
    else return -EOPNOTSUPP;
    this.upper.set(path, node);
    return node;
  }

  /** The upper copy of a regular file, made from the image's bytes on first write. */
  copyUp(path: string): UpperFile | number {
    const found = this.find(path);
    if (found === undefined) return -ENOENT;
    if (found.layer === "upper") return found.node.kind === "file" ? found.node : -EINVAL;
    const { entry } = found;
    if (entry.content === undefined) return -EINVAL;
    let bytes: Uint8Array;
    try {
      bytes = this.content.read(entry.content, 0, entry.content.size);
    } catch {
      return -EIO;
    }
    const file: UpperFile = {
      kind: "file",
      bytes: new MemoryBytes(bytes),
      meta: this.lowerMeta(path, entry),
    };
    this.upper.set(path, file);
    return file;
  }

  lowerNamesIn(dir: string): readonly string[] {
    if (this.lowerChildren === undefined) {
      // One pass over the sorted entries, on the first readdir: each list comes out sorted.
      const children = new Map<string, string[]>();
      for (const entry of this.view.entries()) {
        if (entry.path === "/") continue;
        const { dir: parent, name } = parentOf(entry.path);
        const names = children.get(parent);
        if (names === undefined) children.set(parent, [name]);
        else names.push(name);
      }
      this.lowerChildren = children;
    }
    return this.lowerChildren.get(dir) ?? [];
  }

  lowerMeta(path: string, entry: RootfsEntry): UpperMeta {
    const mtimeMs = entry.mtime * 1000;
    return {
      permissions: entry.mode,
      uid: entry.uid,
      gid: entry.gid,
      atimeMs: mtimeMs,
      mtimeMs,
      ctimeMs: mtimeMs,
      ino: this.inodes.of(path),
      links: 1,
    };
  }
}
