// Transform on pull through app.request(...): tag pulls answer the
// transformed index (one transform however many clients ask, kept across a
// restart), digest pulls answer source and transformed bytes alike, and a
// pull that outlasts the wait, a failure or the time limit gets 503
// UNAVAILABLE with Retry-After. The transform itself is a fake runner
// (transform-harness.ts); test/e2e/proxy-transform.test.ts runs the real one.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Digest } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/media-types.js";
import { ProxyAnnotation } from "../../proxy/transform/output-index.js";
import type { TransformStatus } from "../../proxy/transform/transform-status.js";
import { FakeUpstream } from "./fake-upstream.js";
import { addImage, errorCode } from "./harness.js";
import {
  BUNDLE_TYPE,
  FakeTransformRunner,
  makeTransformHarness,
  removeDir,
  type TransformHarness,
} from "./transform-harness.js";

const ACCEPT = [MediaType.OciIndex, MediaType.OciManifest, MediaType.DockerManifest].join(", ");
const get = (h: TransformHarness, path: string, method = "GET"): Promise<Response> =>
  h.request(path, { method, headers: { Accept: ACCEPT } });

interface IndexJson {
  manifests: { digest: string; platform?: { architecture: string }; mediaType: string }[];
  annotations?: Record<string, string>;
}

async function statuses(h: TransformHarness): Promise<TransformStatus[]> {
  const response = await h.request("/megalift/v1/transforms");
  expect(response.status).toBe(200);
  return ((await response.json()) as { transforms: TransformStatus[] }).transforms;
}

