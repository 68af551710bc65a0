// The proxy's signing key: the PEM private key named in the configuration,
// or one generated on first start and kept in CACHE/signing/ (mode 0600), so
// a restart signs with the same key and /megalift/v1/key.pub stays valid.
// ECDSA P-256, as src/sign/keys.ts requires.
import { chmod, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { MegaliftError } from "../../src/errors.js";
import { generateSigningKeyPair, loadPrivateKey, publicKeyPem } from "../../src/sign/keys.js";
import { writeFileAtomic } from "../cache/atomic-file.js";

export interface ProxySigningKey {
  /** The file holding the PEM private key (the transform child reads it). */
  readonly privateKeyFile: string;
  /** The SPKI PEM public key served at /megalift/v1/key.pub. */
  readonly publicKeyPem: string;
  /** True when this start generated the key. */
  readonly generated: boolean;
}

const GENERATED_KEY = "proxy-signing-key.pem";

/** Loads `configured`, or the generated key under `cacheDir` (creating it the first time). */
export async function loadProxySigningKey(
  cacheDir: string,
  configured: string | undefined,
): Promise<ProxySigningKey> {
  if (configured !== undefined) {
    let pem: Buffer;
    try {
      pem = await readFile(configured);
    } catch (err) {
      throw new MegaliftError(
        "CONFIG_INVALID",
        `cannot read the signing key ${configured}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const key = loadPrivateKey(pem, undefined, `signing key ${configured}`);
    return { privateKeyFile: configured, publicKeyPem: publicKeyPem(key), generated: false };
  }
  const dir = join(cacheDir, "signing");
  const file = join(dir, GENERATED_KEY);
  const existing = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  if (existing !== undefined) {
    const key = loadPrivateKey(existing, undefined, `signing key ${file}`);
    return { privateKeyFile: file, publicKeyPem: publicKeyPem(key), generated: false };
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pair = generateSigningKeyPair();
  // The temporary file lives beside the key: same filesystem, and never in
  // tmp/, which startup empties while another process might be reading.
  await writeFileAtomic(dir, file, pair.privateKeyPem);
  await chmod(file, 0o600);
  await writeFileAtomic(dir, join(dir, "proxy-signing-key.pub"), pair.publicKeyPem);
  return { privateKeyFile: file, publicKeyPem: pair.publicKeyPem, generated: true };
}
