// Cryptographic verification with @sigstore/verify, for a signature made with
// a local key: a TrustMaterial holding only the given public key (no CAs, no
// logs) and tlog/ctlog/timestamp thresholds of 0, since an air-gapped bundle
// has no Rekor entry, no certificate and no timestamp (sigstore bundle spec:
// verificationMaterial.publicKey with a hint). Both signature forms go through
// the same Verifier: the DSSE bundle as stored, and the cosign signature as a
// message-signature bundle assembled from the .sig tag.
import { createHash, type KeyObject } from "node:crypto";
import { BUNDLE_V03_MEDIA_TYPE, bundleFromJSON, type Bundle } from "@sigstore/bundle";
import { toSignedEntity, Verifier, type TrustMaterial } from "@sigstore/verify";
import { isMegaliftError, MegaliftError } from "../errors.js";
import { parseSimpleSigningPayload } from "./cosign.js";
import { keyHint } from "./keys.js";
import {
  IN_TOTO_PAYLOAD_TYPE,
  parseTransformStatement,
  type TransformPredicate,
} from "./statement.js";
import type { SignedSubjects } from "./subjects.js";

/** Trust in exactly one public key: a bundle naming another key hint is rejected by name. */
export function trustMaterialForKey(publicKey: KeyObject): TrustMaterial {
  const hint = keyHint(publicKey);
  return {
    certificateAuthorities: [],
    timestampAuthorities: [],
    tlogs: [],
    ctlogs: [],
    publicKey(bundleHint: string) {
      if (bundleHint !== "" && bundleHint !== hint) {
        throw new MegaliftError(
          "SIGNATURE_INVALID",
          `the signature was made with key ${bundleHint.slice(0, 16)}…, not with the given key ${hint.slice(0, 16)}…`,
        );
      }
      return { publicKey, validFor: () => true };
    },
  };
}

const AIR_GAPPED = { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 } as const;

function runVerifier(bundle: Bundle, publicKey: KeyObject, artifact?: Buffer): void {
  try {
    new Verifier(trustMaterialForKey(publicKey), AIR_GAPPED).verify(
      toSignedEntity(bundle, artifact),
    );
  } catch (err) {
    if (isMegaliftError(err)) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new MegaliftError(
      "SIGNATURE_INVALID",
      `the signature does not verify with the given key (${reason})`,
      { cause: err },
    );
  }
}

/** Verifies a sigstore bundle (JSON bytes) and returns what its in-toto statement signs. */
export function verifyBundle(
  bytes: Uint8Array,
  publicKey: KeyObject,
): { subjects: SignedSubjects; predicate: TransformPredicate } {
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(JSON.parse(Buffer.from(bytes).toString("utf8")) as unknown);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new MegaliftError("SIGNATURE_INVALID", `the sigstore bundle is malformed: ${reason}`, {
      cause: err,
    });
  }
  if (bundle.mediaType !== BUNDLE_V03_MEDIA_TYPE) {
    throw new MegaliftError(
      "SIGNATURE_INVALID",
      `the sigstore bundle has media type ${bundle.mediaType}, expected ${BUNDLE_V03_MEDIA_TYPE}`,
    );
  }
  if (bundle.content.$case !== "dsseEnvelope") {
    throw new MegaliftError("SIGNATURE_INVALID", "the sigstore bundle holds no DSSE envelope");
  }
  const envelope = bundle.content.dsseEnvelope;
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new MegaliftError(
      "SIGNATURE_INVALID",
      `the DSSE envelope has payload type ${envelope.payloadType}, expected ${IN_TOTO_PAYLOAD_TYPE}`,
    );
  }
  runVerifier(bundle, publicKey);
  return parseTransformStatement(envelope.payload);
}

/** Verifies a cosign Simple Signing signature and returns the subjects its payload names. */
export function verifyCosignSignature(
  payload: Uint8Array,
  signatureBase64: string,
  publicKey: KeyObject,
): SignedSubjects {
  const artifact = Buffer.from(payload);
  const bundle = bundleFromJSON({
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: {
      publicKey: { hint: keyHint(publicKey) },
      tlogEntries: [],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    messageSignature: {
      messageDigest: {
        algorithm: "SHA2_256",
        digest: createHash("sha256").update(artifact).digest("base64"),
      },
      signature: signatureBase64,
    },
  });
  runVerifier(bundle, publicKey, artifact);
  return parseSimpleSigningPayload(payload);
}
