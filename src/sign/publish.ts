// Publishes a signed transform next to the image in an OCI layout: the
// sigstore bundle as an OCI 1.1 referrer, reachable through the referrers tag
// `sha256-<hex>` (distribution-spec 1.1 "Referrers Tag Schema", since a layout
// has no referrers API), and the cosign signature at `sha256-<hex>.sig`
// (cosign SIGNATURE_SPEC.md "Tag-based Discovery"). signTransformedImage is
// what `megalift transform --key` calls after writing the image.
import { isMegaliftError } from "../errors.js";
import { Digest } from "../oci/digest.js";
import type { Image, ImageIndex } from "../oci/image.js";
import { openLayoutSource, writeLayout } from "../oci/layout.js";
import { manifestDescriptor } from "../oci/mutate.js";
import type { Descriptor } from "../oci/types.js";
import { cosignSignatureImage, cosignSignatureTag } from "./cosign.js";
import { bundleReferrerImage, referrersIndex, referrersTag } from "./referrer.js";
import { signTransform, type SignedTransform } from "./sign-transform.js";
import type { SigningSetup } from "./signer.js";
import { subjectsOf } from "./subjects.js";

export interface PublishedSignatures {
  /** The referrer artifact manifest holding the bundle. */
  readonly referrer: Descriptor;
  /** The `sha256-<hex>` tag of the referrers index. */
  readonly referrersTag: string;
  /** The cosign signature manifest and its `sha256-<hex>.sig` tag. */
  readonly cosign: Descriptor;
  readonly cosignTag: string;
}

async function existingIndex(dir: string, tag: string): Promise<ImageIndex | undefined> {
  try {
    const resolved = await (await openLayoutSource({ transport: "oci", dir, tag })).resolve();
    return resolved.kind === "index" ? resolved.index : undefined;
  } catch (err) {
    if (isMegaliftError(err, "MANIFEST_UNKNOWN") || isMegaliftError(err, "IO")) return undefined;
    throw err;
  }
}

/** Writes the bundle referrer and the cosign signature of `subject` into the layout at `dir`. */
export async function publishSignaturesToLayout(
  dir: string,
  subject: Descriptor,
  signed: SignedTransform,
): Promise<PublishedSignatures> {
  const digest = Digest.parse(subject.digest);
  const referrer = await bundleReferrerImage(subject, signed.bundle);
  const tag = referrersTag(digest);
  const index = await referrersIndex([referrer], await existingIndex(dir, tag));
  await writeLayout(dir, tag, { kind: "index", index });
  const cosign = await cosignSignatureImage(signed.cosign.payload, signed.cosign.signature);
  const cosignTag = cosignSignatureTag(digest);
  return {
    referrer: await manifestDescriptor(referrer, {
      artifactType: (await referrer.manifest()).artifactType,
    }),
    referrersTag: tag,
    cosign: await writeLayout(dir, cosignTag, { kind: "image", image: cosign }),
    cosignTag,
  };
}

export interface SignTransformedImageOptions {
  /** The OCI layout the transformed image was written to. */
  readonly dir: string;
  /** The augmented linux/amd64 image (already in the layout). */
  readonly image: Image;
  readonly megabinary: Uint8Array;
  /** The mapping.json bytes in the megabinary layer. */
  readonly mapping: Uint8Array;
  readonly setup: SigningSetup;
  /** How the transformed image is named, for cosign's docker-reference. */
  readonly reference: string;
  readonly toolchainVersion: string;
  readonly source?: { readonly name: string; readonly digest: string };
}

/** Signs the augmented image and publishes both signature forms into the layout. */
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
  const published = await publishSignaturesToLayout(
    options.dir,
    await manifestDescriptor(options.image),
    signed,
  );
  return { signed, published };
}
