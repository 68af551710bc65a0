// The sigstore bundle as an OCI 1.1 referrer (image-spec manifest.md
// "artifactType" and "subject"; distribution-spec 1.1 "Listing Referrers"):
// an artifact manifest with artifactType = the bundle media type, the empty
// config, one layer holding the bundle JSON, and `subject` = the signed image.
// Where no referrers API exists (an OCI layout, older registries) referrers are
// found through the distribution-spec "Referrers Tag Schema": an index tagged
// `sha256-<hex>` listing them.
import { BUNDLE_V03_MEDIA_TYPE } from "@sigstore/bundle";
import { Digest } from "../oci/digest.js";
import type { Image, ImageIndex } from "../oci/image.js";
import { MediaType } from "../oci/media-types.js";
import {
  EMPTY_DESCRIPTOR,
  imageFromManifest,
  indexFromManifest,
  manifestDescriptor,
} from "../oci/mutate.js";
import type { Descriptor, ImageIndexManifest, ImageManifest } from "../oci/types.js";
import { TRANSFORM_PREDICATE_TYPE } from "./statement.js";

/** application/vnd.dev.sigstore.bundle.v0.3+json (sigstore bundle spec). */
export const SIGSTORE_BUNDLE_MEDIA_TYPE: string = BUNDLE_V03_MEDIA_TYPE;

/** Annotations that let a referrers listing be filtered without fetching the bundle. */
export const BundleAnnotation = {
  Content: "dev.sigstore.bundle.content",
  PredicateType: "dev.sigstore.bundle.predicateType",
} as const;

/** The referrers fallback tag for a subject (distribution-spec "Referrers Tag Schema"). */
export function referrersTag(digest: Digest): string {
  return `${digest.algorithm}-${digest.hex}`;
}

/** The referrer artifact holding `bundle` for the manifest `subject` describes. */
export async function bundleReferrerImage(subject: Descriptor, bundle: Uint8Array): Promise<Image> {
  const empty = Buffer.from(EMPTY_DESCRIPTOR.data ?? "", "base64");
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: SIGSTORE_BUNDLE_MEDIA_TYPE,
    config: EMPTY_DESCRIPTOR,
    layers: [
      {
        mediaType: SIGSTORE_BUNDLE_MEDIA_TYPE,
        digest: Digest.of(bundle).toString(),
        size: bundle.length,
      },
    ],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: {
      [BundleAnnotation.Content]: "dsse-envelope",
      [BundleAnnotation.PredicateType]: TRANSFORM_PREDICATE_TYPE,
    },
  };
  return imageFromManifest(manifest, [empty, bundle], [], "sigstore bundle referrer");
}

/**
 * The referrers index for a subject: the entries of `previous` (an existing
 * `sha256-<hex>` index) plus `referrers`, each listed with its artifactType
 * and annotations as the referrers API lists them; a digest appears once.
 */
export async function referrersIndex(
  referrers: readonly Image[],
  previous?: ImageIndex,
): Promise<ImageIndex> {
  const added: Descriptor[] = [];
  for (const image of referrers) {
    const manifest = await image.manifest();
    added.push(
      await manifestDescriptor(image, {
        ...(manifest.artifactType !== undefined ? { artifactType: manifest.artifactType } : {}),
        ...(manifest.annotations !== undefined ? { annotations: manifest.annotations } : {}),
      }),
    );
  }
  const digests = new Set(added.map((d) => d.digest));
  const kept = previous
    ? (await previous.indexManifest()).manifests.filter((d) => !digests.has(d.digest))
    : [];
  const keptImages = previous
    ? await Promise.all(kept.map((d) => previous.image(Digest.parse(d.digest))))
    : [];
  const index: ImageIndexManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [...kept, ...added],
  };
  return indexFromManifest(index, [...keptImages, ...referrers], "referrers index");
}
