// stat(2) values of the image Vfs's two layers: an image (lower) entry with
// its mode, owner and mtime from the rootfs, and an upper node with the
// inode fields it keeps (upper-tree.ts UpperMeta). Both live on one
// anonymous device, as an overlayfs mount does.
import { makeStat, makedev } from "./constants.js";
import type { UpperNode } from "./upper-tree.js";
import type { FsStats, NodeType, VfsStat } from "./types.js";
import type { RootfsEntry } from "../../oci/rootfs/types.js";

/** st_dev of the image filesystem (an anonymous device, as overlayfs has). */
export const IMAGE_DEV = 0x2a;

/** statfs(2) f_type of overlayfs (linux/magic.h OVERLAYFS_SUPER_MAGIC). */
const OVERLAYFS_MAGIC = 0x794c7630;
/** The size the image filesystem reports: 4 GiB of 4 KiB blocks, 1M inodes. */
const TOTAL_BLOCKS = 1 << 20;
const TOTAL_FILES = 1 << 20;
/** ST_VALID | ST_RELATIME, what statfs(2) reports for a default mount. */
const MOUNT_FLAGS = 0x20 | 0x400;

export type LiveUpperNode = Exclude<UpperNode, { kind: "whiteout" }>;

/** The node type of an image entry: a hardlink is the regular file it names. */
export function lowerType(entry: RootfsEntry): NodeType {
  return entry.type === "hardlink" ? "file" : entry.type;
}

/** stat of an image entry; `nlink` counts a directory's subdirectories. */
export function lowerStat(entry: RootfsEntry, ino: number, nlink: number): VfsStat {
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
    ino,
    type,
    permissions: entry.mode,
    size,
    nlink: type === "directory" ? nlink : 1,
    uid: entry.uid,
    gid: entry.gid,
    rdev: makedev(entry.devMajor ?? 0, entry.devMinor ?? 0),
    mtimeMs: entry.mtime * 1000,
  });
}

/** stat of an upper node; `directoryLinks` is used for directories only. */
export function upperStat(node: LiveUpperNode, directoryLinks: number): VfsStat {
  const size =
    node.kind === "file"
      ? node.bytes.size
      : node.kind === "symlink"
        ? Buffer.byteLength(node.target)
        : 4096;
  const { meta } = node;
  return makeStat({
    dev: IMAGE_DEV,
    ino: meta.ino,
    type: node.kind,
    permissions: meta.permissions,
    size,
    nlink: node.kind === "directory" ? directoryLinks : meta.links,
    uid: meta.uid,
    gid: meta.gid,
    atimeMs: meta.atimeMs,
    mtimeMs: meta.mtimeMs,
    ctimeMs: meta.ctimeMs,
  });
}

/** statfs(2) of the image filesystem, given the bytes and inodes the upper layer holds. */
export function imageFsStats(upperBytes: number, upperNodes: number): FsStats {
  const used = Math.min(TOTAL_BLOCKS, Math.ceil(upperBytes / 4096));
  const free = TOTAL_BLOCKS - used;
  return {
    type: OVERLAYFS_MAGIC,
    bsize: 4096,
    blocks: TOTAL_BLOCKS,
    bfree: free,
    bavail: free,
    files: TOTAL_FILES,
    ffree: Math.max(0, TOTAL_FILES - upperNodes),
    namelen: 255,
    flags: MOUNT_FLAGS,
  };
}
