// Who signs. `Signer` is sigstore-js's one-method interface (sign(data) →
// signature + key material); megalift provides a local-key signer for
// air-gapped use (no Fulcio, no Rekor) and wires keyless signing (Fulcio
// certificate + Rekor entry) through @sigstore/sign's own classes for places
// where the network allows it.
import { sign as signBytes, type KeyObject } from "node:crypto";
import {
  CIContextProvider,
  DEFAULT_FULCIO_URL,
  DEFAULT_REKOR_URL,
  FulcioSigner,
  RekorWitness,
  type Signature,
  type Signer,
  type Witness,
} from "@sigstore/sign";
import { keyHint, loadPrivateKey, publicKeyPem } from "./keys.js";

export type { Signer, Witness } from "@sigstore/sign";

/** A Signer with the witnesses that testify to its signatures (none when air-gapped). */
export interface SigningSetup {
  readonly signer: Signer;
  readonly witnesses: readonly Witness[];
  /** "key" for a local key, "keyless" for Fulcio + Rekor. */
  readonly mode: "key" | "keyless";
}

/** Signs with a local ECDSA P-256 key: sha256 digest, DER (ASN.1) signature, as cosign does. */
export class LocalKeySigner implements Signer {
  readonly hint: string;
  private readonly publicKey: string;

  constructor(private readonly privateKey: KeyObject) {
    this.hint = keyHint(privateKey);
    this.publicKey = publicKeyPem(privateKey);
  }

  async sign(data: Buffer): Promise<Signature> {
    return {
      signature: signBytes("sha256", data, this.privateKey),
      key: { $case: "publicKey", publicKey: this.publicKey, hint: this.hint },
    };
  }
}

/** Air-gapped signing with a PEM private key: no witnesses, so the bundle needs no network. */
export function localKeySigning(
  privateKeyPem: string | Uint8Array,
  passphrase?: string,
): SigningSetup {
  return {
    signer: new LocalKeySigner(loadPrivateKey(privateKeyPem, passphrase)),
    witnesses: [],
    mode: "key",
  };
}

export interface KeylessOptions {
  /** An OIDC identity token; without one, the CI environment's token (GitHub Actions, GitLab, …). */
  readonly identityToken?: string;
  readonly fulcioURL?: string;
  readonly rekorURL?: string;
}

/**
 * Keyless signing (sigstore's Fulcio + Rekor): an ephemeral key certified by
 * Fulcio for the OIDC identity, the DSSE envelope logged in Rekor. Needs the
 * network; not exercised by megalift's tests, and `megalift verify` checks
 * local-key bundles only (keyless verification needs the sigstore trusted root).
 */
export function keylessSigning(options: KeylessOptions = {}): SigningSetup {
  const token = options.identityToken;
  const identityProvider =
    token !== undefined ? { getToken: async () => token } : new CIContextProvider("sigstore");
  return {
    signer: new FulcioSigner({
      identityProvider,
      fulcioBaseURL: options.fulcioURL ?? DEFAULT_FULCIO_URL,
    }),
    witnesses: [
      new RekorWitness({ rekorBaseURL: options.rekorURL ?? DEFAULT_REKOR_URL, entryType: "dsse" }),
    ],
    mode: "keyless",
  };
}
