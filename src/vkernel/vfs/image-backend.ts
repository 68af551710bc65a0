// An image's flattened rootfs (RootfsView, read-only, read lazily) under a
// writable in-memory upper layer, like overlayfs (Documentation/
// filesystems/overlayfs.rst): writing to an image file copies it up first,
// deleting an image entry leaves a whiteout, a directory made where an image
// entry was is opaque, and readdir merges both layers. Stat values carry the
// image entry's mode, owner and mtime; st_ino is stable per path. chmod,
// chown, utimensat and link copy the entry up first (overlayfs without
// "metacopy"); hard links are paths sharing one upper node. The layers and
// copy-up are image-layers.ts; stat values image-stat.ts.
import { EINVAL, ENOENT, ENOTEMPTY } from "../errno.js";
import { EIO, ENXIO, S_ISGID } from "./constants.js";
import { ImageLayers, type Found, type UpperFile } from "./image-layers.js";
import { LowerFileNode, MemoryFileNode } from "./image-nodes.js";
import { imageFsStats, lowerStat, lowerType, upperStat, type LiveUpperNode } from "./image-stat.js";
import type { LowerContent } from "./lower-content.js";
import { MemoryBytes } from "./memory-bytes.js";
import { parentOf } from "./resolve.js";
import { changeMeta, type UpperMeta, type UpperTree } from "./upper-tree.js";
import type { RootfsView } from "../../oci/rootfs/types.js";
import type {
  AttributeChange,
  DirEntry,
  FsBackend,
  FsStats,
  OpenIntent,
  VfsNode,
  VfsStat,
} from "./types.js";

export interface ImageBackendOptions {
  /** The clock for new and written upper files (ms since the epoch). */
  readonly now?: () => number;
}

export class ImageBackend implements FsBackend {
  private readonly layers: ImageLayers;
  private readonly upper: UpperTree;
  private readonly view: RootfsView;
  private readonly now: () => number;

  constructor(view: RootfsView, content: LowerContent, options: ImageBackendOptions = {}) {
    this.layers = new ImageLayers(view, content);
    this.upper = this.layers.upper;
    this.view = view;
    this.now = options.now ?? Date.now;
  }

  lstat(path: string): VfsStat | number {
    const found = this.layers.find(path);
    return found === undefined ? -ENOENT : this.statOf(path, found);
  }

  readlink(path: string): string | number {
    const found = this.layers.find(path);
    if (found === undefined) return -ENOENT;
    if (found.layer === "upper") return found.node.kind === "symlink" ? found.node.target : -EINVAL;
    return found.entry.type === "symlink" ? (found.entry.linkTarget ?? "") : -EINVAL;
  }

