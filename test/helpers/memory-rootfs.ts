// An in-memory RootfsView for tests: build a root filesystem from a list of
// paths and contents, without layers or tar. Follows the contract in
// src/oci/rootfs/types.ts (sorted entries, hardlinks reported with their
// target's content, chroot-like symlink resolution with the ELOOP limit).
import { Readable } from "node:stream";
import { MegaliftError } from "../../src/errors.js";
import { blake3Hex } from "../../src/hash/blake3.js";
import type {
  EntryType,
  ResolveOptions,
  RootfsEntry,
  RootfsView,
} from "../../src/oci/rootfs/types.js";

export interface MemoryEntrySpec {
  readonly path: string;
  /** Bytes of a regular file; a spec with content and no type is a file. */
  readonly content?: string | Uint8Array;
  /** Default: "file" with content, "symlink"/"hardlink" with linkTarget, else "directory". */
  readonly type?: EntryType;
  /** Default 0o644 for files, 0o755 for directories, 0o777 for symlinks. */
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** symlink: the target as stored; hardlink: the absolute path it links to. */
  readonly linkTarget?: string;
}

/** Linux's MAXSYMLINKS: following more than this many is ELOOP. */
const MAX_SYMLINKS = 40;

export function createMemoryRootfs(specs: readonly MemoryEntrySpec[]): RootfsView {
  const entries = new Map<string, RootfsEntry>();
  const blobs = new Map<string, Buffer>();
  const addDirectory = (path: string): void => {
    if (!entries.has(path)) entries.set(path, makeEntry(path, "directory", 0o755));
  };
  addDirectory("/");
  for (const spec of specs) {
    const path = normalise(spec.path);
    for (const parent of parents(path)) addDirectory(parent);
    const type =
      spec.type ??
      (spec.content !== undefined
        ? "file"
        : spec.linkTarget !== undefined
          ? "symlink"
          : "directory");
    const mode = spec.mode ?? (type === "directory" ? 0o755 : type === "symlink" ? 0o777 : 0o644);
    let content: RootfsEntry["content"];
    if (type === "file") {
      const bytes = Buffer.from(spec.content ?? "");
      const hex = blake3Hex(bytes);
      blobs.set(hex, bytes);
      content = { blake3: hex, size: bytes.length };
    }
    entries.set(path, {
      ...makeEntry(path, type, mode, spec.uid, spec.gid),
      size: content?.size ?? 0,
      ...(content !== undefined ? { content } : {}),
      ...(spec.linkTarget !== undefined ? { linkTarget: spec.linkTarget } : {}),
    });
  }
  // Hardlinks take their target's content, as the tar flattener reports them.
  for (const [path, entry] of entries) {
    if (entry.type !== "hardlink" || entry.linkTarget === undefined) continue;
    const target = entries.get(normalise(entry.linkTarget));
    if (target?.content === undefined) throw new Error(`hardlink ${path}: no file at target`);
    entries.set(path, { ...entry, size: target.size, content: target.content });
  }

  const sorted = [...entries.values()].sort((a, b) =>
    Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)),
  );
  const files = sorted.filter((e) => e.content !== undefined);

  const bytesOf = (entry: RootfsEntry): Buffer => {
    const blob = entry.content === undefined ? undefined : blobs.get(entry.content.blake3);
    if (blob === undefined) throw new MegaliftError("IO", `${entry.path}: not a regular file`);
    return blob;
  };

  const resolve = (path: string, options: ResolveOptions = {}): RootfsEntry | undefined => {
    let followed = 0;
    const walk = (components: string[], noFollowLast: boolean): RootfsEntry | undefined => {
      let current = "/";
      for (let i = 0; i < components.length; i++) {
        const name = components[i] ?? "";
        if (name === "" || name === ".") continue;
        if (name === "..") {
          current = current === "/" ? "/" : current.slice(0, current.lastIndexOf("/")) || "/";
          continue;
        }
        const next = current === "/" ? `/${name}` : `${current}/${name}`;
        const entry = entries.get(next);
        if (entry === undefined) return undefined;
        const last = i === components.length - 1;
        if (entry.type === "symlink" && !(last && noFollowLast)) {
          if (++followed > MAX_SYMLINKS) {
            throw new MegaliftError("PATH_ESCAPE", `${path}: too many symbolic links`);
          }
          const target = entry.linkTarget ?? "";
          const base = target.startsWith("/") ? [] : current.split("/");
          const rest = components.slice(i + 1);
          return walk([...base, ...target.split("/"), ...rest], noFollowLast);
        }
        current = next;
      }
      return entries.get(current);
    };
    return walk(path.split("/"), options.noFollow ?? false);
  };

  return {
    entries: () => sorted[Symbol.iterator](),
    files: () => files[Symbol.iterator](),
    lstat: (path) => entries.get(normalise(path)),
    resolve,
    readFile: async (entry) => Buffer.from(bytesOf(entry)),
    readRange: async (entry, start, end) => {
      const blob = bytesOf(entry);
      const stop = end ?? blob.length;
      if (start < 0 || stop > blob.length || start > stop) {
        throw new MegaliftError("IO", `${entry.path}: range [${start}, ${stop}) out of bounds`);
      }
      return Buffer.from(blob.subarray(start, stop));
    },
    createReadStream: (entry) => Readable.from([bytesOf(entry)]),
    fileCount: files.length,
    totalBytes: files.reduce((n, e) => n + (e.content?.size ?? 0), 0),
  };
}

function makeEntry(path: string, type: EntryType, mode: number, uid = 0, gid = 0): RootfsEntry {
  return { path, type, mode: mode & 0o7777, uid, gid, size: 0, mtime: 0, layer: 0 };
}

function normalise(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

function parents(path: string): string[] {
  const result: string[] = [];
  let at = path.lastIndexOf("/");
  while (at > 0) {
    result.unshift(path.slice(0, at));
    at = path.lastIndexOf("/", at - 1);
  }
  return result;
}
