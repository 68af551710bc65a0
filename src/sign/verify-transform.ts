// `megalift verify`'s logic: find the image's signatures, verify them with the
// given key (verify-signature.ts), then check that the manifest, the
// megabinary (the file in the layer and, through the manifest, the layer
// digest) and the mapping (the file, the annotation or blob, the declared
// digest) are exactly what was signed. Any difference is one
// SIGNED_CONTENT_MISMATCH error naming every part that differs.
import type { KeyObject } from "node:crypto";
import { isMegaliftError, MegaliftError } from "../errors.js";
import { Digest } from "../oci/digest.js";
import type { Image } from "../oci/image.js";
import type { ImageSource } from "../oci/source.js";
import type { Annotations } from "../oci/types.js";
import { openSource } from "../oci/sources.js";
import { cosignSignatureTag } from "./cosign.js";
import { findSignatures, signedManifestsInLayout, type FoundSignature } from "./find-signatures.js";
import { inspectTransformedImage, type TransformedContent } from "./inspect-transformed.js";
import { keyHint } from "./keys.js";
import { referrersTag } from "./referrer.js";
import type { SignedSubjects } from "./subjects.js";
import { verifyBundle, verifyCosignSignature } from "./verify-signature.js";

export interface VerifyReport {
  readonly source: string;
  readonly manifest: string;
  readonly signature: { readonly kind: "bundle" | "cosign"; readonly where: string };
  readonly keyHint: string;
  readonly megabinary: string;
  readonly megabinaryLayer: string;
  readonly mapping: string;
  readonly mappingCarriedAs: "annotation" | "blob" | "layer only";
  /** Every signature found and whether it verified. */
  readonly signatures: readonly {
    readonly kind: string;
    readonly where: string;
    readonly ok: boolean;
  }[];
}

interface Verified {
  readonly found: FoundSignature;
  readonly subjects: SignedSubjects;
}

function verifyOne(found: FoundSignature, key: KeyObject): SignedSubjects {
  return found.kind === "bundle"
    ? verifyBundle(found.bytes, key).subjects
    : verifyCosignSignature(found.payload, found.signature, key);
}

/** What differs between the signed subjects and the image's content, one phrase each. */
function differences(
  signed: SignedSubjects,
  content: TransformedContent,
  manifestNote: string,
): string[] {
  const out: string[] = [];
  const differ = (what: string, found: Digest, expected: Digest): void => {
    if (!found.equals(expected))
      out.push(`${what} is ${found.toString()}, signed ${expected.toString()}`);
  };
  differ(
    `the megabinary (in layer ${content.layer.toString()})`,
    content.megabinary,
    signed.megabinary,
  );
  differ("the mapping.json in the megabinary layer", content.mapping, signed.mapping);
  if (content.mappingCarried) {
    differ(
      `the mapping in the manifest ${content.mappingCarried.kind}`,
      content.mappingCarried.digest,
      signed.mapping,
    );
  }
  if (content.mappingDeclared)
    differ("the dev.megalift.mapping.digest annotation", content.mappingDeclared, signed.mapping);
  if (!content.manifest.equals(signed.manifest)) {
    out.push(
      `the manifest is ${content.manifest.toString()}, signed ${signed.manifest.toString()}${manifestNote}`,
    );
  }
  return out;
}

/** Which annotation keys differ between the signed manifest (if still readable) and this one. */
async function annotationNote(
  source: ImageSource,
  signed: Digest,
  content: TransformedContent,
): Promise<string> {
  if (source.reference.transport === "docker-archive") return "";
  try {
    const old = await openSource({
      ...source.reference,
      tag: undefined,
      digest: signed.toString(),
    });
    let before: Annotations;
    try {
      const resolved = await old.resolve();
      if (resolved.kind !== "image") return "";
      before = (await resolved.image.manifest()).annotations ?? {};
    } finally {
      // A registry source holds a connection pool: close it, found or not.
      await old.close();
    }
    const after = content.annotations;
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])]
      .filter((k) => before[k] !== after[k])
      .sort();
    return keys.length > 0 ? ` (annotations changed: ${keys.join(", ")})` : "";
  } catch {
    return "";
  }
}

/** Verifies `source`'s linux/amd64 image against `publicKey`; throws a MegaliftError on any failure. */
export async function verifyTransformedImage(
  source: ImageSource,
  publicKey: KeyObject,
): Promise<VerifyReport> {
  const image: Image = await source.image();
  let found = await findSignatures(source.reference, image.digest);
  if (found.length === 0) {
    // Nothing signed this manifest; if the layout holds signatures of others, compare with those.
    for (const digest of await signedManifestsInLayout(source.reference)) {
      if (!digest.equals(image.digest))
        found = [...found, ...(await findSignatures(source.reference, digest))];
    }
  }
  if (found.length === 0) {
    throw new MegaliftError(
      "SIGNATURE_MISSING",
      `no signature for ${image.digest.toString()} in ${source.display}: no referrer at tag ${referrersTag(image.digest)} and no cosign tag ${cosignSignatureTag(image.digest)}`,
    );
  }
  const verified: Verified[] = [];
  const results: { kind: string; where: string; ok: boolean }[] = [];
  let firstError: unknown;
  for (const sig of found) {
    try {
      verified.push({ found: sig, subjects: verifyOne(sig, publicKey) });
      results.push({ kind: sig.kind, where: sig.where, ok: true });
    } catch (err) {
      if (!isMegaliftError(err)) throw err;
      firstError ??= err;
      results.push({ kind: sig.kind, where: sig.where, ok: false });
    }
  }
  if (verified.length === 0) throw firstError;
  const content = await inspectTransformedImage(image);
  // Of the verified signatures, the one closest to the image says best what changed.
  const ranked = await Promise.all(
    verified.map(async (v) => {
      const note = v.subjects.manifest.equals(image.digest)
        ? ""
        : await annotationNote(source, v.subjects.manifest, content);
      return { v, diffs: differences(v.subjects, content, note) };
    }),
  );
  ranked.sort((a, b) => a.diffs.length - b.diffs.length);
  const best = ranked[0];
  if (!best) throw firstError;
  if (best.diffs.length > 0) {
    throw new MegaliftError(
      "SIGNED_CONTENT_MISMATCH",
      `${source.display} is not what was signed: ${best.diffs.join("; ")}`,
    );
  }
  return {
    source: source.display,
    manifest: image.digest.toString(),
    signature: { kind: best.v.found.kind, where: best.v.found.where },
    keyHint: keyHint(publicKey),
    megabinary: content.megabinary.toString(),
    megabinaryLayer: content.layer.toString(),
    mapping: content.mapping.toString(),
    mappingCarriedAs: content.mappingCarried?.kind ?? "layer only",
    signatures: results,
  };
}
