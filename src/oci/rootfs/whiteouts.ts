// Whiteouts, as OCI image-spec layer.md "Whiteouts" defines them: a file
// `.wh.NAME` in a layer deletes NAME (and, for a directory, all below it)
// from the layers beneath; `.wh..wh..opq` in a directory hides every child
// that lower layers gave that directory. A whiteout acts on lower layers
// only, wherever it sits in its own tar, and never appears in the rootfs.
import { MegaliftError } from "../../errors.js";
import { childPath, splitParent } from "./paths.js";
import type { RootfsTree } from "./rootfs-tree.js";

export const WHITEOUT_PREFIX = ".wh.";
/** layer.md "Opaque Whiteout". */
export const OPAQUE_WHITEOUT = ".wh..wh..opq";
/** Names starting with this are aufs metadata (.wh..wh.plnk, .wh..wh.aufs), not content. */
export const WHITEOUT_META_PREFIX = ".wh..wh.";

export type Whiteout =
  /** Delete `path` from lower layers. */
  | { readonly kind: "remove"; readonly path: string }
  /** Hide every lower-layer child of `directory`. */
  | { readonly kind: "opaque"; readonly directory: string };

export type WhiteoutClass =
  | { readonly kind: "content" }
  | { readonly kind: "whiteout"; readonly whiteout: Whiteout }
  /** aufs metadata (or anything under it): dropped, as docker and containerd drop it. */
  | { readonly kind: "metadata" };

/** Whether the entry at `path` (absolute, normalised) is content, a whiteout or aufs metadata. */
export function classifyWhiteout(path: string, what: string): WhiteoutClass {
  if (!path.includes(WHITEOUT_PREFIX)) return { kind: "content" };
  const { parent, name } = splitParent(path);
  if (name === OPAQUE_WHITEOUT) {
    return { kind: "whiteout", whiteout: { kind: "opaque", directory: parent } };
  }
  if (path.split("/").some((c) => c.startsWith(WHITEOUT_META_PREFIX))) return { kind: "metadata" };
  if (!name.startsWith(WHITEOUT_PREFIX)) return { kind: "content" };
  const hidden = name.slice(WHITEOUT_PREFIX.length);
  if (hidden === "" || hidden === "." || hidden === "..") {
    throw new MegaliftError(
      "LAYER_CORRUPT",
      `${what}: whiteout ${JSON.stringify(name)} names no file`,
    );
  }
  return { kind: "whiteout", whiteout: { kind: "remove", path: childPath(parent, hidden) } };
}

/**
 * Applies one layer's whiteouts to the tree of the layers below it (call
 * before adding the layer's own entries). A whiteout's directory is found
 * through symlinks as extraction would find it; a whiteout of something
 * that does not exist does nothing.
 */
export function applyWhiteouts(
  tree: RootfsTree,
  whiteouts: readonly { readonly whiteout: Whiteout; readonly what: string }[],
): void {
  for (const { whiteout, what } of whiteouts) {
    const target = whiteout.kind === "opaque" ? whiteout.directory : whiteout.path;
    if (target === "/") {
      tree.clearDirectory("/");
      continue;
    }
    // The last component is taken as it is (a symlink there is itself the
    // thing hidden), only the directories above it are followed.
    const { parent, name } = splitParent(target);
    const dir = tree.resolveDirectory(parent, what);
    if (dir === undefined) continue;
    if (whiteout.kind === "opaque") tree.clearDirectory(childPath(dir, name));
    else tree.remove(childPath(dir, name));
  }
}
