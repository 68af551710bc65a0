// Flattens an image's layers into one rootfs view: one streaming pass per
// layer, base first, regular files' bytes going to the content store as
// they are read. Within a layer, whiteouts act on the layers below first
// (OCI image-spec layer.md "Whiteouts"), then the layer's entries are placed
// in tar order with the rules of extraction onto a real root ("Changesets"):
// a later entry replaces an earlier one at its path, a directory over a
// directory merges, parents are found through symlinks but never outside
// the root, and missing parents are created.
import type { Readable } from "node:stream";
import { MegaliftError, isMegaliftError } from "../../errors.js";
import type { Digest } from "../digest.js";
import type { Layer } from "../image.js";
import type { ContentStore } from "./content-store.js";
import { childPath, splitParent } from "./paths.js";
import { RootfsTree } from "./rootfs-tree.js";
import { readTarEntries, type TarEntry } from "./tar-entries.js";
import type { ContentRef, RootfsEntry, RootfsView } from "./types.js";
import { createRootfsView } from "./view.js";
import { applyWhiteouts, classifyWhiteout, type Whiteout } from "./whiteouts.js";

export interface RootfsProgress {
  /** Index of the layer (0 = base). */
  readonly layer: number;
  readonly layerCount: number;
  readonly digest: Digest;
  /** "start" before the layer is read, "done" once it is applied. */
  readonly phase: "start" | "done";
  /** Tar entries read from this layer so far. */
  readonly entries: number;
  /** Bytes of regular files read from this layer so far. */
  readonly bytes: number;
}

export interface BuildRootfsOptions {
  /** Where regular files' bytes are written and later read from. */
  readonly store: ContentStore;
  readonly onProgress?: (progress: RootfsProgress) => void;
}

/** An entry read from a layer, waiting for the layer's whiteouts to be applied first. */
interface PendingEntry {
  readonly entry: Omit<TarEntry, "body">;
  readonly content: ContentRef | undefined;
  readonly what: string;
}

/** A whiteout's directory, which extraction creates if missing as it does any entry's parent. */
interface PendingParent {
  readonly directory: string;
  readonly what: string;
}

/**
 * The rootfs of `layers` (in application order, base first). Throws
 * LAYER_CORRUPT for a bad layer and PATH_ESCAPE for an entry that would
 * land outside the root, each naming the layer digest (and the entry).
 */
export async function buildRootfs(
  layers: readonly Layer[],
  options: BuildRootfsOptions,
): Promise<RootfsView> {
  const tree = new RootfsTree();
  for (const [index, layer] of layers.entries()) {
    await applyLayer(tree, layer, index, layers.length, options);
  }
  return createRootfsView(tree.entries(), options.store);
}

async function applyLayer(
  tree: RootfsTree,
  layer: Layer,
  layerIndex: number,
  layerCount: number,
  options: BuildRootfsOptions,
): Promise<void> {
  const label = `layer ${layer.digest.toString()}`;
  const progress = { layer: layerIndex, layerCount, digest: layer.digest, entries: 0, bytes: 0 };
  options.onProgress?.({ ...progress, phase: "start" });

  const whiteouts: { whiteout: Whiteout; what: string }[] = [];
  const pending: (PendingEntry | PendingParent)[] = [];
  for await (const tarEntry of readTarEntries(await openLayer(layer, label), label)) {
    progress.entries++;
    const what = `${label} entry ${JSON.stringify(tarEntry.name)}`;
    const kind = classifyWhiteout(tarEntry.path, what);
    if (kind.kind === "whiteout") {
      whiteouts.push({ whiteout: kind.whiteout, what });
      // docker's and containerd's appliers create a whiteout's parent
      // directories before acting on it, as for any other entry.
      pending.push({ directory: splitParent(tarEntry.path).parent, what });
    }
    if (kind.kind !== "content") continue;
    const { body, ...entry } = tarEntry;
    const content = entry.type === "file" ? await options.store.write(body) : undefined;
    progress.bytes += content?.size ?? 0;
    pending.push({ entry, content, what });
  }

  // layer.md: whiteouts hide lower-layer content only, wherever they sit in the tar.
  applyWhiteouts(tree, whiteouts);
  for (const item of pending) {
    if ("directory" in item) tree.resolveDirectory(item.directory, item.what, layerIndex);
    else placeEntry(tree, item, layerIndex);
  }
  options.onProgress?.({ ...progress, phase: "done" });
}

async function openLayer(layer: Layer, label: string): Promise<Readable> {
  try {
    return await layer.uncompressed();
  } catch (err) {
    if (isMegaliftError(err)) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new MegaliftError("LAYER_CORRUPT", `${label} cannot be opened: ${reason}`, {
      cause: err,
    });
  }
}

/** Places one entry the way extracting it onto the tree so far would. */
function placeEntry(tree: RootfsTree, item: PendingEntry, layer: number): void {
  const { entry, content, what } = item;
  if (entry.path === "/") {
    if (entry.type !== "directory") {
      throw new MegaliftError("LAYER_CORRUPT", `${what}: the image root must be a directory`);
    }
    tree.put(toRootfsEntry(entry, "/", content, layer));
    return;
  }
  const { parent, name } = splitParent(entry.path);
  const dir = tree.resolveDirectory(parent, what, layer) as string;
  const path = childPath(dir, name);
  if (entry.type === "hardlink") {
    tree.put(hardlinkEntry(tree, path, entry.linkTarget ?? "", what, layer));
  } else {
    tree.put(toRootfsEntry(entry, path, content, layer));
  }
}

function toRootfsEntry(
  entry: PendingEntry["entry"],
  path: string,
  content: ContentRef | undefined,
  layer: number,
): RootfsEntry {
  return {
    path,
    type: entry.type,
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    size: entry.size,
    mtime: entry.mtime,
    layer,
    ...(entry.linkTarget !== undefined ? { linkTarget: entry.linkTarget } : {}),
    ...(entry.devMajor !== undefined ? { devMajor: entry.devMajor } : {}),
    ...(entry.devMinor !== undefined ? { devMinor: entry.devMinor } : {}),
    ...(content !== undefined ? { content } : {}),
  };
}

/**
 * A hardlink shares its target's inode (link(2)): same bytes, mode and
 * owner. A link to a regular file is a "hardlink" entry carrying the
 * target's content; a link to a symlink, device or fifo is a copy of that
 * entry at the new path. The target must already exist (an earlier entry
 * or a lower layer) and must not be a directory.
 */
function hardlinkEntry(
  tree: RootfsTree,
  path: string,
  linkTarget: string,
  what: string,
  layer: number,
): RootfsEntry {
  const { parent, name } = splitParent(linkTarget);
  const dir = tree.resolveDirectory(parent, `${what} (hardlink target)`);
  const target = dir === undefined ? undefined : tree.lstat(childPath(dir, name));
  if (target === undefined) {
    throw new MegaliftError(
      "LAYER_CORRUPT",
      `${what}: hardlink target ${JSON.stringify(linkTarget)} does not exist`,
    );
  }
  if (target.type === "directory") {
    throw new MegaliftError(
      "LAYER_CORRUPT",
      `${what}: hardlink to a directory ${JSON.stringify(linkTarget)}`,
    );
  }
  if (target.content === undefined) return { ...target, path, layer };
  return { ...target, path, layer, type: "hardlink", linkTarget: target.path };
}
