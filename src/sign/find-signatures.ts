// Finds the signatures of an image where megalift publishes them: the
// sigstore bundle referrer listed in the referrers index tagged `sha256-<hex>`
// (distribution-spec 1.1 "Referrers Tag Schema"), then the cosign signature
// tagged `sha256-<hex>.sig` (cosign SIGNATURE_SPEC.md "Tag-based Discovery").
// Works for any transport that can open a tag (oci:, docker://).
import { isMegaliftError } from "../errors.js";
import { blobReaderOf } from "../oci/blob-image.js";
import { Digest } from "../oci/digest.js";
import type { Image } from "../oci/image.js";
import { readLayoutIndex } from "../oci/layout.js";
import { openSource } from "../oci/sources.js";
import type { ImageOrIndex } from "../oci/image.js";
import type { SourceReference } from "../oci/source.js";
import { ANNOTATION_REF_NAME } from "../oci/types.js";
import {
  COSIGN_SIGNATURE_ANNOTATION,
  COSIGN_SIMPLESIGNING_MEDIA_TYPE,
  cosignSignatureTag,
} from "./cosign.js";
import { referrersTag, SIGSTORE_BUNDLE_MEDIA_TYPE } from "./referrer.js";

export type FoundSignature =
  | {
      readonly kind: "bundle";
      readonly subject: Digest;
      readonly bytes: Uint8Array;
      readonly where: string;
    }
  | {
      readonly kind: "cosign";
      readonly subject: Digest;
      readonly payload: Uint8Array;
      readonly signature: string;
      readonly where: string;
    };

/** Largest signature blob megalift reads. */
const MAX_SIGNATURE_BYTES = 16 * 1024 * 1024;

/** The same repository or layout as `reference`, at another tag; undefined for transports without tags. */
function atTag(reference: SourceReference, tag: string): SourceReference | undefined {
  switch (reference.transport) {
    case "oci":
      return { transport: "oci", dir: reference.dir, tag };
    case "docker":
      return {
        transport: "docker",
        registry: reference.registry,
        repository: reference.repository,
        tag,
      };
    case "docker-archive":
      return undefined;
  }
}

async function resolveTag(
  reference: SourceReference,
  tag: string,
): Promise<ImageOrIndex | undefined> {
  const at = atTag(reference, tag);
  if (!at) return undefined;
  const source = await openSource(at);
  try {
    return await source.resolve();
  } catch (err) {
    if (isMegaliftError(err, "MANIFEST_UNKNOWN")) return undefined;
    throw err;
  } finally {
    await source.close();
  }
}

async function blobBytes(image: Image, digest: string): Promise<Uint8Array> {
  const store = blobReaderOf(image);
  const parsed = Digest.parse(digest);
  if (!store) throw new Error(`image ${image.digest.toString()} is not blob-backed`);
  const bytes = await store.readBlobBytes(parsed, MAX_SIGNATURE_BYTES);
  parsed.verifyBytes(bytes, `signature blob ${digest}`);
  return bytes;
}

async function bundlesFor(reference: SourceReference, subject: Digest): Promise<FoundSignature[]> {
  const tag = referrersTag(subject);
  const resolved = await resolveTag(reference, tag);
  if (resolved?.kind !== "index") return [];
  const found: FoundSignature[] = [];
  for (const entry of (await resolved.index.indexManifest()).manifests) {
    if (entry.artifactType !== undefined && entry.artifactType !== SIGSTORE_BUNDLE_MEDIA_TYPE)
      continue;
    const image = await resolved.index.image(Digest.parse(entry.digest));
    const manifest = await image.manifest();
    if (manifest.artifactType !== SIGSTORE_BUNDLE_MEDIA_TYPE) continue;
    if (manifest.subject?.digest !== subject.toString()) continue;
    for (const layer of manifest.layers.filter((l) => l.mediaType === SIGSTORE_BUNDLE_MEDIA_TYPE)) {
      found.push({
        kind: "bundle",
        subject,
        bytes: await blobBytes(image, layer.digest),
        where: `referrer ${entry.digest} (tag ${tag})`,
      });
    }
  }
  return found;
}

async function cosignFor(reference: SourceReference, subject: Digest): Promise<FoundSignature[]> {
  const tag = cosignSignatureTag(subject);
  const resolved = await resolveTag(reference, tag);
  if (resolved?.kind !== "image") return [];
  const manifest = await resolved.image.manifest();
  const found: FoundSignature[] = [];
  for (const layer of manifest.layers) {
    const signature = layer.annotations?.[COSIGN_SIGNATURE_ANNOTATION];
    if (layer.mediaType !== COSIGN_SIMPLESIGNING_MEDIA_TYPE || signature === undefined) continue;
    const payload = await blobBytes(resolved.image, layer.digest);
    found.push({ kind: "cosign", subject, payload, signature, where: `cosign tag ${tag}` });
  }
  return found;
}

/** Every signature of `subject`: bundles (referrers) first, then cosign signatures. */
export async function findSignatures(
  reference: SourceReference,
  subject: Digest,
): Promise<FoundSignature[]> {
  return [...(await bundlesFor(reference, subject)), ...(await cosignFor(reference, subject))];
}

const SIGNATURE_TAG_RE = /^sha256-([0-9a-f]{64})(?:\.sig)?$/;

/**
 * The manifests an OCI layout holds signatures for (from its signature tags):
 * when an image has none, these tell what was signed instead, so a verifier
 * can say what changed. Empty for other transports.
 */
export async function signedManifestsInLayout(reference: SourceReference): Promise<Digest[]> {
  if (reference.transport !== "oci") return [];
  const index = await readLayoutIndex(reference.dir);
  const digests = new Set<string>();
  for (const entry of index.manifests) {
    const match = SIGNATURE_TAG_RE.exec(entry.annotations?.[ANNOTATION_REF_NAME] ?? "");
    if (match?.[1] !== undefined) digests.add(`sha256:${match[1]}`);
  }
  return [...digests].sort().map((d) => Digest.parse(d));
}
