// The vkernel's virtual filesystem: build a Vfs over a host directory or an
// image's flattened rootfs, with /dev and (given a ProcessView) /proc
// mounted over either.
import type { RootfsView } from "../../oci/rootfs/types.js";
import { DeviceBackend, type FdLookup } from "./device-backend.js";
import { HostBackend } from "./host-backend.js";
import { ImageBackend, type ImageBackendOptions } from "./image-backend.js";
import type { LowerContent } from "./lower-content.js";
import { MountVfs, type Mount } from "./mount-vfs.js";
import { ProcBackend } from "./proc-backend.js";
import type { ProcessView } from "./proc-content.js";
import type { FsBackend, Vfs } from "./types.js";

export { OpenFile } from "./open-file.js";
export { CachedContent, contentStoreReader, preloadContent } from "./lower-content.js";
export type { LowerContent } from "./lower-content.js";
export type { FdLookup } from "./device-backend.js";
export type { ProcessView, ProcMapping } from "./proc-content.js";
export type * from "./types.js";
export { HostBackend, ImageBackend, MountVfs, DeviceBackend, ProcBackend };

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

/**
 * The Vfs of a process: `root` with the device tree at /dev and, when the
 * process is described, its /proc (a /proc directory in `root` is hidden).
 */
export function mountProcessVfs(root: FsBackend, fdNode: FdLookup, process?: ProcessView): Vfs {
  const mounts: Mount[] = [{ at: "/dev", backend: new DeviceBackend(fdNode) }];
  if (process !== undefined) mounts.push({ at: "/proc", backend: new ProcBackend(process) });
  return new MountVfs(root, mounts);
}
