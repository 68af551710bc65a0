// Opens an image source and flattens its linux/amd64 image into a rootfs view,
// reporting progress per layer. Shared by every command that reads an image.
import { openSource } from "../oci/sources.js";
import { buildRootfs } from "../oci/rootfs/flatten.js";
import { ContentStore } from "../oci/rootfs/content-store.js";
import type { RootfsView } from "../oci/rootfs/types.js";
import type { Digest } from "../oci/digest.js";
import type { Progress } from "./progress.js";
import { formatBytes } from "./progress.js";

export interface OpenedRootfs {
  readonly view: RootfsView;
  readonly display: string;
  readonly imageDigest: Digest;
}

export async function openImageRootfs(
  sourceText: string,
  options: { cacheDir?: string | undefined; progress: Progress },
): Promise<OpenedRootfs> {
  const source = await openSource(sourceText);
  try {
    const image = await source.image();
    const layers = await image.layers();
    const store = ContentStore.forCacheDir(options.cacheDir);
    const view = await buildRootfs(layers, {
      store,
      onProgress: (p) =>
        options.progress.update(
          `layer ${p.layer + 1}/${layers.length} ${p.digest.toString().slice(0, 19)}… ${formatBytes(p.bytes)}`,
        ),
    });
    return { view, display: source.display, imageDigest: image.digest };
  } finally {
    await source.close();
  }
}
