// Pushes images and indexes to a registry (the docker:// destination): an
// image's layers and config, then its manifest; an index's children by
// digest, then the index (distribution-spec v1.1 "Push": a manifest may only
// name content the repository already holds, so content goes up before what
// refers to it, as writeLayout orders a layout). Blobs come from the image's
// own store when it has one, so source layers are copied byte for byte.
import { MegaliftError } from "../errors.js";
import { blobReaderOf } from "../oci/blob-image.js";
import { Digest } from "../oci/digest.js";
import type { Image, ImageIndex, ImageOrIndex } from "../oci/image.js";
import { isIndexMediaType, isManifestMediaType } from "../oci/media-types.js";
import type { Descriptor } from "../oci/types.js";
import { manifestExists, pushManifest, type PushedManifest } from "./push-manifest.js";
import { pushBlob, type BlobPushOutcome, type UploadContext } from "./upload.js";

export interface PushOptions {
  /** A repository on the same registry that may hold the blobs already (cross-repository mount). */
  readonly mountFrom?: string;
  /** Told of each blob as it is pushed or found present. */
  readonly onBlob?: (digest: Digest, outcome: BlobPushOutcome) => void;
}

export interface PushResult extends PushedManifest {
  readonly descriptor: Descriptor;
}

async function pushImageContent(
  ctx: UploadContext,
  repository: string,
  image: Image,
  options: PushOptions,
): Promise<void> {
  const manifest = await image.manifest();
  const blobs = blobReaderOf(image);
  const mount = options.mountFrom !== undefined ? { mountFrom: options.mountFrom } : {};
  for (const layer of manifest.layers) {
    const digest = Digest.parse(layer.digest);
    const outcome = await pushBlob(
      ctx,
      repository,
      {
        digest,
        size: layer.size,
        open: async () =>
          blobs ? blobs.readBlob(digest) : (await image.layerByDigest(digest)).compressed(),
      },
      mount,
    );
    options.onBlob?.(digest, outcome);
  }
  const config = Digest.parse(manifest.config.digest);
  const outcome = await pushBlob(
    ctx,
    repository,
    {
      digest: config,
      size: manifest.config.size,
      open: async () => (blobs ? blobs.readBlob(config) : image.rawConfig()),
    },
    mount,
  );
  options.onBlob?.(config, outcome);
}

async function pushChildren(
  ctx: UploadContext,
  repository: string,
  index: ImageIndex,
  options: PushOptions,
): Promise<void> {
  for (const child of (await index.indexManifest()).manifests) {
    const digest = Digest.parse(child.digest);
    // A child already there (a kept entry of a referrers index) is not read again.
    if (await manifestExists(ctx, repository, digest)) continue;
    if (isIndexMediaType(child.mediaType)) {
      await pushValue(
        ctx,
        repository,
        { kind: "index", index: await index.imageIndex(digest) },
        undefined,
        options,
      );
    } else if (isManifestMediaType(child.mediaType)) {
      await pushValue(
        ctx,
        repository,
        { kind: "image", image: await index.image(digest) },
        undefined,
        options,
      );
    } else {
      throw new MegaliftError(
        "MEDIA_TYPE_UNKNOWN",
        `cannot push index entry ${child.digest} of media type ${child.mediaType}`,
      );
    }
  }
}

/**
 * Pushes an image or an index (with everything it names) into `repository`,
 * its top manifest at `tag`, or by digest when `tag` is undefined.
 */
export async function pushValue(
  ctx: UploadContext,
  repository: string,
  value: ImageOrIndex,
  tag: string | undefined,
  options: PushOptions = {},
): Promise<PushResult> {
  const top: Image | ImageIndex = value.kind === "image" ? value.image : value.index;
  if (value.kind === "image") await pushImageContent(ctx, repository, value.image, options);
  else await pushChildren(ctx, repository, value.index, options);
  const raw = await top.rawManifest();
  const pushed = await pushManifest(
    ctx,
    repository,
    tag ?? top.digest.toString(),
    top.mediaType,
    raw,
  );
  if (!pushed.digest.equals(top.digest)) {
    throw new MegaliftError(
      "DIGEST_MISMATCH",
      `manifest ${top.digest.toString()} serialised to bytes that hash to ${pushed.digest.toString()}`,
    );
  }
  return {
    ...pushed,
    descriptor: { mediaType: top.mediaType, digest: top.digest.toString(), size: raw.length },
  };
}
