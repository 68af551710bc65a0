// Blobs through the cache: Range on hit and miss, 416, one upstream fetch for
// many concurrent clients, clients that disconnect, and wrong upstream bytes.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Digest } from "../../src/oci/digest.js";
import { errorCode, makeHarness, type Harness } from "./harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

function bytesOf(length: number, seed = 7): Uint8Array {
  const data = new Uint8Array(length);
  for (let i = 0; i < length; i++) data[i] = (i * 31 + seed) & 0xff;
  return data;
}

async function body(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

/** Byte equality without vitest's element-by-element deep equal (slow on large arrays). */
function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  expect(Buffer.from(actual).equals(Buffer.from(expected))).toBe(true);
}

async function filesUnder(dir: string): Promise<string[]> {
  try {
    return await readdir(dir, { recursive: true });
  } catch {
    return [];
  }
}

describe("Range", () => {
  it.each(["hit", "miss"])("answers 206 with Content-Range on a cache %s", async (state) => {
    h = await makeHarness();
    const data = bytesOf(5000);
    const digest = h.upstream.addBlob(data);
    if (state === "hit") await body(await h.request(`/v2/app/blobs/${digest.toString()}`));
    const cases: [string, number, number][] = [
      ["bytes=100-199", 100, 199],
      ["bytes=4990-", 4990, 4999],
      ["bytes=-10", 4990, 4999],
      ["bytes=4000-9999", 4000, 4999],
    ];
    for (const [range, start, end] of cases) {
      const res = await h.request(`/v2/app/blobs/${digest.toString()}`, {
        headers: { Range: range },
      });
      expect(res.status).toBe(206);
      expect(res.headers.get("Content-Range")).toBe(`bytes ${start}-${end}/5000`);
      expect(res.headers.get("Content-Length")).toBe(String(end - start + 1));
      expect(res.headers.get("Docker-Content-Digest")).toBe(digest.toString());
      expectBytes(await body(res), data.subarray(start, end + 1));
    }
    expect(h.upstream.calls.getBlob).toBe(1);
  });

  it("serves a range from the download in flight before the download ends", async () => {
    h = await makeHarness();
    const data = bytesOf(5000);
    const digest = h.upstream.addBlob(data);
    h.upstream.holdAfter = 2000;
    const res = await h.request(`/v2/app/blobs/${digest.toString()}`, {
      headers: { Range: "bytes=1000-1499" },
    });
    expect(res.status).toBe(206);
    expectBytes(await body(res), data.subarray(1000, 1500));
    expect(await h.cache.openBlob(digest)).toBeUndefined();
    h.upstream.release();
    await h.fetcher.settled();
    const cached = await h.cache.openBlob(digest);
    expect(cached?.size).toBe(5000);
    await cached?.handle.close();
  });

  it("answers 416 for an unsatisfiable range, on hit and miss", async () => {
    h = await makeHarness();
    const digest = h.upstream.addBlob(bytesOf(100));
    for (let i = 0; i < 2; i++) {
      const res = await h.request(`/v2/app/blobs/${digest.toString()}`, {
        headers: { Range: "bytes=100-" },
      });
      expect(res.status).toBe(416);
      expect(res.headers.get("Content-Range")).toBe("bytes */100");
      await h.fetcher.settled();
    }
  });

  it("ignores malformed and multi-part ranges (200, whole blob)", async () => {
    h = await makeHarness();
    const data = bytesOf(300);
    const digest = h.upstream.addBlob(data);
    for (const range of ["bytes=0-1,5-6", "items=0-3", "bytes=9-2"]) {
      const res = await h.request(`/v2/app/blobs/${digest.toString()}`, {
        headers: { Range: range },
      });
      expect(res.status).toBe(200);
      expectBytes(await body(res), data);
    }
  });
});

describe("single flight", () => {
  it("fetches a blob once for 10 concurrent misses, and all 10 get the right bytes", async () => {
    h = await makeHarness();
    const data = bytesOf(300_000);
    const digest = h.upstream.addBlob(data);
    h.upstream.holdAfter = 70_000;
    const harness = h;
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => harness.request(`/v2/app/blobs/${digest.toString()}`)),
    );
    const bodies = Promise.all(responses.map(body));
    h.upstream.release();
    for (const received of await bodies) expectBytes(received, data);
    expect(h.upstream.calls.getBlob).toBe(1);
    expect(h.metrics.value("megalift_proxy_upstream_fetches_total", { kind: "blob" })).toBe(1);
  });

  it("fetches once for concurrent Range requests on a miss", async () => {
    h = await makeHarness();
    const data = bytesOf(10_000);
    const digest = h.upstream.addBlob(data);
    const harness = h;
    const ranges = [
      [0, 99],
      [5000, 5999],
      [9000, 9999],
    ] as const;
    const results = await Promise.all(
      ranges.map(async ([start, end]) =>
        body(
          await harness.request(`/v2/app/blobs/${digest.toString()}`, {
            headers: { Range: `bytes=${start}-${end}` },
          }),
        ),
      ),
    );
    results.forEach((received, i) => {
      const [start, end] = ranges[i] ?? [0, 0];
      expectBytes(received, data.subarray(start, end + 1));
    });
    expect(h.upstream.calls.getBlob).toBe(1);
  });
});

