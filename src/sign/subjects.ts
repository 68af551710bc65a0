// What a megalift signature covers: the augmented image's manifest digest,
// the megabinary's digest and mapping.json's digest (all sha256). The
// manifest digest alone covers every layer and annotation by reference; the
// two file digests let `megalift verify` name exactly what changed.
import { Digest } from "../oci/digest.js";

export interface SignedSubjects {
  /** Digest of the augmented linux/amd64 image manifest. */
  readonly manifest: Digest;
  /** sha256 of /.megalift/megabinary.wasm (also the wasm variant's layer digest). */
  readonly megabinary: Digest;
  /** sha256 of /.megalift/mapping.json (also the dev.megalift.mapping.digest annotation). */
  readonly mapping: Digest;
}

/** The subjects of a transform from the augmented image and the two files' bytes. */
export function subjectsOf(
  manifest: Digest,
  megabinary: Uint8Array,
  mapping: Uint8Array,
): SignedSubjects {
  return { manifest, megabinary: Digest.of(megabinary), mapping: Digest.of(mapping) };
}