  readdir(path: string): readonly DirEntry[] | number {
    const found = this.layers.find(path);
    if (found === undefined) return -ENOENT;
    const byName = new Map<string, DirEntry>();
    // An image directory shows its image entries; an upper one only when
    // it is not opaque and nothing above it hides the image there.
    const lowerVisible =
      found.layer === "lower" ||
      (found.node.kind === "directory" && !found.node.opaque && !this.upper.hidesLowerBelow(path));
    if (lowerVisible) {
      for (const name of this.layers.lowerNamesIn(path)) {
        const child = join(path, name);
        const entry = this.view.lstat(child);
        if (this.upper.get(child) === undefined && entry !== undefined) {
          byName.set(name, { name, ino: this.layers.inodes.of(child), type: lowerType(entry) });
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
    const found = this.layers.find(path);
    if (found === undefined) return -ENOENT;
    const kind = found.layer === "upper" ? found.node.kind : lowerType(found.entry);
    if (kind !== "file") return -ENXIO;
    if (found.layer === "lower" && !intent.write && !intent.truncate) {
      const { entry } = found;
      if (entry.content === undefined) return -EIO;
      const lower = this.statOf(path, found);
      // Once copied up (fchmod, a writer), the path's inode is this file's
      // with new attributes, which fstat(2) shows as overlayfs does.
      const current = (): VfsStat => {
        const st = this.lstat(path);
        return typeof st !== "number" && st.ino === lower.ino ? st : lower;
      };
      return new LowerFileNode(entry.content, this.layers.content, current);
    }
    const file = this.layers.copyUp(path);
    if (typeof file === "number") return file;
    if (intent.truncate && file.bytes.size > 0) {
      file.bytes.truncate(0);
      file.meta.mtimeMs = file.meta.ctimeMs = this.now();
    }
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
    this.upper.set(path, { kind: "directory", opaque, meta: this.newMeta(path, mode, true) });
    return 0;
  }

  symlink(target: string, path: string): number {
    this.upper.set(path, { kind: "symlink", target, meta: this.newMeta(path, 0o777) });
    return 0;
  }

  unlink(path: string): number {
    const found = this.layers.find(path);
    if (found === undefined) return -ENOENT;
    if (found.layer === "upper") this.dropLink(found.node);
    this.layers.remove(path);
    return 0;
  }

  link(from: string, to: string): number {
    const found = this.layers.find(from);
    if (found === undefined) return -ENOENT;
    const node = this.layers.copiedUp(from, found);
    if (typeof node === "number") return node;
    if (node.kind === "directory") return -EINVAL;
    node.meta.links++;
    node.meta.ctimeMs = this.now();
    // The same node object at a second path: one inode, one set of bytes.
    this.upper.set(to, node);
    return 0;
  }

  setAttributes(path: string, change: AttributeChange): number {
    const found = this.layers.find(path);
    if (found === undefined) return -ENOENT;
    const node = this.layers.copiedUp(path, found);
    if (typeof node === "number") return node;
    changeMeta(node.meta, change, node.kind === "directory", this.now());
    return 0;
  }

  statfs(): FsStats {
    const { bytes, nodes } = this.upper.usage();
    return imageFsStats(bytes, nodes);
  }

  rmdir(path: string): number {
    const entries = this.readdir(path);
    if (typeof entries === "number") return entries;
    if (entries.length > 0) return -ENOTEMPTY;
    for (const below of this.upper.descendants(path)) this.upper.delete(below);
    this.layers.remove(path);
    return 0;
  }

  rename(from: string, to: string): number {
    const found = this.layers.find(from);
    if (found === undefined) return -ENOENT;
    const target = this.layers.find(to);
    // Two links to one inode: rename(2) does nothing and succeeds.
    if (target?.layer === "upper" && found.layer === "upper" && target.node === found.node)
      return 0;
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
    const moved = this.layers.movable(from, found);
    if (typeof moved === "number") return moved;
    if (target?.layer === "upper") this.dropLink(target.node);
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
    this.layers.remove(from);
    this.layers.inodes.move(from, to);
    return 0;
  }

  truncate(path: string, size: number): number {
    const file = this.layers.copyUp(path);
    if (typeof file === "number") return file;
    file.bytes.truncate(size);
    file.meta.mtimeMs = file.meta.ctimeMs = this.now();
    return 0;
  }

  /** One path fewer names an upper file or symlink (unlink, or replaced by rename). */
  private dropLink(node: LiveUpperNode): void {
    if (node.kind === "directory") return;
    node.meta.links--;
    node.meta.ctimeMs = this.now();
  }

  private memoryNode(file: UpperFile): VfsNode {
    return new MemoryFileNode(file.bytes, file.meta, () => this.upperStat("", file), this.now);
  }

  private statOf(path: string, found: Found): VfsStat {
    if (found.layer === "upper") return this.upperStat(path, found.node);
    const isDir = found.entry.type === "directory";
    return lowerStat(
      found.entry,
      this.layers.inodes.of(path),
      isDir ? this.directoryLinks(path) : 1,
    );
  }

  private upperStat(path: string, node: LiveUpperNode): VfsStat {
    return upperStat(node, node.kind === "directory" ? this.directoryLinks(path) : 1);
  }

  /** A directory's st_nlink: itself, its "." and each subdirectory's "..". */
  private directoryLinks(path: string): number {
    const entries = this.readdir(path);
    return (
      2 + (typeof entries === "number" ? 0 : entries.filter((e) => e.type === "directory").length)
    );
  }

  /**
   * A new inode, owned by root (the guest runs as root), all times now. In
   * a set-group-ID directory it takes the directory's group, and a new
   * directory the bit itself (inode(7) "The set-group-ID bit").
   */
  private newMeta(path: string, permissions: number, isDirectory = false): UpperMeta {
    const now = this.now();
    const ino = this.layers.inodes.fresh(path);
    let gid = 0;
    const parent = this.lstat(parentOf(path).dir);
    if (typeof parent !== "number" && (parent.mode & S_ISGID) !== 0) {
      gid = parent.gid;
      if (isDirectory) permissions |= S_ISGID;
    }
    return { permissions, uid: 0, gid, atimeMs: now, mtimeMs: now, ctimeMs: now, ino, links: 1 };
  }
}

function join(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}
