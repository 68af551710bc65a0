// A small image rootfs for the vfs tests, as an in-memory RootfsView under
// the image Vfs with /dev mounted, and helpers to read and write through it.
import { createMemoryRootfs } from "../../helpers/memory-rootfs.js";
import type { RootfsView } from "../../../src/oci/rootfs/types.js";
import { O_CREAT, O_RDWR, O_TRUNC, O_WRONLY } from "../../../src/vkernel/vfs/constants.js";
import {
  CachedContent,
  imageRoot,
  mountProcessVfs,
  OpenFile,
  preloadContent,
  type Vfs,
} from "../../../src/vkernel/vfs/index.js";

export { O_CREAT, O_RDWR, O_TRUNC, O_WRONLY };

export function sampleView(): RootfsView {
  return createMemoryRootfs([
    { path: "/etc/hostname", content: "image\n", mode: 0o644, uid: 0, gid: 0 },
    { path: "/etc/shadow", content: "root:*:\n", mode: 0o640, uid: 0, gid: 42 },
    { path: "/bin/busybox", content: "\x7fELF", mode: 0o755 },
    { path: "/bin/sh", linkTarget: "busybox" },
    { path: "/usr/bin/env", content: "#!env", mode: 0o755, uid: 1000, gid: 1000 },
    { path: "/usr/lib/os-release", content: "ID=test\n" },
    { path: "/etc/os-release", linkTarget: "../usr/lib/os-release" },
    { path: "/lib", linkTarget: "/usr/lib" },
    { path: "/escape", linkTarget: "../../../etc" },
    { path: "/loop/a", linkTarget: "b" },
    { path: "/loop/b", linkTarget: "a" },
    { path: "/var/empty", type: "directory" },
    { path: "/var/log/app.log", content: "one\n" },
  ]);
}

export interface ImageVfs {
  readonly view: RootfsView;
  readonly vfs: Vfs;
  readonly content: CachedContent;
}

export async function imageVfs(view: RootfsView = sampleView()): Promise<ImageVfs> {
  const content = new CachedContent(await preloadContent(view));
  const vfs = mountProcessVfs(
    imageRoot(view, content, { now: () => 1_700_000_000_000 }),
    () => undefined,
  );
  return { view, vfs, content };
}

/** Opens, reads everything and closes; -errno from open is returned as is. */
export function readAll(vfs: Vfs, path: string): string | number {
  const file = vfs.open(path, 0, 0);
  if (typeof file === "number") return file;
  const chunks: Buffer[] = [];
  const buffer = new Uint8Array(3);
  for (;;) {
    const n = file.read(buffer);
    if (n < 0) return n;
    if (n === 0) break;
    chunks.push(Buffer.from(buffer.subarray(0, n)));
  }
  file.release();
  return Buffer.concat(chunks).toString();
}

export function mustOpen(vfs: Vfs, path: string, flags: number, mode = 0o644): OpenFile {
  const file = vfs.open(path, flags, mode);
  if (typeof file === "number") throw new Error(`open ${path}: errno ${-file}`);
  return file;
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Names from a directory listing, "." and ".." included. */
export function listNames(vfs: Vfs, path: string): string[] | number {
  const dir = vfs.open(path, 0o200000, 0);
  if (typeof dir === "number") return dir;
  const entries = dir.entries();
  dir.release();
  return typeof entries === "number" ? entries : entries.map((e) => e.name);
}
