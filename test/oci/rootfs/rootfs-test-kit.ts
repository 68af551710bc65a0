// Shared set-up for the rootfs tests: a temporary content store and a
// one-call "flatten these tars" that builds memory layers from entry specs.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { ContentStore } from "../../../src/oci/rootfs/content-store.js";
import { buildRootfs } from "../../../src/oci/rootfs/flatten.js";
import type { RootfsEntry, RootfsView } from "../../../src/oci/rootfs/types.js";
import { memoryLayer } from "../../helpers/memory-layer.js";
import { buildTar, type TarEntrySpec } from "../../helpers/tar.js";

const tempDirs: string[] = [];

afterEach(async () => {
  await Promise.all(tempDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh temporary directory, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "megalift-rootfs-"));
  tempDirs.push(dir);
  return dir;
}

/** A content store in a fresh temporary directory. */
export async function tempStore(): Promise<ContentStore> {
  return new ContentStore(join(await tempDir(), "content"));
}

/** Flattens layers given as tar entry specs (base first) or as raw tar bytes. */
export async function flatten(
  layers: readonly (readonly TarEntrySpec[] | Uint8Array)[],
  store?: ContentStore,
): Promise<RootfsView> {
  const built = await Promise.all(
    layers.map(async (l) => memoryLayer(l instanceof Uint8Array ? l : await buildTar(l))),
  );
  return buildRootfs(built, { store: store ?? (await tempStore()) });
}

/** The paths of the view, in its order. */
export function paths(view: RootfsView): string[] {
  return [...view.entries()].map((e) => e.path);
}

/** The entry at `path`, failing the test if there is none. */
export function entryAt(view: RootfsView, path: string): RootfsEntry {
  const entry = view.lstat(path);
  if (entry === undefined) throw new Error(`no entry at ${path}; have ${paths(view).join(" ")}`);
  return entry;
}

/** The text of the regular file at `path`. */
export async function textAt(view: RootfsView, path: string): Promise<string> {
  return (await view.readFile(entryAt(view, path))).toString("utf8");
}
