// Images assembled in memory from a config and built layers: what a writer
// (the demo fixture today, the megabinary transform later) hands to
// writeLayout or a registry push. Manifests are serialised deterministically.
import { Readable } from "node:stream";
import { MegaliftError } from "../errors.js";
import { Digest } from "./digest.js";
import type { Image } from "./image.js";
import { MediaType } from "./media-types.js";
import { loadImageOrIndex, type BlobReader } from "./blob-image.js";
import type { Annotations, Descriptor, ImageConfig, ImageManifest } from "./types.js";
import type { BuiltLayer } from "./deterministic-layer.js";

/** A content-addressed blob store held in memory. */
export class MemoryBlobReader implements BlobReader {
  private readonly blobs = new Map<string, Uint8Array>();

  /** Stores `bytes` and returns their sha256 digest. */
  put(bytes: Uint8Array): Digest {
    const digest = Digest.of(bytes);
    this.blobs.set(digest.toString(), bytes);
    return digest;
  }

  async readBlob(digest: Digest): Promise<Readable> {
    return Readable.from([this.get(digest)]);
  }

  async readBlobBytes(digest: Digest, maxSize: number): Promise<Uint8Array> {
    const bytes = this.get(digest);
    if (bytes.length > maxSize) {
      throw new MegaliftError(
        "MANIFEST_INVALID",
        `blob ${digest.toString()} is over ${maxSize} bytes`,
      );
    }
    return bytes;
  }

  private get(digest: Digest): Uint8Array {
    const bytes = this.blobs.get(digest.toString());
    if (!bytes)
      throw new MegaliftError("BLOB_UNKNOWN", `blob ${digest.toString()} is not in memory`);
    return bytes;
  }
}

export interface ImageParts {
  readonly config: ImageConfig;
  readonly layers: readonly BuiltLayer[];
  readonly annotations?: Annotations;
}

/** An OCI image (gzip layers) from its parts; the config's diff_ids are filled from the layers. */
export async function buildImage(parts: ImageParts): Promise<Image> {
  const blobs = new MemoryBlobReader();
  const config: ImageConfig = {
    ...parts.config,
    rootfs: { type: "layers", diff_ids: parts.layers.map((l) => l.diffId.toString()) },
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = blobs.put(configBytes);
  const layers: Descriptor[] = parts.layers.map((layer) => {
    blobs.put(layer.gzip);
    return {
      mediaType: MediaType.OciLayerGzip,
      digest: layer.digest.toString(),
      size: layer.gzip.length,
    };
  });
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: {
      mediaType: MediaType.OciConfig,
      digest: configDigest.toString(),
      size: configBytes.length,
    },
    layers,
    ...(parts.annotations ? { annotations: parts.annotations } : {}),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const manifestDigest = blobs.put(manifestBytes);
  const loaded = await loadImageOrIndex(
    blobs,
    {
      mediaType: MediaType.OciManifest,
      digest: manifestDigest.toString(),
      size: manifestBytes.length,
    },
    "memory",
  );
  if (loaded.kind !== "image") throw new Error("built manifest did not load as an image");
  return loaded.image;
}
