// Signing and verification end to end through an OCI layout: the bundle
// referrer and the cosign .sig tag are written and found, a signed transform
// verifies, and any change (megabinary, mapping, manifest annotations, the
// layer bytes, another key) fails with one clear line.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Signer } from "@sigstore/sign";
import { isMegaliftError, type ErrorCode } from "../../src/errors.js";
import { Digest } from "../../src/oci/digest.js";
import { layoutBlobPath, openLayoutSource, writeLayout } from "../../src/oci/layout.js";
import { imageFromManifest, EMPTY_DESCRIPTOR } from "../../src/oci/mutate.js";
import { generateSigningKeyPair, loadPublicKey } from "../../src/sign/keys.js";
import { localKeySigning } from "../../src/sign/signer.js";
import { verifyBundle } from "../../src/sign/verify-signature.js";
import { signTransformedImage } from "../../src/sign/publish.js";
import { findSignatures } from "../../src/sign/find-signatures.js";
import {
  COSIGN_SIGNATURE_ANNOTATION,
  COSIGN_SIMPLESIGNING_MEDIA_TYPE,
  cosignSignatureImage,
  cosignSignatureTag,
} from "../../src/sign/cosign.js";
import { referrersTag, SIGSTORE_BUNDLE_MEDIA_TYPE } from "../../src/sign/referrer.js";
import { verifyTransformedImage } from "../../src/sign/verify-transform.js";
import { signTransform } from "../../src/sign/sign-transform.js";
import { subjectsOf } from "../../src/sign/subjects.js";
import { tempDir } from "../oci/build-image.js";
import { runCli } from "../helpers/cli.js";
import {
  sampleMapping,
  sourceImage,
  transform,
  wasmModule,
  writeTransformed,
  type Transformed,
} from "./transform-fixture.js";

const keys = generateSigningKeyPair();
const publicKey = loadPublicKey(keys.publicKeyPem);

async function signedLayout(t: Transformed, tag = "out"): Promise<string> {
  const dir = await tempDir("megalift-sign-");
  await writeTransformed(dir, tag, t);
  await signTransformedImage({
    dir,
    image: t.augmented,
    megabinary: t.megabinary,
    mapping: t.mapping,
    setup: localKeySigning(keys.privateKeyPem),
    reference: `example.test/sample:${tag}`,
    toolchainVersion: "0.1.0-test",
  });
  return dir;
}

async function verify(dir: string, tag = "out", key = publicKey) {
  const source = await openLayoutSource({ transport: "oci", dir, tag });
  return verifyTransformedImage(source, key);
}

async function expectFailure(
  run: Promise<unknown>,
  code: ErrorCode,
  text: RegExp,
): Promise<string> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isMegaliftError(err, code), String(err)).toBe(true);
  const message = (err as Error).message;
  expect(message).toMatch(text);
  expect(message).not.toContain("\n");
  return message;
}

