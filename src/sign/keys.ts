// Signing keys for air-gapped signing: ECDSA P-256 (the scheme cosign's
// signature spec requires every implementation to support) as PEM — PKCS#8
// for the private key, SPKI for the public key — readable by openssl and by
// `cosign verify --key`. The key hint that names a public key in a sigstore
// bundle is the sha256 of its DER SPKI, in hex.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { MegaliftError } from "../errors.js";

export interface SigningKeyPair {
  /** PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), encrypted when a passphrase was given. */
  readonly privateKeyPem: string;
  /** SPKI PEM ("-----BEGIN PUBLIC KEY-----"). */
  readonly publicKeyPem: string;
}

/** A fresh ECDSA P-256 key pair; with a passphrase the private key is AES-256-CBC encrypted PKCS#8. */
export function generateSigningKeyPair(passphrase?: string): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    privateKeyPem: privateKey
      .export({
        type: "pkcs8",
        format: "pem",
        ...(passphrase !== undefined ? { cipher: "aes-256-cbc", passphrase } : {}),
      })
      .toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

function requireP256(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    const kind =
      key.asymmetricKeyType === "ec"
        ? `an EC key on ${key.asymmetricKeyDetails?.namedCurve ?? "an unknown curve"}`
        : `a ${key.asymmetricKeyType ?? "symmetric"} key`;
    throw new MegaliftError("KEY_INVALID", `${what} is ${kind}; megalift signs with ECDSA P-256`);
  }
  return key;
}

/** Reads a PEM private key (KEY_INVALID if it does not parse, is encrypted without a passphrase, or is not P-256). */
export function loadPrivateKey(
  pem: string | Uint8Array,
  passphrase?: string,
  what = "the private key",
): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({
      key: Buffer.from(pem),
      format: "pem",
      ...(passphrase !== undefined ? { passphrase } : {}),
    });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new MegaliftError("KEY_INVALID", `cannot read ${what}: ${reason}`, { cause: err });
  }
  return requireP256(key, what);
}

/** Reads a PEM public key (a private key is accepted too: its public half is used). */
export function loadPublicKey(pem: string | Uint8Array, what = "the public key"): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(pem), format: "pem" });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new MegaliftError("KEY_INVALID", `cannot read ${what}: ${reason}`, { cause: err });
  }
  return requireP256(key, what);
}

/** The SPKI PEM of a public key (or of a private key's public half). */
export function publicKeyPem(key: KeyObject): string {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  return pub.export({ type: "spki", format: "pem" }).toString();
}

/** The hint that names a public key in a bundle: hex sha256 of its DER SPKI. */
export function keyHint(key: KeyObject): string {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  return createHash("sha256")
    .update(pub.export({ type: "spki", format: "der" }))
    .digest("hex");
}