describe("clients that disconnect", () => {
  it("leaves no partial entry and does not stop the download others wait on", async () => {
    h = await makeHarness();
    const data = bytesOf(50_000);
    const digest = h.upstream.addBlob(data);
    h.upstream.holdAfter = 20_000;
    const leaving = await h.request(`/v2/app/blobs/${digest.toString()}`);
    const waiting = await h.request(`/v2/app/blobs/${digest.toString()}`);
    const reader = leaving.body?.getReader();
    const first = await reader?.read();
    expect(first?.value?.byteLength).toBeGreaterThan(0);
    await reader?.cancel();
    // Nothing partial is visible: not in the cache, not under blobs/.
    expect(await h.cache.openBlob(digest)).toBeUndefined();
    expect(await filesUnder(join(h.dir, "blobs"))).not.toContain(join("sha256", digest.hex));
    h.upstream.release();
    expectBytes(await body(waiting), data);
    await h.fetcher.settled();
    expect(h.upstream.calls.getBlob).toBe(1);
    const cached = await h.cache.openBlob(digest);
    expect(cached?.size).toBe(data.length);
    await cached?.handle.close();
    expect(await filesUnder(join(h.dir, "tmp"))).toEqual([]);
  });

  it("leaves nothing behind when the only client leaves and the download then fails", async () => {
    h = await makeHarness();
    const data = bytesOf(50_000);
    const digest = h.upstream.addBlob(data);
    h.upstream.corrupt.add(digest.toString());
    h.upstream.holdAfter = 20_000;
    const leaving = await h.request(`/v2/app/blobs/${digest.toString()}`);
    await leaving.body?.cancel();
    h.upstream.release();
    await h.fetcher.settled();
    expect(await h.cache.openBlob(digest)).toBeUndefined();
    expect(await filesUnder(join(h.dir, "tmp"))).toEqual([]);
  });
});

describe("wrong upstream bytes", () => {
  it("answers 502 DIGEST_INVALID for a small blob and caches nothing", async () => {
    h = await makeHarness({ verifyBeforeServeBytes: 1024 * 1024 });
    const digest = h.upstream.addBlob(bytesOf(4000));
    h.upstream.corrupt.add(digest.toString());
    const res = await h.request(`/v2/app/blobs/${digest.toString()}`);
    expect(res.status).toBe(502);
    expect(await errorCode(res)).toBe("DIGEST_INVALID");
    expect(await h.cache.openBlob(digest)).toBeUndefined();
    expect(await filesUnder(join(h.dir, "blobs"))).toEqual([]);
    expect(await filesUnder(join(h.dir, "tmp"))).toEqual([]);
  });

  it("cuts a streamed large blob before its last byte and caches nothing", async () => {
    h = await makeHarness({ verifyBeforeServeBytes: 0 });
    const data = bytesOf(40_000);
    const digest = h.upstream.addBlob(data);
    h.upstream.corrupt.add(digest.toString());
    const res = await h.request(`/v2/app/blobs/${digest.toString()}`);
    expect(res.status).toBe(200);
    await expect(res.arrayBuffer()).rejects.toThrow(/digest mismatch/);
    await h.fetcher.settled();
    expect(await h.cache.openBlob(digest)).toBeUndefined();
    expect(await filesUnder(join(h.dir, "tmp"))).toEqual([]);
  });

  it("answers 502 DIGEST_INVALID for a manifest whose bytes do not match the digest asked for", async () => {
    h = await makeHarness();
    const m = h.upstream.addManifest("app", "latest", { schemaVersion: 2, layers: [] });
    const wrong = Digest.of("something else");
    h.upstream.tag("app", "x", wrong);
    // The fake stores manifests by (repository, digest): make one answer with the wrong bytes.
    (h.upstream as unknown as { manifests: Map<string, unknown> }).manifests.set(
      `app@${wrong.toString()}`,
      m,
    );
    const res = await h.request(`/v2/app/manifests/${wrong.toString()}`);
    expect(res.status).toBe(502);
    expect(await errorCode(res)).toBe("DIGEST_INVALID");
    expect(await h.cache.getManifest(wrong)).toBeUndefined();
  });
});
