// The vkernel's virtual filesystem: build a Vfs over a host directory or an
// image's flattened rootfs, with /dev mounted over either.
import type { RootfsView } from "../../oci/rootfs/types.js";
import { DeviceBackend, type FdLookup } from "./device-backend.js";
import { HostBackend } from "./host-backend.js";
import { ImageBackend, type ImageBackendOptions } from "./image-backend.js";
import type { LowerContent } from "./lower-content.js";
import { MountVfs } from "./mount-vfs.js";
import type { FsBackend, Vfs } from "./types.js";

export { OpenFile } from "./open-file.js";
export { CachedContent, contentStoreReader, preloadContent } from "./lower-content.js";
export type { LowerContent } from "./lower-content.js";
export type { FdLookup } from "./device-backend.js";
export type * from "./types.js";
export { HostBackend, ImageBackend, MountVfs, DeviceBackend };

/** A host directory as the root (`megalift exec --root DIR`). */
export function hostRoot(directory: string): FsBackend {
  return new HostBackend(directory);
}

/** An image's rootfs, read-only and lazily read, under an in-memory writable layer. */
export function imageRoot(
  view: RootfsView,
  content: LowerContent,
  options?: ImageBackendOptions,
): FsBackend {
  return new ImageBackend(view, content, options);
}

/** The Vfs of a process: `root` with the device tree at /dev. */
export function mountProcessVfs(root: FsBackend, fdNode: FdLookup): Vfs {
  return new MountVfs(root, [{ at: "/dev", backend: new DeviceBackend(fdNode) }]);
}