const cleanups: (() => Promise<void>)[] = [];
async function harness(
  options: Parameters<typeof makeTransformHarness>[0] = {},
): Promise<TransformHarness> {
  const h = await makeTransformHarness(options);
  cleanups.push(() => h.close());
  if (options.dir === undefined) cleanups.push(() => removeDir(h.dir));
  return h;
}
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("transform on pull", () => {
  it("answers a tag with the transformed index, made once for concurrent pulls", async () => {
    const h = await harness();
    const image = addImage(h.upstream, "team/app");
    const responses = await Promise.all(
      [1, 2, 3, 4].map(() => get(h, "/v2/team/app/manifests/latest")),
    );
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(h.runner.runs).toBe(1);
    const bodies = await Promise.all(responses.map((r) => r.text()));
    expect(new Set(bodies).size).toBe(1);
    const index = JSON.parse(bodies[0]!) as IndexJson;
    const digest = responses[0]!.headers.get("docker-content-digest")!;
    expect(Digest.of(bodies[0]!).toString()).toBe(digest);
    expect(responses[0]!.headers.get("content-type")).toBe(MediaType.OciIndex);
    expect(index.annotations?.[ProxyAnnotation.SourceDigest]).toBe(
      image.manifest.digest.toString(),
    );
    expect(index.annotations?.[ProxyAnnotation.Transformed]).toBe("linux/amd64");
    // The job names the source as the registry image it is.
    expect(h.runner.jobs[0]?.sourceName).toBe(
      `registry.test/team/app@${image.manifest.digest.toString()}`,
    );

    // Children and blobs by digest, as clients fetch them after the tag.
    const child = index.manifests[0]!;
    const childResponse = await get(h, `/v2/team/app/manifests/${child.digest}`);
    expect(childResponse.status).toBe(200);
    const augmented = JSON.parse(await childResponse.text()) as { layers: { digest: string }[] };
    for (const layer of augmented.layers) {
      const blob = await get(h, `/v2/team/app/blobs/${layer.digest}`);
      expect(blob.status, layer.digest).toBe(200);
      expect(Digest.of(new Uint8Array(await blob.arrayBuffer())).toString()).toBe(layer.digest);
    }
    const ranged = await h.request(`/v2/team/app/blobs/${augmented.layers.at(-1)!.digest}`, {
      headers: { Range: "bytes=0-3" },
    });
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe("fake");

    // The source stays reachable, unchanged, by digest.
    const source = await get(h, `/v2/team/app/manifests/${image.manifest.digest.toString()}`);
    expect(source.status).toBe(200);
    expect(new Uint8Array(await source.arrayBuffer())).toEqual(image.manifest.bytes);

    // A second pull costs no transform; the status and the metrics say so.
    const again = await get(h, "/v2/team/app/manifests/latest");
    expect(again.headers.get("docker-content-digest")).toBe(digest);
    expect(h.runner.runs).toBe(1);
    const [status] = await statuses(h);
    expect(status).toMatchObject({
      state: "done",
      sourceDigest: image.manifest.digest.toString(),
      repository: "registry.test/team/app",
      indexDigest: digest,
      manifestDigest: child.digest,
    });
    const metrics = await (await h.request("/metrics")).text();
    expect(metrics).toContain('megalift_proxy_transforms_total{result="done"} 1');
    expect(metrics).toContain('megalift_proxy_transformed_pulls_total{cache="hit"} 1');
    expect(metrics).toContain('megalift_proxy_transformed_pulls_total{cache="miss"} 4');
    expect(h.logs.map((l) => l.msg)).toEqual(
      expect.arrayContaining(["transform started", "transform done"]),
    );
  });

  it("answers HEAD for a tag with the transformed digest", async () => {
    const h = await harness();
    addImage(h.upstream, "team/app");
    const head = await get(h, "/v2/team/app/manifests/latest", "HEAD");
    expect(head.status).toBe(200);
    const full = await get(h, "/v2/team/app/manifests/latest");
    expect(head.headers.get("docker-content-digest")).toBe(
      full.headers.get("docker-content-digest"),
    );
    expect(h.runner.runs).toBe(1);
  });

  it("serves the augmented image to a client that accepts no index", async () => {
    const h = await harness();
    addImage(h.upstream, "team/app");
    const index = JSON.parse(
      await (await get(h, "/v2/team/app/manifests/latest")).text(),
    ) as IndexJson;
    const response = await h.request("/v2/team/app/manifests/latest", {
      headers: { Accept: MediaType.OciManifest },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("docker-content-digest")).toBe(index.manifests[0]?.digest);
  });

  it("keeps transforms across a restart, with the same signing key", async () => {
    const first = await harness();
    addImage(first.upstream, "team/app");
    const digest = (await get(first, "/v2/team/app/manifests/latest")).headers.get(
      "docker-content-digest",
    );
    const key = await (await first.request("/megalift/v1/key.pub")).text();
    expect(key).toContain("BEGIN PUBLIC KEY");
    await first.close();

    const runner = new FakeTransformRunner();
    const second = await harness({ dir: first.dir, upstream: first.upstream, runner });
    const again = await get(second, "/v2/team/app/manifests/latest");
    expect(again.status).toBe(200);
    expect(again.headers.get("docker-content-digest")).toBe(digest);
    expect(runner.runs).toBe(0);
    expect(await (await second.request("/megalift/v1/key.pub")).text()).toBe(key);
    expect((await statuses(second)).map((s) => s.state)).toEqual(["done"]);
  });

  it("transforms again for another toolchain version", async () => {
    const first = await harness();
    addImage(first.upstream, "team/app");
    await get(first, "/v2/team/app/manifests/latest");
    await first.close();
    const runner = new FakeTransformRunner();
    const second = await harness({
      dir: first.dir,
      upstream: first.upstream,
      runner,
      toolchainVersion: "next-toolchain",
    });
    expect((await get(second, "/v2/team/app/manifests/latest")).status).toBe(200);
    expect(runner.runs).toBe(1);
  });

  it("serves the signatures: referrers API, referrers tag and cosign .sig tag", async () => {
    const h = await harness();
    addImage(h.upstream, "team/app");
    const index = JSON.parse(
      await (await get(h, "/v2/team/app/manifests/latest")).text(),
    ) as IndexJson;
    const subject = index.manifests[0]!.digest;
    const referrers = await h.request(`/v2/team/app/referrers/${subject}`);
    const listed = (await referrers.json()) as {
      manifests: { artifactType?: string; digest: string }[];
    };
    expect(listed.manifests).toHaveLength(1);
    expect(listed.manifests[0]?.artifactType).toBe(BUNDLE_TYPE);
    const referrer = await get(h, `/v2/team/app/manifests/${listed.manifests[0]!.digest}`);
    expect(referrer.status).toBe(200);
    const filtered = await h.request(`/v2/team/app/referrers/${subject}?artifactType=text/plain`);
    expect(((await filtered.json()) as { manifests: unknown[] }).manifests).toEqual([]);
    const hex = subject.slice("sha256:".length);
    for (const tag of [`sha256-${hex}`, `sha256-${hex}.sig`]) {
      const response = await get(h, `/v2/team/app/manifests/${tag}`);
      expect(response.status, tag).toBe(200);
    }
    expect(h.runner.runs).toBe(1);
  });

  it("answers 503 with Retry-After while a transform outlasts the wait, then the index", async () => {
    const runner = new FakeTransformRunner();
    runner.hold = true;
    const h = await harness({ runner, transform: { waitSeconds: 0 } });
    const image = addImage(h.upstream, "team/app");
    const waiting = await get(h, "/v2/team/app/manifests/latest");
    expect(waiting.status).toBe(503);
    expect(waiting.headers.get("retry-after")).toBe("10");
    expect(await errorCode(waiting)).toBe("UNAVAILABLE");
    await waitFor(async () => (await statuses(h))[0]?.stage === "lift");
    expect(await statuses(h)).toEqual([
      expect.objectContaining({ state: "running", detail: "/bin/sh" }),
    ]);
    const second = await get(h, "/v2/team/app/manifests/latest");
    expect(second.status).toBe(503);
    const body = (await second.json()) as {
      errors: { code: string; message: string; detail: { transform: TransformStatus } }[];
    };
    expect(body.errors[0]?.code).toBe("UNAVAILABLE");
    expect(body.errors[0]?.message).toContain("stage lift 1/3");
    expect(body.errors[0]?.detail.transform).toMatchObject({
      state: "running",
      stage: "lift",
      done: 1,
      total: 3,
      sourceDigest: image.manifest.digest.toString(),
    });
    // A transform in progress is never visible half-written.
    expect(await readdir(join(h.dir, "transforms"))).toEqual(["tmp"]);
    expect(runner.runs).toBe(1);
    runner.release();
    await waitFor(async () => (await statuses(h))[0]?.state === "done");
    const done = await get(h, "/v2/team/app/manifests/latest");
    expect(done.status).toBe(200);
    expect(runner.runs).toBe(1);
  });

  it("answers 503 with Retry-After after a failure, and tries again once it has passed", async () => {
    const runner = new FakeTransformRunner();
    runner.failWith = "lift failed: boom";
    const h = await harness({ runner, transform: { retryFailedAfterSeconds: 120 } });
    addImage(h.upstream, "team/app");
    const failed = await get(h, "/v2/team/app/manifests/latest");
    expect(failed.status).toBe(503);
    expect(failed.headers.get("retry-after")).toBe("120");
    const body = (await failed.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]?.code).toBe("UNAVAILABLE");
    expect(body.errors[0]?.message).toContain("TRANSFORM_FAILED: lift failed: boom");
    expect(await statuses(h)).toEqual([
      expect.objectContaining({
        state: "failed",
        error: { code: "TRANSFORM_FAILED", message: "lift failed: boom" },
      }),
    ]);
    // Nothing of the failed transform is left behind.
    expect(await readdir(join(h.dir, "transforms", "tmp"))).toEqual([]);
    h.clock.now += 60_000;
    const soon = await get(h, "/v2/team/app/manifests/latest");
    expect(soon.status).toBe(503);
    expect(soon.headers.get("retry-after")).toBe("60");
    expect(runner.runs).toBe(1);
    runner.failWith = undefined;
    h.clock.now += 61_000;
    expect((await get(h, "/v2/team/app/manifests/latest")).status).toBe(200);
    expect(runner.runs).toBe(2);
    const metrics = await (await h.request("/metrics")).text();
    expect(metrics).toContain('megalift_proxy_transforms_total{result="failed"} 1');
    expect(h.logs.some((l) => l.msg === "transform failed" && l.level === "error")).toBe(true);
  });

  it("stops a transform at the time limit", async () => {
    const runner = new FakeTransformRunner();
    runner.hold = true;
    const h = await harness({ runner, transform: { timeoutSeconds: 1, waitSeconds: 5 } });
    addImage(h.upstream, "team/app");
    const response = await get(h, "/v2/team/app/manifests/latest");
    expect(response.status).toBe(503);
    const body = (await response.json()) as { errors: { message: string }[] };
    expect(body.errors[0]?.message).toContain("TRANSFORM_TIMEOUT");
    expect(runner.lastSignal?.aborted).toBe(true);
    expect((await statuses(h))[0]).toMatchObject({
      state: "failed",
      error: { code: "TRANSFORM_TIMEOUT" },
    });
    expect(await readdir(join(h.dir, "transforms", "tmp"))).toEqual([]);
  });
});

