// Signs a transformed image: one DSSE sigstore bundle (v0.3) over the in-toto
// statement, built with @sigstore/sign's DSSEBundleBuilder and the setup's
// witnesses (none for a local key: air-gapped, no Fulcio, no Rekor), and one
// cosign Simple Signing signature over the same subjects. ECDSA signatures
// are randomised, so signature bytes differ between runs; the image does not.
import { DSSEBundleBuilder } from "@sigstore/sign";
import { bundleToJSON } from "@sigstore/bundle";
import { buildSimpleSigningPayload } from "./cosign.js";
import type { SigningSetup } from "./signer.js";
import {
  buildTransformStatement,
  IN_TOTO_PAYLOAD_TYPE,
  type TransformPredicate,
} from "./statement.js";
import type { SignedSubjects } from "./subjects.js";

export interface SignedTransform {
  readonly subjects: SignedSubjects;
  /** The sigstore bundle, JSON (application/vnd.dev.sigstore.bundle.v0.3+json). */
  readonly bundle: Uint8Array;
  /** The cosign Simple Signing payload and its base64 signature. */
  readonly cosign: { readonly payload: Uint8Array; readonly signature: string };
}

export interface SignTransformOptions {
  readonly subjects: SignedSubjects;
  readonly predicate: TransformPredicate;
  /** The image reference cosign's payload names (critical.identity.docker-reference). */
  readonly dockerReference: string;
}

export async function signTransform(
  setup: SigningSetup,
  options: SignTransformOptions,
): Promise<SignedTransform> {
  const statement = buildTransformStatement(options.subjects, options.predicate);
  const builder = new DSSEBundleBuilder({ signer: setup.signer, witnesses: [...setup.witnesses] });
  const bundle = await builder.create({ data: Buffer.from(statement), type: IN_TOTO_PAYLOAD_TYPE });
  const payload = buildSimpleSigningPayload(options.subjects, options.dockerReference);
  const signature = await setup.signer.sign(Buffer.from(payload));
  return {
    subjects: options.subjects,
    bundle: Buffer.from(JSON.stringify(bundleToJSON(bundle))),
    cosign: { payload, signature: signature.signature.toString("base64") },
  };
}
