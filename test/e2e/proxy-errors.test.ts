// The proxy facing bad input and bad bytes, end to end: malformed names,
// tags and digests get OCI error JSON with the spec's codes; an upstream
// whose blob file was corrupted on disk (so it serves bytes that do not match
// their digest) makes the pull fail with DIGEST_INVALID and leaves nothing in
// the cache; a client that hangs up mid-blob leaves no partial cache entry.
import { request } from "node:http";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { filesHolding, filesHoldingPartial } from "./harness/cache-inspection.js";
import { sleep } from "./harness/daemon.js";
import { startDistribution, type Distribution } from "./harness/distribution.js";
import { ociErrorAnswer } from "./harness/oci-http.js";
import { startProxy, type Proxy } from "./harness/proxy.js";
import { Skopeo } from "./harness/skopeo.js";
import { Teardown } from "./harness/teardown.js";
import {
  sha256,
  writeMultiArchImage,
  writeSingleLayerImage,
  type MultiArchImage,
  type SingleLayerImage,
} from "./harness/test-images.js";

const BIG_LAYER_BYTES = 48 * 1024 * 1024;
// Above the proxy's default verify-before-serve size (8 MiB).
const STREAMED_LAYER_BYTES = 16 * 1024 * 1024;

/** Flips 100 bytes of the blob file in place (same length: only the digest can tell). */
function corruptFile(path: string): { original: Buffer; corrupt: Buffer } {
  const original = readFileSync(path);
  const corrupt = Buffer.from(original);
  for (let i = 1000; i < 1100; i++) corrupt[i] = corrupt[i]! ^ 0xff;
  writeFileSync(path, corrupt);
  return { original, corrupt };
}

