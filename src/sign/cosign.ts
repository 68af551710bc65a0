// cosign-compatible signatures (cosign specs/SIGNATURE_SPEC.md): a manifest
// tagged `sha256-<hex>.sig` (tag-based discovery) whose layer is the Simple
// Signing payload (media type application/vnd.dev.cosign.simplesigning.v1+json,
// containers-signature(5) JSON with critical.type "cosign container image
// signature") and whose layer annotation `dev.cosignproject.cosign/signature`
// holds the base64 ECDSA-P256/sha256 signature over the payload bytes, so
// `cosign verify --key PUB --insecure-ignore-tlog` accepts it. The payload's
// `optional` section also names the megabinary and mapping digests.
import { MegaliftError } from "../errors.js";
import { Digest } from "../oci/digest.js";
import type { Image } from "../oci/image.js";
import { MediaType } from "../oci/media-types.js";
import { imageFromManifest } from "../oci/mutate.js";
import type { ImageManifest } from "../oci/types.js";
import type { SignedSubjects } from "./subjects.js";

export const COSIGN_SIMPLESIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json";
export const COSIGN_SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
const COSIGN_TYPE = "cosign container image signature";
const OPTIONAL_MEGABINARY = "dev.megalift.megabinary.digest";
const OPTIONAL_MAPPING = "dev.megalift.mapping.digest";

/** The tag cosign looks for: the digest with ":" replaced by "-", plus ".sig". */
export function cosignSignatureTag(digest: Digest): string {
  return `${digest.algorithm}-${digest.hex}.sig`;
}

/** The Simple Signing payload for a transformed image (compact JSON, fixed key order). */
export function buildSimpleSigningPayload(
  subjects: SignedSubjects,
  dockerReference: string,
): Uint8Array {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { "docker-reference": dockerReference },
        image: { "docker-manifest-digest": subjects.manifest.toString() },
        type: COSIGN_TYPE,
      },
      optional: {
        [OPTIONAL_MEGABINARY]: subjects.megabinary.toString(),
        [OPTIONAL_MAPPING]: subjects.mapping.toString(),
      },
    }),
  );
}

function bad(reason: string): MegaliftError {
  return new MegaliftError("SIGNATURE_INVALID", `the cosign payload ${reason}`);
}

function field(value: unknown, ...path: string[]): unknown {
  let at = value;
  for (const key of path) {
    if (typeof at !== "object" || at === null) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

function digestField(doc: unknown, what: string, ...path: string[]): Digest {
  const text = field(doc, ...path);
  if (typeof text !== "string" || !Digest.isValid(text)) throw bad(`has no ${what}`);
  return Digest.parse(text);
}

/** The subjects a Simple Signing payload names; SIGNATURE_INVALID if it is not megalift's. */
export function parseSimpleSigningPayload(bytes: Uint8Array): SignedSubjects {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8")) as unknown;
  } catch (err) {
    throw new MegaliftError("SIGNATURE_INVALID", "the cosign payload is not JSON", { cause: err });
  }
  if (field(doc, "critical", "type") !== COSIGN_TYPE) throw bad(`is not a ${COSIGN_TYPE}`);
  return {
    manifest: digestField(
      doc,
      "docker-manifest-digest",
      "critical",
      "image",
      "docker-manifest-digest",
    ),
    megabinary: digestField(doc, OPTIONAL_MEGABINARY, "optional", OPTIONAL_MEGABINARY),
    mapping: digestField(doc, OPTIONAL_MAPPING, "optional", OPTIONAL_MAPPING),
  };
}

/** The `.sig` manifest: an OCI config naming the payload as its one diff_id, and the payload layer. */
export async function cosignSignatureImage(
  payload: Uint8Array,
  signatureBase64: string,
): Promise<Image> {
  const payloadDigest = Digest.of(payload).toString();
  const config = Buffer.from(
    JSON.stringify({
      architecture: "",
      os: "",
      config: {},
      rootfs: { type: "layers", diff_ids: [payloadDigest] },
    }),
  );
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: {
      mediaType: MediaType.OciConfig,
      digest: Digest.of(config).toString(),
      size: config.length,
    },
    layers: [
      {
        mediaType: COSIGN_SIMPLESIGNING_MEDIA_TYPE,
        digest: payloadDigest,
        size: payload.length,
        annotations: { [COSIGN_SIGNATURE_ANNOTATION]: signatureBase64 },
      },
    ],
  };
  return imageFromManifest(manifest, [config, payload], [], "cosign signature");
}
