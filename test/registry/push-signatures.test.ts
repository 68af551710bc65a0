// Signatures pushed to a registry and found again by `verify`: the bundle
// referrer by digest; where the registry answers without OCI-Subject, the
// referrers tag `sha256-<hex>` too (merged with the one already there); the
// cosign `.sig` tag always. verify reads them back over docker://, through the
// referrers API when the registry has one.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSource } from "../../src/oci/sources.js";
import { openPushTarget, type RegistryPushTarget } from "../../src/registry/push-target.js";
import { cosignSignatureTag } from "../../src/sign/cosign.js";
import { findSignatures } from "../../src/sign/find-signatures.js";
import { generateSigningKeyPair, loadPublicKey } from "../../src/sign/keys.js";
import { signTransformedImage } from "../../src/sign/publish.js";
import { referrersTag } from "../../src/sign/referrer.js";
import { localKeySigning } from "../../src/sign/signer.js";
import { verifyTransformedImage } from "../../src/sign/verify-transform.js";
import { sourceImage, transform, type Transformed } from "../sign/transform-fixture.js";
import { PushFakeRegistry } from "./push-fake-registry.js";

const keys = generateSigningKeyPair();
let registry: PushFakeRegistry;
let target: RegistryPushTarget;

beforeEach(async () => {
  registry = await PushFakeRegistry.start();
  target = openPushTarget(
    { transport: "docker", registry: registry.host, repository: "team/app", tag: "v1" },
    { credentials: async () => undefined },
  );
});

afterEach(async () => {
  await target.close();
  await registry.close();
});

async function pushSigned(t: Transformed, key = keys.privateKeyPem) {
  await target.push({ kind: "index", index: t.index }, "v1");
  return signTransformedImage({
    destination: target,
    image: t.augmented,
    megabinary: t.megabinary,
    mapping: t.mapping,
    setup: localKeySigning(key),
    reference: `${registry.host}/team/app`,
    toolchainVersion: "0.1.0-test",
  });
}

async function verifyPushed() {
  const source = await openSource(`docker://${registry.host}/team/app:v1`);
  try {
    return await verifyTransformedImage(source, loadPublicKey(keys.publicKeyPem));
  } finally {
    await source.close();
  }
}

describe("signatures on a registry without the referrers API", () => {
  it("pushes the referrer, the referrers tag index and the cosign tag; verify finds them", async () => {
    const t = await transform(await sourceImage());
    const { published } = await pushSigned(t);
    const tag = referrersTag(t.augmented.digest);
    expect(published.referrersTag).toBe(tag);
    expect(registry.manifests.has(`team/app@${published.referrer.digest}`)).toBe(true);
    expect(registry.manifests.has(`team/app:${tag}`)).toBe(true);
    expect(registry.manifests.has(`team/app:${cosignSignatureTag(t.augmented.digest)}`)).toBe(true);
    const report = await verifyPushed();
    expect(report.manifest).toBe(t.augmented.digest.toString());
    expect(report.signature.where).toMatch(new RegExp(`tag ${tag}`));
    expect(report.signatures.map((s) => s.ok)).toEqual([true, true]);
  });

  it("merges a second signature into the existing referrers tag index", async () => {
    const t = await transform(await sourceImage());
    const first = await pushSigned(t);
    const second = await pushSigned(t, generateSigningKeyPair().privateKeyPem);
    const tag = referrersTag(t.augmented.digest);
    const index = JSON.parse(
      registry.manifests.get(`team/app:${tag}`)?.bytes.toString() ?? "{}",
    ) as {
      manifests: { digest: string }[];
    };
    expect(index.manifests.map((m) => m.digest)).toEqual([
      first.published.referrer.digest,
      second.published.referrer.digest,
    ]);
    const found = await findSignatures(
      { transport: "docker", registry: registry.host, repository: "team/app", tag: "v1" },
      t.augmented.digest,
    );
    expect(found.filter((f) => f.kind === "bundle")).toHaveLength(2);
    // One of the two bundles verifies with the key; verify reports it and passes.
    const report = await verifyPushed();
    expect(
      report.signatures
        .filter((s) => s.kind === "bundle")
        .map((s) => s.ok)
        .sort(),
    ).toEqual([false, true]);
  });
});

describe("signatures on a registry with the referrers API", () => {
  it("writes no referrers tag, and verify lists the referrer through the API", async () => {
    registry.options.referrersApi = true;
    const t = await transform(await sourceImage());
    const { published } = await pushSigned(t);
    expect(published.referrersTag).toBeUndefined();
    expect(registry.manifests.has(`team/app:${referrersTag(t.augmented.digest)}`)).toBe(false);
    const report = await verifyPushed();
    expect(report.signature).toEqual({
      kind: "bundle",
      where: `referrer ${published.referrer.digest} (referrers API)`,
    });
    expect(registry.requests.some((r) => r.url.startsWith("/v2/team/app/referrers/"))).toBe(true);
  });
});