/** Polls `check` until it returns an empty list or time runs out; returns the last list. */
async function eventuallyEmpty(check: () => string[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let found = check();
  while (found.length > 0 && Date.now() < deadline) {
    await sleep(250);
    found = check();
  }
  return found;
}

describe("proxy: bad input and bad bytes", () => {
  const teardown = new Teardown();
  let skopeo: Skopeo;
  let upstream: Distribution;
  let proxy: Proxy;
  let multiArch: MultiArchImage;
  let tampered: SingleLayerImage;
  let tamperedStreamed: SingleLayerImage;
  let big: SingleLayerImage;

  beforeAll(async () => {
    skopeo = new Skopeo(teardown);
    multiArch = await writeMultiArchImage(teardown.tempDir("multiarch"));
    tampered = await writeSingleLayerImage(teardown.tempDir("tampered"), "v1", [
      { name: "etc/" },
      { name: "etc/tampered-later", content: randomBytes(64 * 1024) },
    ]);
    // Past the size the proxy verifies before it serves: it streams, then must cut.
    tamperedStreamed = await writeSingleLayerImage(
      teardown.tempDir("tampered-streamed"),
      "v1",
      [{ name: "streamed.bin", content: randomBytes(STREAMED_LAYER_BYTES) }],
      0,
    );
    // Random bytes, stored uncompressed: a blob big enough to hang up in the middle of.
    big = await writeSingleLayerImage(
      teardown.tempDir("big"),
      "v1",
      [{ name: "big.bin", content: randomBytes(BIG_LAYER_BYTES) }],
      0,
    );
    upstream = await startDistribution(teardown);
    await skopeo.push(multiArch, upstream.host, "library/multiarch", { all: true });
    await skopeo.push(tampered, upstream.host, "library/tampered");
    await skopeo.push(tamperedStreamed, upstream.host, "library/tampered-streamed");
    await skopeo.push(big, upstream.host, "library/big");
    proxy = await startProxy({ upstream: upstream.url }, teardown);
  }, 300_000);
  afterAll(() => teardown.run());

  const v2 = (path: string): string => `${proxy.url}/v2/${path}`;
  const goodBlob = (): string => multiArch.blobDigests[0]!;

  // The distribution spec's error codes: NAME_INVALID/NAME_UNKNOWN for names,
  // MANIFEST_INVALID/MANIFEST_UNKNOWN for manifest references, DIGEST_INVALID
  // for digests (opencontainers/distribution-spec, spec.md "Error Codes").
  const NAME = [
    [400, "NAME_INVALID"],
    [404, "NAME_UNKNOWN"],
  ];
  const TAG = [
    [400, "MANIFEST_INVALID"],
    [404, "MANIFEST_UNKNOWN"],
  ];
  const DIGEST = [[400, "DIGEST_INVALID"]];

  it.each([
    ["an upper-case name", () => v2("library/MultiArch/manifests/v1"), NAME],
    ["a name with an empty component", () => v2("library//multiarch/manifests/v1"), NAME],
    ["a name starting with a separator", () => v2("-library/multiarch/manifests/v1"), NAME],
    ["a tag starting with a dash", () => v2("library/multiarch/manifests/-v1"), TAG],
    ["a tag of 129 characters", () => v2(`library/multiarch/manifests/${"t".repeat(129)}`), TAG],
    ["a blob digest that is not hex", () => v2("library/multiarch/blobs/sha256:xyz"), DIGEST],
    [
      "a blob digest one hex digit short",
      () => v2(`library/multiarch/blobs/${goodBlob().slice(0, -1)}`),
      DIGEST,
    ],
    ["a blob digest of no known algorithm", () => v2("library/multiarch/blobs/md5:abc"), DIGEST],
    [
      "a manifest digest that is not hex",
      () => v2("library/multiarch/manifests/sha256:zz"),
      DIGEST,
    ],
  ])("%s is answered with the OCI error for it", async (_what, url, allowed) => {
    const answer = await ociErrorAnswer(url());
    expect(allowed, `${answer.status} ${answer.body}`).toContainEqual([answer.status, answer.code]);
  });

  it("a blob that does not match its digest fails the pull with DIGEST_INVALID and is not cached", async () => {
    const digest = tampered.layer.digest;
    const path = upstream.blobDataPath(digest);
    const { original, corrupt } = corruptFile(path);

    const answer = await ociErrorAnswer(v2(`library/tampered/blobs/${digest}`));
    expect(answer.code, answer.body).toBe("DIGEST_INVALID");
    expect(answer.status).toBeGreaterThanOrEqual(400);

    // The code is read from the answer above: clients do not print it for a
    // failed blob GET (skopeo and podman print only the HTTP status, even for
    // a 400; containerd renders codes it does not know as "unknown").
    const pull = await skopeo.copy(
      `docker://${proxy.host}/library/tampered:v1`,
      `oci:${teardown.tempDir("tampered-pull")}:v1`,
    );
    expect(pull.status).not.toBe(0);
    expect(filesHolding(proxy.cacheDir, corrupt)).toEqual([]);
    expect(filesHoldingPartial(proxy.cacheDir, corrupt)).toEqual([]);

    // Repaired upstream: the proxy fetches again (nothing cached) and serves the right bytes.
    writeFileSync(path, original);
    const getsBefore = upstream.blobGets(digest);
    const res = await fetch(v2(`library/tampered/blobs/${digest}`));
    expect(res.status).toBe(200);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(digest);
    await sleep(300);
    expect(upstream.blobGets(digest)).toBe(getsBefore + 1);
  });

  it("a streamed blob that does not match its digest fails the pull and is not cached", async () => {
    const digest = tamperedStreamed.layer.digest;
    const { corrupt } = corruptFile(upstream.blobDataPath(digest));
    // Streamed: the status line is gone before the digest is known, so the
    // proxy can only cut the connection; the client must not get a whole body.
    const res = await fetch(v2(`library/tampered-streamed/blobs/${digest}`));
    const body = await res.arrayBuffer().then(
      (b) => Buffer.from(b),
      () => undefined,
    );
    if (body !== undefined) {
      expect(res.status, "a complete body of wrong bytes was served").toBeGreaterThanOrEqual(400);
    }
    const pull = await skopeo.copy(
      `docker://${proxy.host}/library/tampered-streamed:v1`,
      `oci:${teardown.tempDir("tampered-streamed-pull")}:v1`,
    );
    expect(pull.status).not.toBe(0);
    const leftovers = await eventuallyEmpty(
      () => [
        ...filesHolding(proxy.cacheDir, corrupt),
        ...filesHoldingPartial(proxy.cacheDir, corrupt),
      ],
      10_000,
    );
    expect(leftovers).toEqual([]);
  }, 120_000);

  it("a client that disconnects mid-blob leaves no partial cache entry", async () => {
    const digest = big.layer.digest;
    const blob = readFileSync(upstream.blobDataPath(digest));
    expect(blob.length).toBeGreaterThan(BIG_LAYER_BYTES);

    const received = await new Promise<number>((resolve, reject) => {
      let bytes = 0;
      const req = request(v2(`library/big/blobs/${digest}`), (res) => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
        res.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes >= 1024 * 1024) {
            req.destroy();
            resolve(bytes);
          }
        });
        res.on("end", () => reject(new Error(`got all ${bytes} bytes before hanging up`)));
      });
      req.on("error", (err) => (bytes >= 1024 * 1024 ? undefined : reject(err)));
      req.end();
    });
    expect(received).toBeLessThan(blob.length);

    // Finishing the download for the cache is allowed; leaving a part of it is not.
    const partial = await eventuallyEmpty(() => filesHoldingPartial(proxy.cacheDir, blob), 20_000);
    expect(partial).toEqual([]);

    const res = await fetch(v2(`library/big/blobs/${digest}`));
    expect(res.status).toBe(200);
    expect(Number(res.headers.get("content-length"))).toBe(blob.length);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(digest);
    expect(filesHoldingPartial(proxy.cacheDir, blob)).toEqual([]);
  }, 120_000);
});