describe("signing", () => {
  let original: Transformed;
  beforeAll(async () => {
    original = await transform(await sourceImage());
  });

  it("builds a v0.3 DSSE bundle with no witnesses through any Signer, and rejects a bad signature", async () => {
    const fake = {
      sign: async (data: Buffer) => ({
        signature: Buffer.from(data.subarray(0, 4)),
        key: { $case: "publicKey" as const, publicKey: keys.publicKeyPem, hint: "" },
      }),
    } satisfies Signer;
    const signed = await signTransform(
      { signer: fake, witnesses: [], mode: "key" },
      {
        subjects: subjectsOf(original.augmented.digest, original.megabinary, original.mapping),
        predicate: { toolchainVersion: "t" },
        dockerReference: "x",
      },
    );
    const bundle = JSON.parse(Buffer.from(signed.bundle).toString()) as Record<string, unknown>;
    expect(bundle["mediaType"]).toBe("application/vnd.dev.sigstore.bundle.v0.3+json");
    expect(bundle["verificationMaterial"]).toHaveProperty("publicKey");
    expect(bundle["dsseEnvelope"]).toMatchObject({ payloadType: "application/vnd.in-toto+json" });
    await expectFailure(
      Promise.resolve().then(() => verifyBundle(signed.bundle, publicKey)),
      "SIGNATURE_INVALID",
      /does not verify with the given key/,
    );
  });

  it("writes the bundle referrer and the cosign .sig tag, and finds both", async () => {
    const dir = await signedLayout(original);
    const subject = original.augmented.digest;
    const referrers = await openLayoutSource({ transport: "oci", dir, tag: referrersTag(subject) });
    const resolved = await referrers.resolve();
    if (resolved.kind !== "index") throw new Error("referrers tag is not an index");
    const [entry] = (await resolved.index.indexManifest()).manifests;
    expect(entry?.artifactType).toBe(SIGSTORE_BUNDLE_MEDIA_TYPE);
    const referrer = await (
      await resolved.index.image(Digest.parse(entry?.digest ?? ""))
    ).manifest();
    expect(referrer.artifactType).toBe("application/vnd.dev.sigstore.bundle.v0.3+json");
    expect(referrer.config).toEqual(EMPTY_DESCRIPTOR);
    expect(referrer.subject?.digest).toBe(subject.toString());
    expect(referrer.layers.map((l) => l.mediaType)).toEqual([SIGSTORE_BUNDLE_MEDIA_TYPE]);

    const sig = await openLayoutSource({ transport: "oci", dir, tag: cosignSignatureTag(subject) });
    const sigManifest = await (await sig.image()).manifest();
    expect(sigManifest.layers[0]?.mediaType).toBe(COSIGN_SIMPLESIGNING_MEDIA_TYPE);
    expect(sigManifest.layers[0]?.annotations?.[COSIGN_SIGNATURE_ANNOTATION]).toMatch(
      /^[A-Za-z0-9+/=]+$/,
    );

    const found = await findSignatures({ transport: "oci", dir, tag: "out" }, subject);
    expect(found.map((f) => f.kind)).toEqual(["bundle", "cosign"]);
  });

  it("verifies a signed transform", async () => {
    const dir = await signedLayout(original);
    const report = await verify(dir);
    expect(report.manifest).toBe(original.augmented.digest.toString());
    expect(report.signature.kind).toBe("bundle");
    expect(report.megabinary).toBe(Digest.of(original.megabinary).toString());
    expect(report.mapping).toBe(Digest.of(original.mapping).toString());
    expect(report.mappingCarriedAs).toBe("annotation");
    expect(report.signatures.every((s) => s.ok)).toBe(true);
  });

  it("verifies a transform whose mapping is a referenced blob", async () => {
    const t = await transform(original.source, { mappingAnnotationThreshold: 1000 });
    const report = await verify(await signedLayout(t));
    expect(report.mappingCarriedAs).toBe("blob");
  });

  it("verifies with the cosign signature alone", async () => {
    const dir = await tempDir("megalift-sign-");
    await writeTransformed(dir, "out", original);
    const signed = await signTransform(localKeySigning(keys.privateKeyPem), {
      subjects: subjectsOf(original.augmented.digest, original.megabinary, original.mapping),
      predicate: { toolchainVersion: "t" },
      dockerReference: "x",
    });
    const image = await cosignSignatureImage(signed.cosign.payload, signed.cosign.signature);
    await writeLayout(dir, cosignSignatureTag(original.augmented.digest), { kind: "image", image });
    const report = await verify(dir);
    expect(report.signature.kind).toBe("cosign");
  });

  it("fails after one byte of the megabinary changes", async () => {
    const dir = await signedLayout(original);
    const wasm = Buffer.from(original.megabinary);
    wasm.writeUInt8(wasm.readUInt8(wasm.length - 1) ^ 1, wasm.length - 1);
    await writeTransformed(dir, "out", await transform(original.source, { megabinary: wasm }));
    await expectFailure(
      verify(dir),
      "SIGNED_CONTENT_MISMATCH",
      /the megabinary \(in layer sha256:[0-9a-f]+\) is sha256:/,
    );
  });

  it("fails after one byte of the mapping changes", async () => {
    const dir = await signedLayout(original);
    const mapping = sampleMapping("uses AVX-512 instructionz");
    const message = await expectFailure(
      verify(dir, "out").then(async () => {
        await writeTransformed(dir, "out", await transform(original.source, { mapping }));
        return verify(dir);
      }),
      "SIGNED_CONTENT_MISMATCH",
      /the mapping\.json in the megabinary layer is sha256:/,
    );
    expect(message).toMatch(/mapping in the manifest annotation/);
    expect(message).not.toMatch(/megabinary \(/);
  });

  it("fails after the manifest's annotations change, naming them", async () => {
    const dir = await signedLayout(original);
    const manifest = await original.augmented.manifest();
    const edited = await imageFromManifest(
      {
        ...manifest,
        annotations: { ...manifest.annotations, "dev.megalift.toolchain.version": "9.9.9" },
      },
      [],
      [original.augmented],
    );
    await writeLayout(dir, "out", { kind: "image", image: edited });
    await expectFailure(
      verify(dir),
      "SIGNED_CONTENT_MISMATCH",
      /the manifest is sha256:[0-9a-f]+, signed sha256:[0-9a-f]+ \(annotations changed: dev\.megalift\.toolchain\.version\)/,
    );
  });

  it("fails when the megabinary layer's bytes are changed in place", async () => {
    const dir = await signedLayout(original);
    const layers = (await original.augmented.manifest()).layers;
    const last = layers[layers.length - 1];
    const path = layoutBlobPath(dir, Digest.parse(last?.digest ?? ""));
    const bytes = await readFile(path);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 10) ^ 0xff, bytes.length - 10);
    await writeFile(path, bytes);
    await expectFailure(
      verify(dir),
      "SIGNED_CONTENT_MISMATCH",
      /megabinary layer sha256:[0-9a-f]+ was changed/,
    );
  });

  it("fails with another key", async () => {
    const dir = await signedLayout(original);
    const other = loadPublicKey(generateSigningKeyPair().publicKeyPem);
    await expectFailure(verify(dir, "out", other), "SIGNATURE_INVALID", /not with the given key/);
  });

  it("fails clearly when nothing is signed", async () => {
    const dir = await tempDir("megalift-sign-");
    await writeTransformed(dir, "out", original);
    await expectFailure(
      verify(dir),
      "SIGNATURE_MISSING",
      /no signature for sha256:[0-9a-f]+ .*sha256-[0-9a-f]+\.sig/,
    );
  });
});

describe("megalift verify", () => {
  it("prints a report, and one line with exit 1 on a change", async () => {
    const t = await transform(await sourceImage("docker"));
    const dir = await signedLayout(t);
    const pub = join(dir, "..", `${Digest.of(dir).hex.slice(0, 8)}.pub`);
    await writeFile(pub, keys.publicKeyPem);
    const ok = runCli(["verify", `oci:${dir}:out`, "--key", pub]);
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^verified oci:.*:out\n\s+manifest\s+sha256:/);
    const json = runCli(["verify", `oci:${dir}:out`, "--key", pub, "--json"]);
    expect((JSON.parse(json.stdout) as { manifest: string }).manifest).toBe(
      t.augmented.digest.toString(),
    );

    await writeTransformed(dir, "out", await transform(t.source, { megabinary: wasmModule(1) }));
    const bad = runCli(["verify", `oci:${dir}:out`, "--key", pub]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^megalift: oci:.* is not what was signed: the megabinary/);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
  });
});
