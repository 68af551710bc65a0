// Image and ImageIndex over any content-addressed blob store (an OCI layout
// directory, a docker-archive, later a registry). Manifests and configs are
// size- and digest-checked, then schema-validated, before anything reads them.
import type { Readable } from "node:stream";
import { MegaliftError } from "../errors.js";
import { Digest } from "./digest.js";
import {
  TARGET_PLATFORM,
  type Image,
  type ImageIndex,
  type ImageOrIndex,
  type Layer,
} from "./image.js";
import { createBlobLayer } from "./layer.js";
import { isIndexMediaType, isManifestMediaType, MediaType } from "./media-types.js";
import { parseConfigBytes, parseManifestBytes } from "./schema.js";
import type {
  Descriptor,
  ImageConfig,
  ImageIndexManifest,
  ImageManifest,
  Platform,
} from "./types.js";

/** The blob access a source provides. Neither method verifies the bytes. */
export interface BlobReader {
  /** Streams the stored bytes of a blob; BLOB_UNKNOWN if the store does not hold it. */
  readBlob(digest: Digest): Promise<Readable>;
  /** The whole blob; BLOB_UNKNOWN if absent, MANIFEST_INVALID if it is larger than maxSize. */
  readBlobBytes(digest: Digest, maxSize: number): Promise<Uint8Array>;
}

/** Largest manifest megalift reads (distribution-spec: registries may refuse manifests over 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Largest image config megalift reads. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** Reads a small blob and checks it against its descriptor's size and digest. */
async function readVerified(
  blobs: BlobReader,
  descriptor: Descriptor,
  maxSize: number,
  what: string,
): Promise<Uint8Array> {
  if (descriptor.size > maxSize) {
    throw new MegaliftError(
      "MANIFEST_INVALID",
      `${what} is ${descriptor.size} bytes, more than the ${maxSize} megalift reads`,
    );
  }
  const digest = Digest.parse(descriptor.digest);
  const bytes = await blobs.readBlobBytes(digest, maxSize);
  if (bytes.length !== descriptor.size) {
    throw new MegaliftError(
      "DIGEST_MISMATCH",
      `size mismatch for ${what}: expected ${descriptor.size} bytes, got ${bytes.length}`,
    );
  }
  digest.verifyBytes(bytes, what);
  return bytes;
}

/** Loads what `descriptor` names — an image manifest or an index — from `blobs`. */
export async function loadImageOrIndex(
  blobs: BlobReader,
  descriptor: Descriptor,
  where: string,
): Promise<ImageOrIndex> {
  const what = `manifest ${descriptor.digest} in ${where}`;
  const raw = await readVerified(blobs, descriptor, MAX_MANIFEST_BYTES, what);
  const parsed = parseManifestBytes(raw, descriptor.mediaType, what);
  const digest = Digest.parse(descriptor.digest);
  return parsed.kind === "image"
    ? {
        kind: "image",
        image: new BlobImage(blobs, digest, parsed.mediaType, raw, parsed.manifest, where),
      }
    : {
        kind: "index",
        index: new BlobImageIndex(blobs, digest, parsed.mediaType, raw, parsed.index, where),
      };
}

/** The store an image or index reads from, if it is blob-backed (used to copy blobs verbatim). */
export function blobReaderOf(value: Image | ImageIndex): BlobReader | undefined {
  return value instanceof BlobImage || value instanceof BlobImageIndex ? value.blobs : undefined;
}

export class BlobImage implements Image {
  private configPromise: Promise<{ raw: Uint8Array; config: ImageConfig }> | undefined;
  private layersPromise: Promise<readonly Layer[]> | undefined;

  constructor(
    readonly blobs: BlobReader,
    readonly digest: Digest,
    readonly mediaType: string,
    private readonly raw: Uint8Array,
    private readonly parsed: ImageManifest,
    private readonly where: string,
  ) {}

  async rawManifest(): Promise<Uint8Array> {
    return this.raw;
  }

  async manifest(): Promise<ImageManifest> {
    return this.parsed;
  }

  async rawConfig(): Promise<Uint8Array> {
    return (await this.loadConfig()).raw;
  }

  async config(): Promise<ImageConfig> {
    return (await this.loadConfig()).config;
  }

  async layers(): Promise<readonly Layer[]> {
    this.layersPromise ??= this.buildLayers();
    return this.layersPromise;
  }

  async layerByDigest(digest: Digest): Promise<Layer> {
    const layer = (await this.layers()).find((l) => l.digest.equals(digest));
    if (!layer) {
      throw new MegaliftError(
        "BLOB_UNKNOWN",
        `image ${this.digest.toString()} in ${this.where} has no layer ${digest.toString()}`,
      );
    }
    return layer;
  }