describe("multi-platform sources", () => {
  function addIndex(upstream: FakeUpstream): { index: Digest; amd64: Digest; arm64: Digest } {
    const amd64 = addImage(upstream, "team/multi", "amd64-only", "amd64 layer");
    const arm64 = addImage(upstream, "team/multi", "arm64-only", "arm64 layer");
    const index = upstream.addManifest(
      "team/multi",
      "v1",
      {
        schemaVersion: 2,
        manifests: [
          {
            mediaType: MediaType.OciManifest,
            digest: amd64.manifest.digest.toString(),
            size: amd64.manifest.bytes.length,
            platform: { os: "linux", architecture: "amd64" },
          },
          {
            mediaType: MediaType.OciManifest,
            digest: arm64.manifest.digest.toString(),
            size: arm64.manifest.bytes.length,
            platform: { os: "linux", architecture: "arm64", variant: "v8" },
          },
        ],
      },
      MediaType.OciIndex,
    );
    return { index: index.digest, amd64: amd64.manifest.digest, arm64: arm64.manifest.digest };
  }

  it("transforms linux/amd64 and records the dropped platforms", async () => {
    const h = await harness();
    const digests = addIndex(h.upstream);
    const response = await get(h, "/v2/team/multi/manifests/v1");
    expect(response.status).toBe(200);
    const index = JSON.parse(await response.text()) as IndexJson;
    expect(index.manifests.map((m) => m.platform?.architecture)).toEqual(["amd64"]);
    expect(index.annotations).toMatchObject({
      [ProxyAnnotation.SourceDigest]: digests.index.toString(),
      [ProxyAnnotation.Transformed]: "linux/amd64",
      [ProxyAnnotation.Dropped]: "linux/arm64/v8",
    });
    expect(h.runner.jobs[0]?.sourceName).toBe(
      `registry.test/team/multi@${digests.amd64.toString()}`,
    );
  });

  it("lists the other platforms unchanged when configured to pass them through", async () => {
    const h = await harness({ transform: { otherPlatforms: "passthrough" } });
    const digests = addIndex(h.upstream);
    const index = JSON.parse(
      await (await get(h, "/v2/team/multi/manifests/v1")).text(),
    ) as IndexJson;
    expect(index.manifests.map((m) => m.digest)).toContain(digests.arm64.toString());
    expect(index.annotations?.[ProxyAnnotation.PassedThrough]).toBe("linux/arm64/v8");
    const arm64 = await get(h, `/v2/team/multi/manifests/${digests.arm64.toString()}`);
    expect(arm64.status).toBe(200);
  });

  it("serves an index without linux/amd64 unchanged, with a Warning", async () => {
    const h = await harness();
    const arm64 = addImage(h.upstream, "team/arm", "arm64-only");
    const index = h.upstream.addManifest(
      "team/arm",
      "v1",
      {
        schemaVersion: 2,
        manifests: [
          {
            mediaType: MediaType.OciManifest,
            digest: arm64.manifest.digest.toString(),
            size: arm64.manifest.bytes.length,
            platform: { os: "linux", architecture: "arm64" },
          },
        ],
      },
      MediaType.OciIndex,
    );
    const response = await get(h, "/v2/team/arm/manifests/v1");
    expect(response.status).toBe(200);
    expect(response.headers.get("docker-content-digest")).toBe(index.digest.toString());
    expect(response.headers.get("warning")).toContain("no linux/amd64 image");
    expect(h.runner.runs).toBe(0);
  });
});

