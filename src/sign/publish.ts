// Publishes a signed transform next to the image: the sigstore bundle as an
// OCI 1.1 referrer (a manifest whose `subject` is the image), and the cosign
// signature at `sha256-<hex>.sig` (cosign SIGNATURE_SPEC.md "Tag-based
// Discovery"). Where the destination keeps no referrers list itself (an OCI
// layout; a registry that does not answer a referrer push with OCI-Subject),
// the referrer is also listed in the index tagged `sha256-<hex>`, merged with
// the one already there (distribution-spec 1.1 "Referrers Tag Schema" and
// "Pushing Manifests with Subject"). The building is shared; a
// SignatureDestination only says where things are written: an OCI layout
// (layoutSignatureDestination) or a registry (src/registry/push-target.ts).
// signTransformedImage is what `megalift transform --key` calls after writing
// the image.
import { isMegaliftError } from "../errors.js";
import { Digest } from "../oci/digest.js";
import type { Image, ImageIndex, ImageOrIndex } from "../oci/image.js";
import { openLayoutSource, writeLayout } from "../oci/layout.js";
import { manifestDescriptor } from "../oci/mutate.js";
import type { Descriptor } from "../oci/types.js";
import { cosignSignatureImage, cosignSignatureTag } from "./cosign.js";
import { bundleReferrerImage, referrersIndex, referrersTag } from "./referrer.js";
import { signTransform, type SignedTransform } from "./sign-transform.js";
import type { SigningSetup } from "./signer.js";
import { subjectsOf } from "./subjects.js";

/** Where signatures are written. RegistryPushTarget satisfies it structurally. */
export interface SignatureDestination {
  /**
   * Stores the referrer artifact by digest. `listsReferrers` is true when the
   * destination then lists it among the subject's referrers by itself (a
   * registry's referrers API), so no referrers tag is needed.
   */
  pushReferrer(image: Image): Promise<{ readonly listsReferrers: boolean }>;
  /** The index at `tag`, undefined if there is none. */
  readIndex(tag: string): Promise<ImageIndex | undefined>;
  /** Stores an image or index (with its content) under `tag`; returns its descriptor. */
  push(value: ImageOrIndex, tag: string): Promise<{ readonly descriptor: Descriptor }>;
}

export interface PublishedSignatures {
  /** The referrer artifact manifest holding the bundle. */
  readonly referrer: Descriptor;
  /**
   * The `sha256-<hex>` tag of the referrers index; undefined when the
   * registry lists referrers itself (referrers API) and no tag was written.
   */
  readonly referrersTag: string | undefined;
  /** The cosign signature manifest and its `sha256-<hex>.sig` tag. */
  readonly cosign: Descriptor;
  readonly cosignTag: string;
}

/**
 * An OCI layout as a signature destination. A layout has no referrers API:
 * the referrer is stored as a child of the referrers tag index, not alone.
 */
export function layoutSignatureDestination(dir: string): SignatureDestination {
  return {
    pushReferrer: async () => ({ listsReferrers: false }),
    async readIndex(tag) {
      try {
        const resolved = await (await openLayoutSource({ transport: "oci", dir, tag })).resolve();
        return resolved.kind === "index" ? resolved.index : undefined;
      } catch (err) {
        if (isMegaliftError(err, "MANIFEST_UNKNOWN") || isMegaliftError(err, "IO"))
          return undefined;
        throw err;
      }
    },
    push: async (value, tag) => ({ descriptor: await writeLayout(dir, tag, value) }),
  };
}

/** Publishes the bundle referrer and the cosign signature of `subject` to `destination`. */
export async function publishSignatures(
  destination: SignatureDestination,
  subject: Descriptor,
  signed: SignedTransform,
): Promise<PublishedSignatures> {
  const digest = Digest.parse(subject.digest);
  const referrer = await bundleReferrerImage(subject, signed.bundle);
  const { listsReferrers } = await destination.pushReferrer(referrer);
  let tag: string | undefined;
  if (!listsReferrers) {
    tag = referrersTag(digest);
    const index = await referrersIndex([referrer], await destination.readIndex(tag));
    await destination.push({ kind: "index", index }, tag);
  }
  const cosign = await cosignSignatureImage(signed.cosign.payload, signed.cosign.signature);
  const cosignTag = cosignSignatureTag(digest);
  const pushedCosign = await destination.push({ kind: "image", image: cosign }, cosignTag);
  return {
    referrer: await manifestDescriptor(referrer, {
      artifactType: (await referrer.manifest()).artifactType,
    }),
    referrersTag: tag,
    cosign: pushedCosign.descriptor,
    cosignTag,
  };
}

/** Writes the bundle referrer and the cosign signature of `subject` into the layout at `dir`. */
export function publishSignaturesToLayout(
  dir: string,
  subject: Descriptor,
  signed: SignedTransform,
): Promise<PublishedSignatures> {
  return publishSignatures(layoutSignatureDestination(dir), subject, signed);
}

export type SignTransformedImageOptions = (
  | {
      /** The OCI layout the transformed image was written to. */
      readonly dir: string;
    }
  | {
      /** Where the transformed image was written (a registry, a layout). */
      readonly destination: SignatureDestination;
    }
) & {
  /** The augmented linux/amd64 image (already at the destination). */
  readonly image: Image;
  readonly megabinary: Uint8Array;
  /** The mapping.json bytes in the megabinary layer. */
  readonly mapping: Uint8Array;
  readonly setup: SigningSetup;
  /** How the transformed image is named, for cosign's docker-reference. */
  readonly reference: string;
  readonly toolchainVersion: string;
  readonly source?: { readonly name: string; readonly digest: string };
};

/** Signs the augmented image and publishes both signature forms to the destination. */
export async function signTransformedImage(
  options: SignTransformedImageOptions,
): Promise<{ signed: SignedTransform; published: PublishedSignatures }> {
  const subjects = subjectsOf(options.image.digest, options.megabinary, options.mapping);
  const signed = await signTransform(options.setup, {
    subjects,
    dockerReference: options.reference,
    predicate: {
      toolchainVersion: options.toolchainVersion,
      ...(options.source !== undefined ? { source: options.source } : {}),
    },
  });
  const destination =
    "destination" in options ? options.destination : layoutSignatureDestination(options.dir);
  const published = await publishSignatures(
    destination,
    await manifestDescriptor(options.image),
    signed,
  );
  return { signed, published };
}