  private loadConfig(): Promise<{ raw: Uint8Array; config: ImageConfig }> {
    this.configPromise ??= (async () => {
      const descriptor = this.parsed.config;
      // manifest.md "config": a container image's config is an image config; anything
      // else (an artifact's config, the empty descriptor) is not an image megalift can run.
      if (
        descriptor.mediaType !== MediaType.OciConfig &&
        descriptor.mediaType !== MediaType.DockerConfig
      ) {
        throw new MegaliftError(
          "MEDIA_TYPE_UNKNOWN",
          `manifest ${this.digest.toString()} in ${this.where} is not a container image: its config has media type ${descriptor.mediaType}`,
        );
      }
      const what = `config ${descriptor.digest} of image ${this.digest.toString()} in ${this.where}`;
      const raw = await readVerified(this.blobs, descriptor, MAX_CONFIG_BYTES, what);
      return { raw, config: parseConfigBytes(raw, what) };
    })();
    return this.configPromise;
  }

  private async buildLayers(): Promise<readonly Layer[]> {
    const diffIds = (await this.config()).rootfs.diff_ids;
    const descriptors = this.parsed.layers;
    // config.md "rootfs": diff_ids are in the same order as the manifest's layers.
    if (diffIds.length !== descriptors.length) {
      throw new MegaliftError(
        "MANIFEST_INVALID",
        `image ${this.digest.toString()} in ${this.where} has ${descriptors.length} layers but its config lists ${diffIds.length} diff_ids`,
      );
    }
    return descriptors.map((descriptor, i) => {
      const digest = Digest.parse(descriptor.digest);
      return createBlobLayer({
        descriptor,
        diffId: Digest.parse(diffIds[i] ?? ""),
        open: () => this.blobs.readBlob(digest),
      });
    });
  }
}

export class BlobImageIndex implements ImageIndex {
  constructor(
    readonly blobs: BlobReader,
    readonly digest: Digest,
    readonly mediaType: string,
    private readonly raw: Uint8Array,
    private readonly parsed: ImageIndexManifest,
    private readonly where: string,
  ) {}

  async rawManifest(): Promise<Uint8Array> {
    return this.raw;
  }

  async indexManifest(): Promise<ImageIndexManifest> {
    return this.parsed;
  }

  async image(digest: Digest): Promise<Image> {
    const child = await this.child(digest);
    if (child.kind !== "image") {
      throw new MegaliftError(
        "MANIFEST_INVALID",
        `${digest.toString()} in ${this.where} is an index, not an image`,
      );
    }
    return child.image;
  }

  async imageIndex(digest: Digest): Promise<ImageIndex> {
    const child = await this.child(digest);
    if (child.kind !== "index") {
      throw new MegaliftError(
        "MANIFEST_INVALID",
        `${digest.toString()} in ${this.where} is an image, not an index`,
      );
    }
    return child.index;
  }

  private async child(digest: Digest): Promise<ImageOrIndex> {
    const descriptor = this.parsed.manifests.find((d) => d.digest === digest.toString());
    if (!descriptor) {
      throw new MegaliftError(
        "MANIFEST_UNKNOWN",
        `index ${this.digest.toString()} in ${this.where} does not list ${digest.toString()}`,
      );
    }
    return loadImageOrIndex(this.blobs, descriptor, this.where);
  }
}

type PlatformWanted = Pick<Platform, "os" | "architecture">;

function formatPlatform(p: Partial<Platform>): string {
  return [p.os ?? "?", p.architecture ?? "?", p.variant].filter((s) => s !== undefined).join("/");
}

/**
 * The image for `platform`: `resolved` itself if it is an image, else the
 * matching child of the index (image-index.md "platform"), searching nested
 * indexes and, for children without a platform field, their configs.
 * MANIFEST_UNKNOWN listing the platforms present if none matches.
 */
export async function selectPlatformImage(
  resolved: ImageOrIndex,
  where: string,
  platform: PlatformWanted = TARGET_PLATFORM,
): Promise<Image> {
  if (resolved.kind === "image") return resolved.image;
  const seen: string[] = [];
  const found = await searchIndex(resolved.index, platform, seen);
  if (found) return found;
  const present = seen.length > 0 ? [...new Set(seen)].join(", ") : "none";
  throw new MegaliftError(
    "MANIFEST_UNKNOWN",
    `${where} has no ${formatPlatform(platform)} image (platforms present: ${present})`,
  );
}

async function searchIndex(
  index: ImageIndex,
  wanted: PlatformWanted,
  seen: string[],
): Promise<Image | undefined> {
  for (const descriptor of (await index.indexManifest()).manifests) {
    const digest = Digest.parse(descriptor.digest);
    if (isIndexMediaType(descriptor.mediaType)) {
      const found = await searchIndex(await index.imageIndex(digest), wanted, seen);
      if (found) return found;
      continue;
    }
    if (!isManifestMediaType(descriptor.mediaType)) continue;
    if (descriptor.platform) {
      seen.push(formatPlatform(descriptor.platform));
      if (matches(descriptor.platform, wanted)) return index.image(digest);
      continue;
    }
    const image = await index.image(digest);
    // Without a platform field only the config tells; skip artifacts (manifest.md "config").
    const configType = (await image.manifest()).config.mediaType;
    if (configType !== MediaType.OciConfig && configType !== MediaType.DockerConfig) continue;
    const config = await image.config();
    seen.push(formatPlatform(config));
    if (matches(config, wanted)) return image;
  }
  return undefined;
}

function matches(p: PlatformWanted, wanted: PlatformWanted): boolean {
  return p.os === wanted.os && p.architecture === wanted.architecture;
}
