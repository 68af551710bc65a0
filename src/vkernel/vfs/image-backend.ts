// An image's flattened rootfs (RootfsView, read-only, read lazily) under a
// writable in-memory upper layer, like overlayfs (Documentation/
// filesystems/overlayfs.rst): writing to an image file copies it up first,
// deleting an image entry leaves a whiteout, a directory made where an image
// entry was is opaque, and readdir merges both layers. Stat values carry the
// image entry's mode, owner and mtime; st_ino is stable per path.
import { EINVAL, ENOENT, ENOTEMPTY } from "../errno.js";
import { EIO, ENXIO, EXDEV, makeStat, makedev } from "./constants.js";
import { ImageInodes } from "./image-inodes.js";
import { LowerFileNode, MemoryFileNode } from "./image-nodes.js";
import type { LowerContent } from "./lower-content.js";
import { MemoryBytes } from "./memory-bytes.js";
import { parentOf } from "./resolve.js";
import { UpperTree, type UpperMeta, type UpperNode } from "./upper-tree.js";
import type { RootfsEntry, RootfsView } from "../../oci/rootfs/types.js";
import type { DirEntry, FsBackend, NodeType, OpenIntent, VfsNode, VfsStat } from "./types.js";

/** st_dev of the image filesystem (an anonymous device, as overlayfs has). */
const IMAGE_DEV = 0x2a;

type Found =
  | { readonly layer: "upper"; readonly node: Exclude<UpperNode, { kind: "whiteout" }> }
  | { readonly layer: "lower"; readonly entry: RootfsEntry };

type UpperFile = Extract<UpperNode, { kind: "file" }>;

export interface ImageBackendOptions {
  /** The clock for new and written upper files (ms since the epoch). */
  readonly now?: () => number;
}

export class ImageBackend implements FsBackend {
  private readonly upper = new UpperTree();
  private readonly inodes = new ImageInodes();
  private lowerChildren: Map<string, string[]> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly view: RootfsView,
    private readonly content: LowerContent,
    options: ImageBackendOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  lstat(path: string): VfsStat | number {
    const found = this.find(path);
    return found === undefined ? -ENOENT : this.statOf(path, found);
  }

  readlink(path: string): string | number {
    const found = this.find(path);
    if (found === undefined) return -ENOENT;
    if (found.layer === "upper") return found.node.kind === "symlink" ? found.node.target : -EINVAL;
    return found.entry.type === "symlink" ? (found.entry.linkTarget ?? "") : -EINVAL;
  }

