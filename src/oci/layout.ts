// OCI image layout directories (image-spec v1.1 image-layout.md): reading an
// image or index by tag or digest, and writing one, content-addressed and
// atomically, so that `oci:DIR:TAG` works as both source and destination.
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isMegaliftError, MegaliftError } from "../errors.js";
import { Digest } from "./digest.js";
import {
  blobReaderOf,
  loadImageOrIndex,
  MAX_MANIFEST_BYTES,
  selectPlatformImage,
  type BlobReader,
} from "./blob-image.js";
import type { Image, ImageIndex, ImageOrIndex } from "./image.js";
import { isIndexMediaType, isManifestMediaType, MediaType } from "./media-types.js";
import { formatReference } from "./reference.js";
import {
  parseLayoutFileBytes,
  parseManifestBytes,
  validateDocument,
  parseJsonBytes,
} from "./schema.js";
import type { ImageSource, SourceReference } from "./source.js";
import {
  ANNOTATION_REF_NAME,
  OCI_LAYOUT_VERSION,
  type Descriptor,
  type ImageIndexManifest,
} from "./types.js";

export type OciReference = Extract<SourceReference, { transport: "oci" }>;

function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** image-layout.md "Blobs": blobs/<alg>/<encoded>. */
export function layoutBlobPath(dir: string, digest: Digest): string {
  return join(dir, "blobs", digest.algorithm, digest.hex);
}

/** The blobs of a layout directory. */
export class LayoutBlobReader implements BlobReader {
  constructor(readonly dir: string) {}

  async readBlob(digest: Digest): Promise<Readable> {
    const handle = await open(layoutBlobPath(this.dir, digest), "r").catch((err: unknown) => {
      throw this.blobError(digest, err);
    });
    return handle.createReadStream();
  }

  async readBlobBytes(digest: Digest, maxSize: number): Promise<Uint8Array> {
    const path = layoutBlobPath(this.dir, digest);
    try {
      const { size } = await stat(path);
      if (size > maxSize) {
        throw new MegaliftError(
          "MANIFEST_INVALID",
          `blob ${digest.toString()} in oci:${this.dir} is ${size} bytes, more than the ${maxSize} megalift reads`,
        );
      }
      return await readFile(path);
    } catch (err) {
      throw this.blobError(digest, err);
    }
  }

  private blobError(digest: Digest, err: unknown): MegaliftError {
    if (isMegaliftError(err)) return err;
    if (errnoCode(err) === "ENOENT") {
      return new MegaliftError(
        "BLOB_UNKNOWN",
        `blob ${digest.toString()} is missing from oci:${this.dir}`,
        {
          cause: err,
        },
      );
    }
    const reason = err instanceof Error ? err.message : String(err);
    return new MegaliftError(
      "IO",
      `cannot read blob ${digest.toString()} in oci:${this.dir}: ${reason}`,
      {
        cause: err,
      },
    );
  }
}

