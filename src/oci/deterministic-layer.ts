// Writes a layer tarball deterministically: entries sorted by path, zero
// mtimes, uid/gid 0, no user/group names, fixed gzip settings. The same
// entries always give the same bytes, so the layer's digest is reproducible
// (ARCHITECTURE.md "Output image").
import { pack, type Header } from "tar-stream";
import { gzipSync, constants as zlibConstants } from "node:zlib";
import { createHash } from "node:crypto";
import { Digest } from "./digest.js";

export type LayerEntrySpec =
  | {
      readonly path: string;
      readonly type: "file";
      readonly content: Uint8Array;
      readonly mode?: number;
    }
  | { readonly path: string; readonly type: "directory"; readonly mode?: number }
  | { readonly path: string; readonly type: "symlink"; readonly target: string };

export interface BuiltLayer {
  /** The uncompressed tar. */
  readonly tar: Buffer;
  /** The gzip-compressed tar (the blob). */
  readonly gzip: Buffer;
  /** sha256 of the gzip blob. */
  readonly digest: Digest;
  /** sha256 of the uncompressed tar (the config's diff_id). */
  readonly diffId: Digest;
}

/** Fixed gzip settings: level 9, default strategy, no name or mtime in the header (zlib writes none). */
const GZIP_OPTIONS = { level: 9, memLevel: 8, strategy: zlibConstants.Z_DEFAULT_STRATEGY };

/** Relative tar names without a leading "./", parents created implicitly are added explicitly. */
function tarName(path: string, isDir: boolean): string {
  const trimmed = path.replace(/^\/+/, "").replace(/\/+$/, "");
  return isDir ? `${trimmed}/` : trimmed;
}

export async function buildDeterministicLayer(
  entries: readonly LayerEntrySpec[],
): Promise<BuiltLayer> {
  const all = withParents(entries);
  const p = pack();
  const chunks: Buffer[] = [];
  p.on("data", (c: unknown) => void chunks.push(c as Buffer));
  const finished = new Promise<void>((resolve, reject) => {
    p.on("end", resolve);
    p.on("error", reject);
  });
  for (const entry of all) {
    const base = { uid: 0, gid: 0, uname: "", gname: "", mtime: new Date(0) };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (entry.type === "file") {
        const header: Partial<Header> & Pick<Header, "name"> = {
          ...base,
          name: tarName(entry.path, false),
          type: "file",
          mode: entry.mode ?? 0o644,
          size: entry.content.length,
        };
        p.entry(header, entry.content, done);
      } else if (entry.type === "directory") {
        p.entry(
          {
            ...base,
            name: tarName(entry.path, true),
            type: "directory",
            mode: entry.mode ?? 0o755,
          },
          done,
        );
      } else {
        p.entry(
          {
            ...base,
            name: tarName(entry.path, false),
            type: "symlink",
            linkname: entry.target,
            mode: 0o777,
          },
          done,
        );
      }
    });
  }
  p.finalize();
  await finished;
  const tar = Buffer.concat(chunks);
  const gzip = gzipSync(tar, GZIP_OPTIONS);
  return {
    tar,
    gzip,
    digest: Digest.parse(`sha256:${createHash("sha256").update(gzip).digest("hex")}`),
    diffId: Digest.parse(`sha256:${createHash("sha256").update(tar).digest("hex")}`),
  };
}

/** Adds missing parent directories and sorts by path (byte order), so output never depends on input order. */
function withParents(entries: readonly LayerEntrySpec[]): LayerEntrySpec[] {
  const byPath = new Map<string, LayerEntrySpec>();
  for (const e of entries) {
    const path = "/" + e.path.replace(/^\/+/, "").replace(/\/+$/, "");
    byPath.set(path, { ...e, path });
    const parts = path.split("/").filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const parent = "/" + parts.slice(0, i).join("/");
      if (!byPath.has(parent)) byPath.set(parent, { path: parent, type: "directory" });
    }
  }
  return [...byPath.values()].sort((a, b) =>
    Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)),
  );
}