describe("per-repository mode", () => {
  it("passes through repositories a passthrough rule matches", async () => {
    const h = await harness({ repositories: [{ match: "mirror/*", mode: "passthrough" }] });
    const plain = addImage(h.upstream, "mirror/app");
    addImage(h.upstream, "team/app");
    const passed = await get(h, "/v2/mirror/app/manifests/latest");
    expect(passed.headers.get("docker-content-digest")).toBe(plain.manifest.digest.toString());
    expect(h.runner.runs).toBe(0);
    expect((await get(h, "/v2/team/app/manifests/latest")).status).toBe(200);
    expect(h.runner.runs).toBe(1);
  });
});

describe("signing key", () => {
  it("uses the configured key file", async () => {
    const { generateSigningKeyPair } = await import("../../src/sign/keys.js");
    const { writeFile, mkdtemp } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const keyDir = await mkdtemp(join(tmpdir(), "megalift-key-"));
    cleanups.push(() => removeDir(keyDir));
    const pair = generateSigningKeyPair();
    await writeFile(join(keyDir, "key.pem"), pair.privateKeyPem);
    const h = await harness({ transform: { signingKeyFile: join(keyDir, "key.pem") } });
    expect(await (await h.request("/megalift/v1/key.pub")).text()).toBe(pair.publicKeyPem);
    addImage(h.upstream, "team/app");
    await get(h, "/v2/team/app/manifests/latest");
    expect(h.runner.jobs[0]?.signingKeyFile).toBe(join(keyDir, "key.pem"));
    expect(await readFile(join(keyDir, "key.pem"), "utf8")).toBe(pair.privateKeyPem);
  });

  it("has no status or key endpoint in passthrough mode", async () => {
    const { makeHarness } = await import("./harness.js");
    const h = await makeHarness();
    cleanups.push(() => h.cleanup());
    const response = await h.request("/megalift/v1/transforms");
    expect(response.status).toBe(404);
    expect(await errorCode(response)).toBe("NAME_UNKNOWN");
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
