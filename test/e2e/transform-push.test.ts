// `megalift transform … docker://HOST/NAME:TAG --key` against the real CNCF
// distribution registry (2.8, which has no referrers API): the demo image is
// transformed and pushed, skopeo pulls back exactly the index transform
// reported, the signatures sit at the referrers tag and the cosign tag, and
// `megalift verify docker://…` accepts them. A second registry uses the Bearer
// token flow: the push authenticates with the docker config.json credentials
// and asks for the push scope.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../src/package-root.js";
import { transformImage, type TransformSummary } from "../../src/pipeline/transform.js";
import { generateSigningKeyPair } from "../../src/sign/keys.js";
import { localKeySigning } from "../../src/sign/signer.js";
import { startDistribution, type Distribution } from "./harness/distribution.js";
import { run, type RunResult } from "./harness/run.js";
import { Skopeo } from "./harness/skopeo.js";
import { Teardown } from "./harness/teardown.js";
import { layoutDigest, sha256 } from "./harness/test-images.js";
import { startTokenServer, type TokenServer } from "./harness/token-server.js";
import { CLI_MAIN } from "../helpers/cli.js";

const root = packageRoot();
const DEMO = `oci:${join(root, "fixtures", "images", "demo")}:latest`;
const credentials = { username: "megalift-push", password: "e2e-push-secret" };
const keys = generateSigningKeyPair();

/** The built CLI, without blocking the event loop (the token server runs in this process). */
function megalift(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return run(process.execPath, [CLI_MAIN, ...args], { env });
}

describe("transform to a registry", () => {
  const teardown = new Teardown();
  let skopeo: Skopeo;
  let registry: Distribution;
  let tokens: TokenServer;
  let secured: Distribution;
  let work: string;
  let summary: TransformSummary;
  let dockerConfig: string;

  const transformTo = (destination: string): Promise<TransformSummary> =>
    transformImage({
      source: DEMO,
      destination,
      signing: localKeySigning(keys.privateKeyPem),
      cacheDir: join(work, "cache"),
      workers: 2,
      liftOptimize: 0,
    });

  beforeAll(async () => {
    skopeo = new Skopeo(teardown);
    work = teardown.tempDir("transform-push");
    writeFileSync(join(work, "key.pub"), keys.publicKeyPem);
    tokens = await startTokenServer(credentials, teardown);
    [registry, secured] = await Promise.all([
      startDistribution(teardown),
      startDistribution(teardown, { kind: "token", tokenServer: tokens }),
    ]);
    // docker login's config.json, read through DOCKER_CONFIG (src/registry/docker-config.ts).
    dockerConfig = join(work, "docker");
    mkdirSync(dockerConfig);
    const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64");
    writeFileSync(
      join(dockerConfig, "config.json"),
      JSON.stringify({ auths: { [secured.host]: { auth } } }),
    );
    process.env.DOCKER_CONFIG = dockerConfig;
    summary = await transformTo(`docker://${registry.host}/demo:tx`);
  }, 900_000);
  afterAll(() => teardown.run());

  it("pushes the index transform reported, which skopeo pulls back unchanged", async () => {
    const raw = await skopeo.rawManifest(`${registry.host}/demo:tx`);
    expect(raw.digest).toBe(summary.indexDigest);
    const index = JSON.parse(raw.bytes.toString("utf8")) as { manifests: { digest: string }[] };
    expect(index.manifests.map((m) => m.digest)).toContain(summary.manifestDigest);
    const byDigest = await skopeo.rawManifest(`${registry.host}/demo@${summary.manifestDigest}`);
    expect(byDigest.digest).toBe(summary.manifestDigest);
    const dir = teardown.tempDir("pulled");
    await skopeo.copyOk(`docker://${registry.host}/demo:tx`, `oci:${dir}:tx`, { all: true });
    expect(layoutDigest(dir, "tx")).toBe(summary.indexDigest);
  }, 300_000);

  it("publishes the bundle at the referrers tag and the cosign signature at the .sig tag", async () => {
    const hex = summary.manifestDigest.slice("sha256:".length);
    const referrers = await skopeo.rawManifest(`${registry.host}/demo:sha256-${hex}`);
    const listed = JSON.parse(referrers.bytes.toString("utf8")) as {
      manifests: { digest: string; artifactType?: string }[];
    };
    expect(listed.manifests).toHaveLength(1);
    expect(listed.manifests[0]?.artifactType).toBe("application/vnd.dev.sigstore.bundle.v0.3+json");
    const referrer = await skopeo.rawManifest(
      `${registry.host}/demo@${listed.manifests[0]?.digest}`,
    );
    const subject = (
      JSON.parse(referrer.bytes.toString("utf8")) as { subject?: { digest: string } }
    ).subject;
    expect(subject?.digest).toBe(summary.manifestDigest);
    const cosign = await skopeo.rawManifest(`${registry.host}/demo:sha256-${hex}.sig`);
    expect(cosign.bytes.toString("utf8")).toContain("dev.cosignproject.cosign/signature");
  }, 120_000);

  it("passes `megalift verify docker://…` with the public key, and fails with another", async () => {
    const ok = await megalift([
      "verify",
      `docker://${registry.host}/demo:tx`,
      "--key",
      join(work, "key.pub"),
      "--json",
    ]);
    expect(ok.status, ok.stderr).toBe(0);
    const report = JSON.parse(ok.stdout.toString("utf8")) as {
      manifest: string;
      signatures: { kind: string; ok: boolean }[];
    };
    expect(report.manifest).toBe(summary.manifestDigest);
    expect(report.signatures).toEqual([
      expect.objectContaining({ kind: "bundle", ok: true }),
      expect.objectContaining({ kind: "cosign", ok: true }),
    ]);
    writeFileSync(join(work, "other.pub"), generateSigningKeyPair().publicKeyPem);
    const wrong = await megalift([
      "verify",
      `docker://${registry.host}/demo:tx`,
      "--key",
      join(work, "other.pub"),
    ]);
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toMatch(/not with the given key/);
  }, 120_000);

  it("pushes to a token-auth registry with the docker config.json credentials and push scope", async () => {
    const pushed = await transformTo(`docker://${secured.host}/demo:tx`);
    expect(pushed.indexDigest).toBe(summary.indexDigest);
    const scopes = tokens.requests().flatMap((r) => r.scopes);
    expect(scopes).toContain("repository:demo:pull,push");
    expect(tokens.requests().every((r) => r.authorized)).toBe(true);
    const raw = await skopeo.rawManifest(`${secured.host}/demo:tx`, credentials);
    expect(sha256(raw.bytes)).toBe(summary.indexDigest);
    const verified = await megalift(
      ["verify", `docker://${secured.host}/demo:tx`, "--key", join(work, "key.pub")],
      { DOCKER_CONFIG: dockerConfig },
    );
    expect(verified.status, verified.stderr).toBe(0);
    expect(verified.stdout.toString("utf8")).toContain(summary.manifestDigest);
  }, 600_000);

  it("says UNAUTHORIZED, naming the registry, when no credentials are configured", async () => {
    const empty = join(work, "no-docker");
    mkdirSync(empty);
    process.env.DOCKER_CONFIG = empty;
    try {
      const err = await transformTo(`docker://${secured.host}/demo:nocreds`).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: "UNAUTHORIZED" });
      expect(String((err as Error).message)).toContain(secured.host);
    } finally {
      process.env.DOCKER_CONFIG = dockerConfig;
    }
  }, 600_000);
});
