// mapping.json as a manifest annotation (ARCHITECTURE.md "Output image"), and
// the fallback to a referenced blob when the annotation would make the
// manifest too big.
//
// Encoding, decided: the annotation value is base64(gzip(mapping.json bytes)),
// always. mapping.json is mostly 64-hex hashes and long, repetitive paths, so
// gzip+base64 is several times smaller than minified JSON (which would also
// pay a backslash for every quote once embedded in the manifest's JSON), and
// decoding gives back the exact file bytes, whose sha256 is the signed mapping
// digest — no second canonical form to keep in step. The value is
// self-describing through `dev.megalift.mapping.encoding: gzip+base64`.
//
// Size rule: image-spec manifests are JSON that registries commonly cap at
// 4 MiB (distribution-spec "Pushing Manifests"); megalift keeps its manifests
// under a threshold (1 MiB by default). If the annotation would push the
// manifest past it, the annotation is left out and the manifest carries
// `dev.megalift.mapping.digest` and a `dev.megalift.mapping.note` saying where
// the mapping is instead: a blob of media type MAPPING_MEDIA_TYPE (published
// by transformedIndex as an artifact whose subject is the image) and, as
// always, /.megalift/mapping.json in the megabinary layer.
// `dev.megalift.mapping.digest` is present in both cases.
import { gunzipSync, gzipSync } from "node:zlib";
import { MegaliftError } from "../errors.js";
import { Digest } from "../oci/digest.js";
import type { Annotations } from "../oci/types.js";

export const MappingAnnotation = {
  /** base64(gzip(mapping.json)) — present when the mapping fits. */
  Inline: "dev.megalift.mapping",
  /** How Inline is encoded; always MAPPING_ENCODING. */
  Encoding: "dev.megalift.mapping.encoding",
  /** sha256 of the mapping.json bytes — always present. */
  Digest: "dev.megalift.mapping.digest",
  /** Present when the mapping is a referenced blob rather than an annotation. */
  Note: "dev.megalift.mapping.note",
} as const;

export const MAPPING_ENCODING = "gzip+base64";
/** Media type of mapping.json as a blob (the fallback artifact's layer). */
export const MAPPING_MEDIA_TYPE = "application/vnd.dev.megalift.mapping.v1+json";
/** Largest manifest megalift writes with the mapping inline; keeps manifests well under 4 MiB. */
export const DEFAULT_MAPPING_ANNOTATION_THRESHOLD = 1024 * 1024;

/** The gzip header's OS byte (RFC 1952 §2.3.1); pinned to 3 (Unix) so every platform writes the same bytes. */
const GZIP_OS_OFFSET = 9;
const GZIP_OS_UNIX = 3;

/** base64(gzip(bytes)) with fixed gzip settings: level 9, no name, zero mtime, OS = Unix. */
export function encodeMappingAnnotation(mappingBytes: Uint8Array): string {
  const gz = gzipSync(mappingBytes, { level: 9, memLevel: 8 });
  gz[GZIP_OS_OFFSET] = GZIP_OS_UNIX;
  return gz.toString("base64");
}

/** The mapping.json bytes an Inline annotation holds; MAPPING_INVALID if it does not decode. */
export function decodeMappingAnnotation(value: string): Uint8Array {
  try {
    return gunzipSync(Buffer.from(value, "base64"));
  } catch (err) {
    throw new MegaliftError(
      "MAPPING_INVALID",
      `the ${MappingAnnotation.Inline} annotation is not base64 gzip data`,
      { cause: err },
    );
  }
}

export type MappingPlacement =
  | { readonly kind: "annotation"; readonly annotations: Annotations }
  | { readonly kind: "blob"; readonly annotations: Annotations; readonly digest: Digest };

/**
 * Chooses where the mapping goes: inline when the manifest that carries it
 * stays at or under `threshold` bytes, else a referenced blob. `manifestSize`
 * gives the serialised size of the manifest with the given mapping annotations.
 */
export function placeMapping(
  mappingBytes: Uint8Array,
  manifestSize: (annotations: Annotations) => number,
  threshold = DEFAULT_MAPPING_ANNOTATION_THRESHOLD,
): MappingPlacement {
  const digest = Digest.of(mappingBytes);
  const inline: Annotations = {
    [MappingAnnotation.Inline]: encodeMappingAnnotation(mappingBytes),
    [MappingAnnotation.Digest]: digest.toString(),
    [MappingAnnotation.Encoding]: MAPPING_ENCODING,
  };
  if (manifestSize(inline) <= threshold) return { kind: "annotation", annotations: inline };
  return {
    kind: "blob",
    digest,
    annotations: {
      [MappingAnnotation.Digest]: digest.toString(),
      [MappingAnnotation.Note]:
        `mapping.json is too large for an annotation (manifest limit ${threshold} bytes): ` +
        `it is blob ${digest.toString()} (${MAPPING_MEDIA_TYPE}) and /.megalift/mapping.json in the megabinary layer`,
    },
  };
}

/** Where a manifest says its mapping is. */
export type MappingReference =
  | { readonly kind: "annotation"; readonly bytes: Uint8Array; readonly digest: Digest | undefined }
  | { readonly kind: "blob"; readonly digest: Digest }
  | { readonly kind: "none" };

/** Reads the mapping annotations of a manifest (MAPPING_INVALID if they are malformed). */
export function mappingReference(annotations: Annotations | undefined): MappingReference {
  const inline = annotations?.[MappingAnnotation.Inline];
  const digestText = annotations?.[MappingAnnotation.Digest];
  const digest = digestText !== undefined ? parseMappingDigest(digestText) : undefined;
  if (inline !== undefined) {
    const encoding = annotations?.[MappingAnnotation.Encoding] ?? MAPPING_ENCODING;
    if (encoding !== MAPPING_ENCODING) {
      throw new MegaliftError(
        "MAPPING_INVALID",
        `the mapping annotation has encoding "${encoding}"; megalift reads ${MAPPING_ENCODING}`,
      );
    }
    return { kind: "annotation", bytes: decodeMappingAnnotation(inline), digest };
  }
  return digest !== undefined ? { kind: "blob", digest } : { kind: "none" };
}

function parseMappingDigest(text: string): Digest {
  try {
    return Digest.parse(text);
  } catch (err) {
    throw new MegaliftError(
      "MAPPING_INVALID",
      `the ${MappingAnnotation.Digest} annotation is not a digest: "${text}"`,
      { cause: err },
    );
  }
}
