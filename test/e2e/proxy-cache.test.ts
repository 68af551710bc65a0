// The proxy's cache with real pulls: ten concurrent cold pulls of the Debian
// minbase image cost the upstream one GET per blob (counted in distribution's
// access log); cached tags still pull with the upstream stopped; and a
// restarted proxy serves them from the same cache directory. The tests run
// in order: each builds on the cache the one before filled.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDistribution, type Distribution } from "./harness/distribution.js";
import { sleep } from "./harness/daemon.js";
import { startProxy, type Proxy } from "./harness/proxy.js";
import { Skopeo } from "./harness/skopeo.js";
import { Teardown } from "./harness/teardown.js";
import {
  layoutDigest,
  minbaseImage,
  writeMultiArchImage,
  type MultiArchImage,
} from "./harness/test-images.js";

const MINBASE = "library/minbase:bookworm";
const MULTIARCH = "library/multiarch:v1";
const CONCURRENT_PULLS = 10;

interface ImageManifest {
  config: { digest: string };
  layers: { digest: string }[];
}

describe("proxy cache under real pulls", () => {
  const teardown = new Teardown();
  let skopeo: Skopeo;
  let upstream: Distribution;
  let multiArch: MultiArchImage;
  let proxy: Proxy;
  let minbaseDigest: string;
  let minbaseBlobs: string[];

  beforeAll(async () => {
    skopeo = new Skopeo(teardown);
    multiArch = await writeMultiArchImage(teardown.tempDir("multiarch"));
    upstream = await startDistribution(teardown);
    await skopeo.push(minbaseImage(), upstream.host, "library/minbase");
    await skopeo.push(multiArch, upstream.host, "library/multiarch", { all: true });
    const raw = await skopeo.rawManifest(`${upstream.host}/${MINBASE}`);
    minbaseDigest = raw.digest;
    const manifest = JSON.parse(raw.bytes.toString("utf8")) as ImageManifest;
    minbaseBlobs = [manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
    proxy = await startProxy({ upstream: upstream.url }, teardown);
  }, 900_000);
  afterAll(() => teardown.run());

  /** skopeo copy of `ref` through `via` into a fresh layout; returns the digest it recorded. */
  async function pullThrough(via: Proxy, ref: string, all = false): Promise<string> {
    const dir = teardown.tempDir("pull");
    const tag = ref.split(":")[1]!;
    await skopeo.copyOk(`docker://${via.host}/${ref}`, `oci:${dir}:${tag}`, { all });
    return layoutDigest(dir, tag);
  }

  it(`${CONCURRENT_PULLS} concurrent cold pulls cause exactly one upstream GET per blob`, async () => {
    expect(minbaseBlobs.map((d) => upstream.blobGets(d))).toEqual(minbaseBlobs.map(() => 0));
    const dirs = Array.from({ length: CONCURRENT_PULLS }, () => teardown.tempDir("concurrent"));
    const results = await Promise.all(
      dirs.map((dir) => skopeo.copy(`docker://${proxy.host}/${MINBASE}`, `oci:${dir}:bookworm`)),
    );
    for (const result of results) expect(result.status, result.stderr).toBe(0);
    for (const dir of dirs) expect(layoutDigest(dir, "bookworm")).toBe(minbaseDigest);
    // distribution writes an access log line when a response ends; give the last one a moment.
    await sleep(500);
    const gets = Object.fromEntries(minbaseBlobs.map((d) => [d, upstream.blobGets(d)]));
    expect(gets).toEqual(Object.fromEntries(minbaseBlobs.map((d) => [d, 1])));
  }, 600_000);

  it("pulls cached tags while the upstream is stopped", async () => {
    // Cache the index too, then take the upstream away.
    expect(await pullThrough(proxy, MULTIARCH, true)).toBe(multiArch.indexDigest);
    await upstream.stop();
    expect(upstream.running).toBe(false);

    expect(await pullThrough(proxy, MINBASE)).toBe(minbaseDigest);
    expect(await pullThrough(proxy, MULTIARCH, true)).toBe(multiArch.indexDigest);
  }, 300_000);

  it("serves the same cache after a restart, with the upstream still stopped", async () => {
    await proxy.stop();
    const restarted = await startProxy(
      { upstream: upstream.url, cacheDir: proxy.cacheDir },
      teardown,
    );
    expect(await pullThrough(restarted, MINBASE)).toBe(minbaseDigest);
    expect(await pullThrough(restarted, MULTIARCH, true)).toBe(multiArch.indexDigest);
    const blobGets = restarted
      .requests()
      .filter((r) => r.method === "GET" && r.path.includes("/blobs/"));
    expect(blobGets.length).toBeGreaterThan(0);
    for (const r of blobGets) expect(r, r.path).toMatchObject({ status: 200, cache: "hit" });
  }, 300_000);
});
