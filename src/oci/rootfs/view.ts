// The read-only flattened rootfs: a sorted map from path to entry, with
// chroot-style path resolution and file bytes read on demand from the
// content store. It holds entries only — never file contents.
import type { Readable } from "node:stream";
import { MegaliftError } from "../../errors.js";
import type { ContentStore } from "./content-store.js";
import { walkPath, type NodeKind } from "./path-walk.js";
import { compareUtf8, normalizeViewPath } from "./paths.js";
import type { ContentRef, ResolveOptions, RootfsEntry, RootfsView } from "./types.js";

/** A view over `entries` (any order; paths unique), reading bytes from `store`. */
export function createRootfsView(entries: Iterable<RootfsEntry>, store: ContentStore): RootfsView {
  return new StoredRootfsView(entries, store);
}

class StoredRootfsView implements RootfsView {
  private readonly sorted: readonly RootfsEntry[];
  private readonly byPath: ReadonlyMap<string, RootfsEntry>;
  readonly fileCount: number;
  readonly totalBytes: number;

  constructor(
    entries: Iterable<RootfsEntry>,
    private readonly store: ContentStore,
  ) {
    const all = [...entries].map((e) => Object.freeze({ ...e }));
    all.sort((a, b) => compareUtf8(a.path, b.path));
    this.sorted = all;
    this.byPath = new Map(all.map((e) => [e.path, e]));
    let count = 0;
    let bytes = 0;
    for (const e of this.files()) {
      count++;
      bytes += e.size;
    }
    this.fileCount = count;
    this.totalBytes = bytes;
  }

  entries(): IterableIterator<RootfsEntry> {
    return this.sorted.values();
  }

  *files(): IterableIterator<RootfsEntry> {
    for (const e of this.sorted) if (e.content !== undefined) yield e;
  }

  lstat(path: string): RootfsEntry | undefined {
    return this.byPath.get(normalizeViewPath(path));
  }

  resolve(path: string, options?: ResolveOptions): RootfsEntry | undefined {
    const result = walkPath(path, {
      lookup: this.kind,
      followFinal: options?.noFollow !== true,
      climb: "clamp",
      what: "image rootfs",
    });
    return result.status === "found" ? this.byPath.get(result.path) : undefined;
  }

  readFile(entry: RootfsEntry): Promise<Buffer> {
    return this.store.read(contentOf(entry));
  }

  readRange(entry: RootfsEntry, start: number, end?: number): Promise<Buffer> {
    return this.store.readRange(contentOf(entry), start, end);
  }

  createReadStream(entry: RootfsEntry): Readable {
    return this.store.createReadStream(contentOf(entry));
  }

  private readonly kind = (path: string): NodeKind => {
    const entry = this.byPath.get(path);
    if (entry === undefined) return { kind: "missing" };
    if (entry.type === "directory") return { kind: "directory" };
    if (entry.type === "symlink") return { kind: "symlink", target: entry.linkTarget ?? "" };
    return { kind: "other" };
  };
}

function contentOf(entry: RootfsEntry): ContentRef {
  if (entry.content === undefined) {
    throw new MegaliftError("IO", `${entry.path} is a ${entry.type}, not a regular file`);
  }
  return entry.content;
}