  readdir(path: string): readonly DirEntry[] | number {
    const found = this.find(path);
    if (found === undefined) return -ENOENT;
    const byName = new Map<string, DirEntry>();
    // An image directory shows its image entries; an upper one only when
    // it is not opaque and nothing above it hides the image there.
    const lowerVisible =
      found.layer === "lower" ||
      (found.node.kind === "directory" && !found.node.opaque && !this.upper.hidesLowerBelow(path));
    if (lowerVisible) {
      for (const name of this.lowerNamesIn(path)) {
        const child = join(path, name);
        const entry = this.view.lstat(child);
        if (this.upper.get(child) === undefined && entry !== undefined) {
          byName.set(name, { name, ino: this.inodes.of(child), type: lowerType(entry) });
        }
      }
    }
    for (const name of this.upper.names(path)) {
      const node = this.upper.get(join(path, name));
      if (node === undefined || node.kind === "whiteout") continue;
      byName.set(name, { name, ino: node.meta.ino, type: node.kind });
    }
    return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  open(path: string, intent: OpenIntent): VfsNode | number {
    const found = this.find(path);
    if (found === undefined) return -ENOENT;
    const kind = found.layer === "upper" ? found.node.kind : lowerType(found.entry);
    if (kind !== "file") return -ENXIO;
    if (found.layer === "lower" && !intent.write) {
      const { entry } = found;
      if (entry.content === undefined) return -EIO;
      return new LowerFileNode(entry.content, this.content, () => this.statOf(path, found));
    }
    const file = this.copyUp(path);
    if (typeof file === "number") return file;
    if (intent.truncate) file.bytes.truncate(0);
    return this.memoryNode(file);
  }

  create(path: string, mode: number): VfsNode | number {
    const file: UpperFile = {
      kind: "file",
      bytes: new MemoryBytes(),
      meta: this.newMeta(path, mode),
    };
    this.upper.set(path, file);
    return this.memoryNode(file);
  }

  mkdir(path: string, mode: number): number {
    // A directory made where the image has an entry (now whited out) must
    // not show that entry's old children.
    const opaque = this.view.lstat(path) !== undefined;
    this.upper.set(path, { kind: "directory", opaque, meta: this.newMeta(path, mode) });
    return 0;
  }

  symlink(target: string, path: string): number {
    this.upper.set(path, { kind: "symlink", target, meta: this.newMeta(path, 0o777) });
    return 0;
  }

  unlink(path: string): number {
    if (this.find(path) === undefined) return -ENOENT;
    this.remove(path);
    return 0;
  }

  rmdir(path: string): number {
    const entries = this.readdir(path);
    if (typeof entries === "number") return entries;
    if (entries.length > 0) return -ENOTEMPTY;
    for (const below of this.upper.descendants(path)) this.upper.delete(below);
    this.remove(path);
    return 0;
  }

  rename(from: string, to: string): number {
    const found = this.find(from);
    if (found === undefined) return -ENOENT;
    const target = this.find(to);
    if (target !== undefined) {
      const isDir =
        target.layer === "upper"
          ? target.node.kind === "directory"
          : target.entry.type === "directory";
      if (isDir) {
        const entries = this.readdir(to);
        if (typeof entries === "number") return entries;
        if (entries.length > 0) return -ENOTEMPTY;
      }
    }
    const moved = this.movable(from, found);
    if (typeof moved === "number") return moved;
    for (const below of this.upper.descendants(to)) this.upper.delete(below);
    const opaque = this.view.lstat(to) !== undefined;
    this.upper.set(
      to,
      moved.kind === "directory" ? { ...moved, opaque: opaque || moved.opaque } : moved,
    );
    for (const below of this.upper.descendants(from)) {
      const node = this.upper.get(below);
      this.upper.delete(below);
      if (node !== undefined) this.upper.set(to + below.slice(from.length), node);
    }
    this.remove(from);
    this.inodes.move(from, to);
    return 0;
  }

  truncate(path: string, size: number): number {
    const file = this.copyUp(path);
    if (typeof file === "number") return file;
    file.bytes.truncate(size);
    file.meta.mtimeMs = this.now();
    return 0;
  }

  /** The node at a canonical path: upper first, then the image unless hidden. */
  private find(path: string): Found | undefined {
    const node = this.upper.get(path);
    if (node !== undefined) return node.kind === "whiteout" ? undefined : { layer: "upper", node };
    if (this.upper.hidesLowerBelow(path)) return undefined;
    const entry = this.view.lstat(path);
    return entry === undefined ? undefined : { layer: "lower", entry };
  }

  /** Deletes whatever is at `path`, leaving a whiteout if the image has an entry there. */
  private remove(path: string): void {
    if (this.view.lstat(path) !== undefined) this.upper.set(path, { kind: "whiteout" });
    else this.upper.delete(path);
  }

  /** The upper node a rename moves: image files and symlinks are copied up; image directories are EXDEV. */
  private movable(path: string, found: Found): UpperNode | number {
    if (found.layer === "upper") return found.node;
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

  /** The upper copy of a regular file, made from the image's bytes on first write. */
  private copyUp(path: string): UpperFile | number {
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

  private memoryNode(file: UpperFile): VfsNode {
    return new MemoryFileNode(file.bytes, file.meta, () => this.upperStat("", file), this.now);
  }

  private statOf(path: string, found: Found): VfsStat {
    if (found.layer === "upper") return this.upperStat(path, found.node);
    const { entry } = found;
    const type = lowerType(entry);
    const size =
      type === "file"
        ? (entry.content?.size ?? entry.size)
        : type === "symlink"
          ? Buffer.byteLength(entry.linkTarget ?? "")
          : type === "directory"
            ? 4096
            : 0;
    return makeStat({
      dev: IMAGE_DEV,
      ino: this.inodes.of(path),
      type,
      permissions: entry.mode,
      size,
      nlink: type === "directory" ? this.directoryLinks(path) : 1,
      uid: entry.uid,
      gid: entry.gid,
      rdev: makedev(entry.devMajor ?? 0, entry.devMinor ?? 0),
      mtimeMs: entry.mtime * 1000,
    });
  }

  private upperStat(path: string, node: Exclude<UpperNode, { kind: "whiteout" }>): VfsStat {
    const size =
      node.kind === "file"
        ? node.bytes.size
        : node.kind === "symlink"
          ? Buffer.byteLength(node.target)
          : 4096;
    return makeStat({
      dev: IMAGE_DEV,
      ino: node.meta.ino,
      type: node.kind,
      permissions: node.meta.permissions,
      size,
      nlink: node.kind === "directory" ? this.directoryLinks(path) : 1,
      uid: node.meta.uid,
      gid: node.meta.gid,
      mtimeMs: node.meta.mtimeMs,
    });
  }

  /** A directory's st_nlink: itself, its "." and each subdirectory's "..". */
  private directoryLinks(path: string): number {
    const entries = this.readdir(path);
    return (
      2 + (typeof entries === "number" ? 0 : entries.filter((e) => e.type === "directory").length)
    );
  }

  private lowerNamesIn(dir: string): readonly string[] {
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

  private newMeta(path: string, permissions: number): UpperMeta {
    return { permissions, uid: 0, gid: 0, mtimeMs: this.now(), ino: this.inodes.fresh(path) };
  }

  private lowerMeta(path: string, entry: RootfsEntry): UpperMeta {
    return {
      permissions: entry.mode,
      uid: entry.uid,
      gid: entry.gid,
      mtimeMs: entry.mtime * 1000,
      ino: this.inodes.of(path),
    };
  }
}

/** The node type of an image entry: a hardlink is the regular file it names. */
function lowerType(entry: RootfsEntry): NodeType {
  return entry.type === "hardlink" ? "file" : entry.type;
}

function join(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}
