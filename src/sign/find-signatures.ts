// Finds the signatures of an image where megalift publishes them: the
// sigstore bundle referrer, listed by a registry's referrers API or else in
// the referrers index tagged `sha256-<hex>` (distribution-spec 1.1 "Listing
// Referrers", "Referrers Tag Schema"), then the cosign signature
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
import { ANNOTATION_REF_NAME, type Descriptor } from "../oci/types.js";
import { listReferrersOf } from "../registry/referrers.js";
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

/**
 * Resolves `reference` and hands the result to `use` while the source is
 * still open (a registry source reads blobs through its connection pool, so
 * images must be read before it closes); `absent` when nothing is there.
 */
async function withResolved<T>(
  reference: SourceReference | undefined,
  absent: T,
  use: (resolved: ImageOrIndex) => Promise<T>,
): Promise<T> {
  if (!reference) return absent;
  const source = await openSource(reference);
  try {
    let resolved: ImageOrIndex;
    try {
      resolved = await source.resolve();
    } catch (err) {
      if (isMegaliftError(err, "MANIFEST_UNKNOWN")) return absent;
      throw err;
    }
    return await use(resolved);
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

/** The bundles held by referrer manifests `entries` lists (other artifact types are skipped). */
async function bundlesIn(
  entries: readonly Descriptor[],
  load: (digest: Digest) => Promise<Image | undefined>,
  subject: Digest,
  where: string,
): Promise<FoundSignature[]> {
  const found: FoundSignature[] = [];
  for (const entry of entries) {
    if (entry.artifactType !== undefined && entry.artifactType !== SIGSTORE_BUNDLE_MEDIA_TYPE)
      continue;
    const image = await load(Digest.parse(entry.digest));
    if (!image) continue;
    const manifest = await image.manifest();
    if (manifest.artifactType !== SIGSTORE_BUNDLE_MEDIA_TYPE) continue;
    if (manifest.subject?.digest !== subject.toString()) continue;
    for (const layer of manifest.layers.filter((l) => l.mediaType === SIGSTORE_BUNDLE_MEDIA_TYPE)) {
      found.push({
        kind: "bundle",
        subject,
        bytes: await blobBytes(image, layer.digest),
        where: `referrer ${entry.digest} (${where})`,
      });
    }
  }
  return found;
}

/**
 * Bundles listed by the registry's referrers API (distribution-spec 1.1
 * "Listing Referrers"); undefined when it has none, or lists nothing, so the
 * referrers tag is read instead (a registry that gained the API after the
 * signature was pushed still serves the tag).
 */
async function bundlesFromReferrersApi(
  reference: SourceReference,
  subject: Digest,
): Promise<FoundSignature[] | undefined> {
  if (reference.transport !== "docker") return undefined;
  const listed = await listReferrersOf(reference, subject, SIGSTORE_BUNDLE_MEDIA_TYPE);
  if (listed === undefined || listed.length === 0) return undefined;
  const found: FoundSignature[] = [];
  const { tag: _tag, ...repository } = reference;
  for (const entry of listed) {
    const byDigest: SourceReference = { ...repository, digest: entry.digest };
    const bundles = await withResolved(byDigest, [], async (resolved) =>
      bundlesIn(
        [entry],
        async () => (resolved.kind === "image" ? resolved.image : undefined),
        subject,
        "referrers API",
      ),
    );
    found.push(...bundles);
  }
  return found.length > 0 ? found : undefined;
}

async function bundlesFor(reference: SourceReference, subject: Digest): Promise<FoundSignature[]> {
  const fromApi = await bundlesFromReferrersApi(reference, subject);
  if (fromApi) return fromApi;
  const tag = referrersTag(subject);
  return withResolved(atTag(reference, tag), [], async (resolved) => {
    if (resolved.kind !== "index") return [];
    const index = resolved.index;
    return bundlesIn(
      (await index.indexManifest()).manifests,
      (digest) => index.image(digest),
      subject,
      `tag ${tag}`,
    );
  });
}

async function cosignFor(reference: SourceReference, subject: Digest): Promise<FoundSignature[]> {
  const tag = cosignSignatureTag(subject);
  return withResolved(atTag(reference, tag), [], async (resolved) => {
    if (resolved.kind !== "image") return [];
    const manifest = await resolved.image.manifest();
    const found: FoundSignature[] = [];
    for (const layer of manifest.layers) {
      const signature = layer.annotations?.[COSIGN_SIGNATURE_ANNOTATION];
      if (layer.mediaType !== COSIGN_SIMPLESIGNING_MEDIA_TYPE || signature === undefined) continue;
      const payload = await blobBytes(resolved.image, layer.digest);
      found.push({ kind: "cosign", subject, payload, signature, where: `cosign tag ${tag}` });
    }
    return found;
  });
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