/** Checks the directory and its oci-layout file, then reads and validates index.json. */
export async function readLayoutIndex(dir: string): Promise<ImageIndexManifest> {
  const where = `oci:${dir}`;
  const info = await stat(dir).catch((err: unknown) => {
    throw new MegaliftError(
      "IO",
      errnoCode(err) === "ENOENT"
        ? `cannot open ${where}: directory ${dir} does not exist`
        : `cannot open ${where}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  });
  if (!info.isDirectory())
    throw new MegaliftError("IO", `cannot open ${where}: ${dir} is not a directory`);
  const layoutFile = await readFile(join(dir, "oci-layout")).catch((err: unknown) => {
    throw new MegaliftError("IO", `${dir} is not an OCI image layout: it has no oci-layout file`, {
      cause: err,
    });
  });
  parseLayoutFileBytes(layoutFile, `oci-layout file of ${where}`);
  const indexBytes = await readFile(join(dir, "index.json")).catch((err: unknown) => {
    throw new MegaliftError("IO", `${dir} is not an OCI image layout: it has no index.json`, {
      cause: err,
    });
  });
  const what = `index.json of ${where}`;
  const doc = parseJsonBytes(indexBytes, what);
  validateDocument("image-index", doc, what);
  return doc as ImageIndexManifest;
}

function tagsOf(index: ImageIndexManifest): string[] {
  return index.manifests.flatMap((d) => {
    const tag = d.annotations?.[ANNOTATION_REF_NAME];
    return tag === undefined ? [] : [tag];
  });
}

function tagList(index: ImageIndexManifest): string {
  const tags = tagsOf(index);
  return tags.length > 0 ? tags.join(", ") : "none";
}

/** The index.json entry a reference names (image-layout.md "index.json"; annotations.md ref.name). */
async function findDescriptor(
  ref: OciReference,
  index: ImageIndexManifest,
  blobs: LayoutBlobReader,
): Promise<Descriptor> {
  const where = `oci:${ref.dir}`;
  if (ref.digest !== undefined) {
    const listed = index.manifests.find((d) => d.digest === ref.digest);
    if (listed) return listed;
    // Not in index.json: perhaps a child of a listed index; its own bytes tell its media type.
    const digest = Digest.parse(ref.digest);
    const bytes = await blobs.readBlobBytes(digest, MAX_MANIFEST_BYTES).catch((err: unknown) => {
      if (isMegaliftError(err, "BLOB_UNKNOWN")) {
        throw new MegaliftError("MANIFEST_UNKNOWN", `manifest ${ref.digest} not found in ${where}`);
      }
      throw err;
    });
    const parsed = parseManifestBytes(bytes, undefined, `manifest ${ref.digest} in ${where}`);
    return { mediaType: parsed.mediaType, digest: ref.digest, size: bytes.length };
  }
  if (ref.tag !== undefined) {
    const tagged = index.manifests.find((d) => d.annotations?.[ANNOTATION_REF_NAME] === ref.tag);
    if (!tagged) {
      throw new MegaliftError(
        "MANIFEST_UNKNOWN",
        `tag ${ref.tag} not found in ${where} (tags: ${tagList(index)})`,
      );
    }
    return tagged;
  }
  const [only, ...others] = index.manifests;
  if (!only) throw new MegaliftError("MANIFEST_UNKNOWN", `${where} holds no images`);
  if (others.length > 0) {
    throw new MegaliftError(
      "MANIFEST_UNKNOWN",
      `${where} holds ${index.manifests.length} images; name one with :TAG or @DIGEST (tags: ${tagList(index)})`,
    );
  }
  return only;
}

class LayoutSource implements ImageSource {
  private resolved: Promise<ImageOrIndex> | undefined;

  constructor(
    readonly reference: OciReference,
    readonly display: string,
    private readonly index: ImageIndexManifest,
    private readonly blobs: LayoutBlobReader,
  ) {}

  resolve(): Promise<ImageOrIndex> {
    this.resolved ??= findDescriptor(this.reference, this.index, this.blobs).then((d) =>
      loadImageOrIndex(this.blobs, d, this.display),
    );
    return this.resolved;
  }

  async image(platform?: { os: string; architecture: string }): Promise<Image> {
    return selectPlatformImage(await this.resolve(), this.display, platform);
  }

  async close(): Promise<void> {}
}

/** Opens an OCI layout as an image source (IO if the directory is not a layout). */
export async function openLayoutSource(
  ref: OciReference,
  display = formatReference(ref),
): Promise<ImageSource> {
  const index = await readLayoutIndex(ref.dir);
  return new LayoutSource(ref, display, index, new LayoutBlobReader(ref.dir));
}

// ---- writing -------------------------------------------------------------

/** Writes `bytes` to `path` through a temp file in the same directory and a rename. */
async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const temp = join(dirname(path), `.${randomBytes(8).toString("hex")}.tmp`);
  try {
    await writeFile(temp, bytes);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

async function blobPresent(path: string, size: number): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  return info !== undefined && info.isFile() && info.size === size;
}

/** Copies one blob into the layout, verified as it streams; skipped if already there. */
async function writeBlob(
  dir: string,
  descriptor: Descriptor,
  open: () => Promise<Readable>,
): Promise<void> {
  const digest = Digest.parse(descriptor.digest);
  const path = layoutBlobPath(dir, digest);
  if (await blobPresent(path, descriptor.size)) return;
  await mkdir(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${digest.hex}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await pipeline(
      await open(),
      digest.verifier(`blob ${digest.toString()}`, descriptor.size),
      createWriteStream(temp),
    );
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

async function writeBlobBytes(dir: string, digest: Digest, bytes: Uint8Array): Promise<void> {
  const path = layoutBlobPath(dir, digest);
  if (await blobPresent(path, bytes.length)) return;
  digest.verifyBytes(bytes, `blob ${digest.toString()}`);
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, bytes);
}

/** Copies an image: layers, then config, then the manifest, so a present manifest implies its blobs. */
async function copyImage(dir: string, image: Image): Promise<void> {
  const manifest = await image.manifest();
  const blobs = blobReaderOf(image);
  for (const layer of manifest.layers) {
    const digest = Digest.parse(layer.digest);
    await writeBlob(dir, layer, async () =>
      blobs ? blobs.readBlob(digest) : (await image.layerByDigest(digest)).compressed(),
    );
  }
  const configDigest = Digest.parse(manifest.config.digest);
  if (blobs) await writeBlob(dir, manifest.config, () => blobs.readBlob(configDigest));
  else await writeBlobBytes(dir, configDigest, await image.rawConfig());
  await writeBlobBytes(dir, image.digest, await image.rawManifest());
}

/** Copies an index with every child it lists (image-index.md "manifests"). */
async function copyIndex(dir: string, index: ImageIndex): Promise<void> {
  const blobs = blobReaderOf(index);
  for (const child of (await index.indexManifest()).manifests) {
    const digest = Digest.parse(child.digest);
    if (isIndexMediaType(child.mediaType)) await copyIndex(dir, await index.imageIndex(digest));
    else if (isManifestMediaType(child.mediaType)) await copyImage(dir, await index.image(digest));
    else if (blobs) await writeBlob(dir, child, () => blobs.readBlob(digest));
    else {
      throw new MegaliftError(
        "MEDIA_TYPE_UNKNOWN",
        `cannot copy index entry ${child.digest} of media type ${child.mediaType}`,
      );
    }
  }
  await writeBlobBytes(dir, index.digest, await index.rawManifest());
}

async function ensureLayoutFile(dir: string): Promise<void> {
  const path = join(dir, "oci-layout");
  const existing = await readFile(path).catch((err: unknown) => {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  });
  if (existing) {
    parseLayoutFileBytes(existing, `oci-layout file of oci:${dir}`);
    return;
  }
  await writeFileAtomic(path, JSON.stringify({ imageLayoutVersion: OCI_LAYOUT_VERSION }));
}

async function existingIndex(dir: string): Promise<ImageIndexManifest | undefined> {
  const bytes = await readFile(join(dir, "index.json")).catch((err: unknown) => {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  });
  if (!bytes) return undefined;
  const what = `index.json of oci:${dir}`;
  const doc = parseJsonBytes(bytes, what);
  validateDocument("image-index", doc, what);
  return doc as ImageIndexManifest;
}

/**
 * index.json entries with `entry` in the place of the one it replaces (same
 * tag; or, untagged, same digest and no tag), so rewriting a tag keeps the
 * file's order; appended if it replaces nothing.
 */
function replaceEntry(
  entries: readonly Descriptor[],
  entry: Descriptor,
  tag: string | undefined,
): Descriptor[] {
  const replaces = (d: Descriptor): boolean => {
    const name = d.annotations?.[ANNOTATION_REF_NAME];
    return tag !== undefined ? name === tag : name === undefined && d.digest === entry.digest;
  };
  const at = entries.findIndex(replaces);
  if (at < 0) return [...entries, entry];
  return entries.flatMap((d, i) => (i === at ? [entry] : replaces(d) ? [] : [d]));
}

/**
 * Writes an image or index into the layout at `dir` (created if needed) and
 * names it `tag` in index.json, replacing an entry with the same tag. With no
 * tag, the entry is added without a name (replacing an unnamed entry with the
 * same digest). Blobs go in first and index.json last, each file atomically,
 * so a crash never leaves index.json naming missing blobs. Returns the entry.
 */
export async function writeLayout(
  dir: string,
  tag: string | undefined,
  value: ImageOrIndex,
): Promise<Descriptor> {
  try {
    await mkdir(dir, { recursive: true });
    await ensureLayoutFile(dir);
    const top: Image | ImageIndex = value.kind === "image" ? value.image : value.index;
    if (value.kind === "image") await copyImage(dir, value.image);
    else await copyIndex(dir, value.index);
    const raw = await top.rawManifest();
    const entry: Descriptor = {
      mediaType: top.mediaType,
      digest: top.digest.toString(),
      size: raw.length,
      ...(tag !== undefined ? { annotations: { [ANNOTATION_REF_NAME]: tag } } : {}),
    };
    const previous = await existingIndex(dir);
    const index: ImageIndexManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: replaceEntry(previous?.manifests ?? [], entry, tag),
      ...(previous?.annotations ? { annotations: previous.annotations } : {}),
    };
    await writeFileAtomic(join(dir, "index.json"), `${JSON.stringify(index)}\n`);
    return entry;
  } catch (err) {
    if (isMegaliftError(err)) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new MegaliftError("IO", `cannot write oci:${dir}: ${reason}`, { cause: err });
  }
}
