// Finished transforms on disk. Each one is a directory
//   CACHE/transforms/<alg>-<hex>_<toolchain-id>/
//     result.json   what was transformed, by which toolchain, and the digests served
//     layout/       the OCI layout transformImage wrote: the transformed index,
//                   its images and blobs, the signatures (referrers tag
//                   sha256-<hex>, cosign tag sha256-<hex>.sig) and the index
//                   the proxy serves (result.json's indexDigest)
// A transform is built in CACHE/transforms/tmp/<random>/ and renamed into
// place only once complete (a directory rename is atomic on one
// filesystem), so a reader or a restart sees a whole transform or none;
// startup empties tmp/. These directories are kept outside the blob cache's
// LRU accounting: the served index must never outlive its children.
import { randomBytes, createHash } from "node:crypto";
import { mkdir, open, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Digest } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/media-types.js";
import type { Descriptor } from "../../src/oci/types.js";
import { cleanTempDir } from "../cache/atomic-file.js";
import type { OpenBlob, StoredManifest } from "../cache/cache-store.js";

/** What result.json records about one finished transform. */
export interface TransformRecord {
  /** The manifest the tag named upstream (an image or an index). */
  readonly sourceDigest: string;
  /** The linux/amd64 image manifest that was transformed. */
  readonly sourceImageDigest: string;
  /** HOST/REPOSITORY the first pull named. */
  readonly repository: string;
  readonly toolchainVersion: string;
  /** The index served for the tag. */
  readonly indexDigest: string;
  /** The augmented linux/amd64 image (what the signatures name). */
  readonly manifestDigest: string;
  readonly finishedAt: string;
  readonly milliseconds: Readonly<Record<string, number>>;
}

export interface StoredTransform {
  readonly key: string;
  readonly dir: string;
  readonly record: TransformRecord;
}

const REF_NAME = "org.opencontainers.image.ref.name";
const SIGNATURE_TAG = /^sha256-[0-9a-f]{64}(\.sig)?$/;

/** The directory name of (source digest, toolchain version): both in full would be unwieldy. */
export function transformKey(sourceDigest: Digest, toolchainVersion: string): string {
  const toolchain = createHash("sha256").update(toolchainVersion).digest("hex").slice(0, 16);
  return `${sourceDigest.algorithm}-${sourceDigest.hex}_${toolchain}`;
}

export class TransformStore {
  private readonly transforms = new Map<string, StoredTransform>();
  /** Every blob and manifest of every finished transform: digest → layout directory. */
  private readonly contents = new Map<string, string>();
  /** Signature tags (sha256-<hex>, sha256-<hex>.sig) → manifest digest. */
  private readonly signatureTags = new Map<string, Digest>();

  private constructor(readonly dir: string) {}

  /** Opens CACHE/transforms: empties tmp/ and indexes every finished transform. */
  static async open(cacheDir: string): Promise<TransformStore> {
    const store = new TransformStore(join(cacheDir, "transforms"));
    await cleanTempDir(join(store.dir, "tmp"));
    for (const name of await readdir(store.dir)) {
      if (name === "tmp" || name === "work") continue;
      const dir = join(store.dir, name);
      const text = await readFile(join(dir, "result.json"), "utf8").catch(() => undefined);
      if (text === undefined) continue;
      await store.index({ key: name, dir, record: JSON.parse(text) as TransformRecord });
    }
    return store;
  }

  get(key: string): StoredTransform | undefined {
    return this.transforms.get(key);
  }

  all(): StoredTransform[] {
    return [...this.transforms.values()];
  }

  /** A fresh directory under tmp/ to build a transform in. */
  async begin(): Promise<string> {
    const dir = join(this.dir, "tmp", randomBytes(8).toString("hex"));
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /**
   * Makes the transform built in `building` (its layout/ complete) visible:
   * writes result.json, then renames the directory into place.
   */
  async commit(building: string, key: string, record: TransformRecord): Promise<StoredTransform> {
    const resultFile = join(building, "result.json");
    await writeFile(resultFile, JSON.stringify(record, null, 2) + "\n");
    const handle = await open(resultFile, "r");
    await handle.sync().finally(() => handle.close());
    const dir = join(this.dir, key);
    // A transform of the same key finished by an earlier run (or process) wins.
    await rename(building, dir).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOTEMPTY" && err.code !== "EEXIST") throw err;
      await rm(building, { recursive: true, force: true });
    });
    const text = await readFile(join(dir, "result.json"), "utf8");
    const stored: StoredTransform = { key, dir, record: JSON.parse(text) as TransformRecord };
    await this.index(stored);
    return stored;
  }

  async discard(building: string): Promise<void> {
    await rm(building, { recursive: true, force: true });
  }

  /** A manifest of a finished transform, by digest. */
  async getManifest(digest: Digest): Promise<StoredManifest | undefined> {
    const bytes = await this.read(digest);
    if (bytes === undefined) return undefined;
    return { digest, mediaType: manifestMediaType(bytes), bytes };
  }

  /** A blob of a finished transform, opened. */
  async openBlob(digest: Digest): Promise<OpenBlob | undefined> {
    const layout = this.contents.get(digest.toString());
    if (layout === undefined) return undefined;
    const handle = await open(blobPath(layout, digest), "r");
    const { size } = await handle.stat();
    return { size, handle };
  }

  /** The manifest a signature tag (sha256-<hex> or sha256-<hex>.sig) names, if a transform wrote it. */
  signatureTag(tag: string): Digest | undefined {
    return SIGNATURE_TAG.test(tag) ? this.signatureTags.get(tag) : undefined;
  }

  /** Referrers of `subject` written by transforms: the children of its referrers tag index. */
  async referrers(subject: Digest): Promise<Descriptor[]> {
    const tagged = this.signatureTags.get(`${subject.algorithm}-${subject.hex}`);
    if (tagged === undefined) return [];
    const bytes = await this.read(tagged);
    if (bytes === undefined) return [];
    const index = JSON.parse(Buffer.from(bytes).toString("utf8")) as { manifests?: Descriptor[] };
    return index.manifests ?? [];
  }

  private async read(digest: Digest): Promise<Uint8Array | undefined> {
    const layout = this.contents.get(digest.toString());
    if (layout === undefined) return undefined;
    return readFile(blobPath(layout, digest));
  }

  private async index(stored: StoredTransform): Promise<void> {
    const layout = join(stored.dir, "layout");
    for (const algorithm of await readdir(join(layout, "blobs"))) {
      for (const hex of await readdir(join(layout, "blobs", algorithm))) {
        this.contents.set(`${algorithm}:${hex}`, layout);
      }
    }
    const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as {
      manifests: Descriptor[];
    };
    for (const entry of index.manifests) {
      const tag = entry.annotations?.[REF_NAME];
      if (tag !== undefined && SIGNATURE_TAG.test(tag)) {
        this.signatureTags.set(tag, Digest.parse(entry.digest));
      }
    }
    this.transforms.set(stored.key, stored);
  }
}

function blobPath(layout: string, digest: Digest): string {
  return join(layout, "blobs", digest.algorithm, digest.hex);
}

/** A manifest's media type from its own mediaType field (OCI outputs always set it). */
function manifestMediaType(bytes: Uint8Array): string {
  const parsed = JSON.parse(Buffer.from(bytes).toString("utf8")) as {
    mediaType?: string;
    manifests?: unknown;
  };
  return (
    parsed.mediaType ??
    (parsed.manifests !== undefined ? MediaType.OciIndex : MediaType.OciManifest)
  );
}
