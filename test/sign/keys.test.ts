// Signing keys: ECDSA P-256 PEM pairs, encrypted private keys, clear errors
// for other key kinds, and the CLI that writes a pair.
import { generateKeyPairSync } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isMegaliftError } from "../../src/errors.js";
import {
  generateSigningKeyPair,
  keyHint,
  loadPrivateKey,
  loadPublicKey,
} from "../../src/sign/keys.js";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../oci/build-image.js";

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isMegaliftError(err) ? err.code : "other";
  }
}

describe("signing keys", () => {
  it("generates a P-256 pair whose halves share one hint", () => {
    const pair = generateSigningKeyPair();
    expect(pair.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(pair.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(keyHint(loadPrivateKey(pair.privateKeyPem))).toBe(
      keyHint(loadPublicKey(pair.publicKeyPem)),
    );
  });

  it("encrypts with a passphrase and needs it back", () => {
    const pair = generateSigningKeyPair("s3cret");
    expect(pair.privateKeyPem).toMatch(/ENCRYPTED PRIVATE KEY/);
    expect(code(() => loadPrivateKey(pair.privateKeyPem))).toBe("KEY_INVALID");
    expect(code(() => loadPrivateKey(pair.privateKeyPem, "s3cret"))).toBeUndefined();
  });

  it("rejects keys that are not ECDSA P-256", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({
      type: "spki",
      format: "pem",
    });
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey.export({
      type: "spki",
      format: "pem",
    });
    expect(code(() => loadPublicKey(rsa.toString()))).toBe("KEY_INVALID");
    expect(code(() => loadPublicKey(p384.toString()))).toBe("KEY_INVALID");
    expect(code(() => loadPublicKey("not a key"))).toBe("KEY_INVALID");
  });

  it("megalift generate-key-pair writes both files and never overwrites", async () => {
    const prefix = join(await tempDir("megalift-keys-"), "k");
    const first = runCli(["generate-key-pair", "--output-prefix", prefix], {
      MEGALIFT_KEY_PASSWORD: "",
    });
    expect(first.status).toBe(0);
    loadPrivateKey(await readFile(`${prefix}.key`));
    loadPublicKey(await readFile(`${prefix}.pub`));
    const again = runCli(["generate-key-pair", "--output-prefix", prefix]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/cannot write .*k\.key/);
  });
});
