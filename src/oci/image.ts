// Image interfaces in the spirit of go-containerregistry: small, accessor-only,
// async, immutable. A source (OCI layout, docker-archive, registry) produces
// these; stages consume them and never care where the bytes came from.
import type { Readable } from "node:stream";
import type { Digest } from "./digest.js";
import type { LayerCompression } from "./media-types.js";
import type { Descriptor, ImageConfig, ImageIndexManifest, ImageManifest } from "./types.js";

/** One layer: `digest` names the stored (maybe compressed) blob, `diffId` the uncompressed tar. */
export interface Layer {
  readonly descriptor: Descriptor;
  readonly digest: Digest;
  /** The diff_id from the image config (sha256 of the uncompressed tar). */
  readonly diffId: Digest;
  readonly mediaType: string;
  readonly compression: LayerCompression;
  /** Size of the stored blob in bytes. */
  readonly size: number;
  /** The stored bytes, verified against `digest` as they stream (DIGEST_MISMATCH at the end). */
  compressed(): Promise<Readable>;
  /** The uncompressed tar stream; LAYER_CORRUPT if decompression fails. */
  uncompressed(): Promise<Readable>;
}

export interface Image {
  /** Digest of the raw manifest bytes. */
  readonly digest: Digest;
  readonly mediaType: string;
  rawManifest(): Promise<Uint8Array>;
  manifest(): Promise<ImageManifest>;
  rawConfig(): Promise<Uint8Array>;
  config(): Promise<ImageConfig>;
  /** Layers in application order (base first). */
  layers(): Promise<readonly Layer[]>;
  layerByDigest(digest: Digest): Promise<Layer>;
}

export interface ImageIndex {
  readonly digest: Digest;
  readonly mediaType: string;
  rawManifest(): Promise<Uint8Array>;
  indexManifest(): Promise<ImageIndexManifest>;
  image(digest: Digest): Promise<Image>;
  imageIndex(digest: Digest): Promise<ImageIndex>;
}

/** What a reference resolves to: an image, or an index of images. */
export type ImageOrIndex =
  | { readonly kind: "image"; readonly image: Image }
  | { readonly kind: "index"; readonly index: ImageIndex };

/** The platform megalift transforms and runs. */
export const TARGET_PLATFORM = { os: "linux", architecture: "amd64" } as const;
