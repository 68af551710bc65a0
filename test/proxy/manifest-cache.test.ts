// Tags and manifests through the cache: TTL and revalidation, serving while
// the upstream is down, and a restarted proxy serving from its directory.
import { afterEach, describe, expect, it } from "vitest";
import { FakeUpstream } from "./fake-upstream.js";
import { addImage, makeHarness, type Harness } from "./harness.js";

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.cleanup();
});

async function harness(...args: Parameters<typeof makeHarness>): Promise<Harness> {
  const h = await makeHarness(...args);
  harnesses.push(h);
  return h;
}

describe("tag TTL", () => {
  it("trusts a tag within the TTL and revalidates it after", async () => {
    const h = await harness({ tagTtlSeconds: 60 });
    const first = addImage(h.upstream, "app", "latest", "v1 layer");
    expect((await h.request("/v2/app/manifests/latest")).headers.get("Docker-Content-Digest")).toBe(
      first.manifest.digest.toString(),
    );
    const second = addImage(h.upstream, "app", "latest", "v2 layer");
    h.clock.now += 59_000;
    const fresh = await h.request("/v2/app/manifests/latest");
    expect(fresh.headers.get("Docker-Content-Digest")).toBe(first.manifest.digest.toString());
    expect(h.upstream.calls.getManifest).toBe(1);

    h.clock.now += 2_000;
    const revalidated = await h.request("/v2/app/manifests/latest");
    expect(revalidated.headers.get("Docker-Content-Digest")).toBe(
      second.manifest.digest.toString(),
    );
    expect(h.upstream.calls.headManifest).toBe(1);
    expect(h.upstream.calls.getManifest).toBe(2);
  });

  it("revalidates with a HEAD only when the tag has not moved", async () => {
    const h = await harness({ tagTtlSeconds: 10 });
    addImage(h.upstream, "app");
    await h.request("/v2/app/manifests/latest");
    h.clock.now += 11_000;
    const res = await h.request("/v2/app/manifests/latest");
    expect(res.status).toBe(200);
    expect(h.upstream.calls.headManifest).toBe(1);
    expect(h.upstream.calls.getManifest).toBe(1);
    h.clock.now += 5_000;
    await h.request("/v2/app/manifests/latest");
    expect(h.upstream.calls.headManifest).toBe(1);
  });
});

describe("upstream down", () => {
  it("serves the cached digest of a stale tag, cached manifests and blobs", async () => {
    const h = await harness({ tagTtlSeconds: 10 });
    const image = addImage(h.upstream, "app");
    await h.request("/v2/app/manifests/latest");
    await (await h.request(`/v2/app/blobs/${image.layer.toString()}`)).arrayBuffer();
    h.upstream.down = true;
    h.clock.now += 3_600_000;
    const manifest = await h.request("/v2/app/manifests/latest");
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get("Docker-Content-Digest")).toBe(image.manifest.digest.toString());
    const byDigest = await h.request(`/v2/app/manifests/${image.manifest.digest.toString()}`);
    expect(byDigest.status).toBe(200);
    const blob = await h.request(`/v2/app/blobs/${image.layer.toString()}`);
    expect(Buffer.from(await blob.arrayBuffer()).equals(Buffer.from(image.layerBytes))).toBe(true);
  });

  it("after a failure, serves stale tags without asking the upstream for a while", async () => {
    const h = await harness({ tagTtlSeconds: 1 });
    addImage(h.upstream, "app");
    await h.request("/v2/app/manifests/latest");
    h.upstream.down = true;
    h.clock.now += 2_000;
    expect((await h.request("/v2/app/manifests/latest")).status).toBe(200);
    const asked = h.upstream.calls.headManifest;
    expect((await h.request("/v2/app/manifests/latest")).status).toBe(200);
    expect(h.upstream.calls.headManifest).toBe(asked);
    h.upstream.down = false;
    h.clock.now += 60_000;
    expect((await h.request("/v2/app/manifests/latest")).status).toBe(200);
    expect(h.upstream.calls.headManifest).toBe(asked + 1);
  });

  it("answers 503 UNAVAILABLE for what is not cached", async () => {
    const h = await harness();
    h.upstream.down = true;
    const res = await h.request("/v2/app/manifests/latest");
    expect(res.status).toBe(503);
    expect(((await res.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe(
      "UNAVAILABLE",
    );
  });

  it("passes on a definite upstream 'no' for a stale tag", async () => {
    const h = await harness({ tagTtlSeconds: 1 });
    addImage(h.upstream, "app", "old");
    await h.request("/v2/app/manifests/old");
    h.clock.now += 2_000;
    (h.upstream as unknown as { tags: Map<string, Map<string, string>> }).tags
      .get("app")
      ?.delete("old");
    expect((await h.request("/v2/app/manifests/old")).status).toBe(404);
  });
});

describe("restart", () => {
  it("a new proxy over the same cache directory serves with the upstream down", async () => {
    const first = await harness();
    const image = addImage(first.upstream, "app");
    await first.request("/v2/app/manifests/latest");
    await (await first.request(`/v2/app/blobs/${image.layer.toString()}`)).arrayBuffer();

    const downUpstream = new FakeUpstream();
    downUpstream.down = true;
    const second = await harness({ dir: first.dir, upstreams: { "registry.test": downUpstream } });
    second.clock.now += 24 * 3_600_000;
    const manifest = await second.request("/v2/app/manifests/latest");
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get("Docker-Content-Digest")).toBe(image.manifest.digest.toString());
    const blob = await second.request(`/v2/app/blobs/${image.layer.toString()}`, {
      headers: { Range: "bytes=0-4" },
    });
    expect(blob.status).toBe(206);
    expect(Buffer.from(await blob.arrayBuffer()).toString()).toBe("layer");
  });
});

describe("single flight for manifests", () => {
  it("asks the upstream once for concurrent misses of one tag", async () => {
    const h = await harness();
    addImage(h.upstream, "app");
    const all = await Promise.all(
      Array.from({ length: 5 }, () => h.request("/v2/app/manifests/latest")),
    );
    expect(all.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(h.upstream.calls.getManifest).toBe(1);
  });
});
