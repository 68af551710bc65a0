// Blobs: verified streams, resuming with Range after a broken connection,
// Range requests (206, or 200 from a registry that ignores Range), redirects
// to storage without the Authorization header.
import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Digest } from "../../src/oci/digest.js";
import { createRegistryClient } from "../../src/registry/client.js";
import type { RegistryClient } from "../../src/registry/types.js";
import { FakeRegistry, FAST_RETRY, startServer, type FakeServer } from "./fake-registry.js";

const BLOB = randomBytes(300_000);
const DIGEST = Digest.of(BLOB);
const BLOB_PATH = `/v2/lib/app/blobs/${DIGEST.toString()}`;

let registry: FakeRegistry;
let storage: FakeServer | undefined;
let client: RegistryClient;

beforeEach(async () => {
  registry = await FakeRegistry.start();
  registry.putBlobs(new Map([[DIGEST.toString(), BLOB]]));
  client = createRegistryClient({
    endpoint: { host: registry.host, baseUrl: registry.server.baseUrl },
    retry: FAST_RETRY,
  });
});

afterEach(async () => {
  await registry.close();
  await storage?.close();
  storage = undefined;
});

interface Consumed {
  bytes: Buffer;
  error?: { code?: string; message: string };
  ended: boolean;
}

/** Reads a stream to its end or its error, noting whether 'end' was ever emitted. */
function consume(stream: Readable): Promise<Consumed> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let ended = false;
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      ended = true;
      resolve({ bytes: Buffer.concat(chunks), ended });
    });
    stream.on("error", (err: Error & { code?: string }) =>
      resolve({ bytes: Buffer.concat(chunks), error: err, ended }),
    );
  });
}

/** Makes the first `cuts` blob GETs send headers and `sent` bytes, then drop the connection. */
function cutConnections(cuts: number, sent: (start: number) => number): void {
  let count = 0;
  registry.intercept = (req, res) => {
    if (req.url !== BLOB_PATH || count >= cuts) return false;
    count++;
    const start = Number(/bytes=([0-9]+)-/.exec(req.headers.range ?? "")?.[1] ?? 0);
    const body = BLOB.subarray(start);
    res.writeHead(start > 0 ? 206 : 200, {
      "content-length": body.length,
      ...(start > 0 ? { "content-range": `bytes ${start}-${BLOB.length - 1}/${BLOB.length}` } : {}),
    });
    res.write(body.subarray(0, sent(start)), () => res.socket?.destroy());
    return true;
  };
}

function blobGets(): { range: string | undefined }[] {
  return registry.requests
    .filter((r) => r.url === BLOB_PATH && r.method === "GET")
    .map((r) => ({ range: r.headers.range }));
}

describe("getBlob", () => {
  it("streams the blob with its size", async () => {
    const blob = await client.getBlob("lib/app", DIGEST);
    expect(blob).toMatchObject({ size: BLOB.length, offset: 0 });
    const result = await consume(blob.stream);
    expect(result.error).toBeUndefined();
    expect(result.bytes.equals(BLOB)).toBe(true);
  });

  it("errors with DIGEST_MISMATCH at the end, before 'end', when a byte is wrong", async () => {
    const bad = Buffer.from(BLOB);
    bad[12345] = (bad[12345] ?? 0) ^ 1;
    registry.blobs.set(DIGEST.toString(), bad);
    const result = await consume((await client.getBlob("lib/app", DIGEST)).stream);
    expect(result.error).toMatchObject({
      code: "DIGEST_MISMATCH",
      message: expect.stringContaining(`blob ${registry.host}/lib/app@${DIGEST.toString()}`),
    });
    expect(result.ended).toBe(false);
  });

  it("resumes with Range after the connection breaks mid-body, and verifies the whole", async () => {
    cutConnections(2, (start) => (start === 0 ? 100_000 : 50_000));
    const result = await consume((await client.getBlob("lib/app", DIGEST)).stream);
    expect(result.error).toBeUndefined();
    expect(result.bytes.equals(BLOB)).toBe(true);
    // Each resume asks for the bytes from where the last connection broke
    // (all that was sent, unless the kernel lost some of it when the socket was cut).
    const starts = blobGets().map((g) => Number(/^bytes=([0-9]+)-$/.exec(g.range ?? "")?.[1] ?? 0));
    expect(starts).toHaveLength(3);
    expect(starts[0]).toBe(0);
    expect(starts[1]).toBeGreaterThan(0);
    expect(starts[1]).toBeLessThanOrEqual(100_000);
    expect(starts[2]).toBeGreaterThan(starts[1] ?? 0);
  });

  it("resumes from a registry that ignores Range by skipping what it already has", async () => {
    registry.honourRange = false;
    cutConnections(1, () => 120_000);
    const result = await consume((await client.getBlob("lib/app", DIGEST)).stream);
    expect(result.error).toBeUndefined();
    expect(result.bytes.equals(BLOB)).toBe(true);
    const ranges = blobGets().map((g) => g.range);
    expect(ranges).toHaveLength(2);
    expect(ranges[0]).toBeUndefined();
    expect(ranges[1]).toMatch(/^bytes=[1-9][0-9]*-$/);
  });

  it("still catches wrong bytes that arrive after a resume", async () => {
    cutConnections(1, () => 100_000);
    const bad = Buffer.from(BLOB);
    bad[200_000] = (bad[200_000] ?? 0) ^ 1;
    registry.blobs.set(DIGEST.toString(), bad);
    const result = await consume((await client.getBlob("lib/app", DIGEST)).stream);
    expect(result.error).toMatchObject({ code: "DIGEST_MISMATCH" });
    expect(result.ended).toBe(false);
  });

  it("gives up with UPSTREAM_UNAVAILABLE when resuming makes no progress", async () => {
    cutConnections(100, () => 0);
    const result = await consume((await client.getBlob("lib/app", DIGEST)).stream);
    expect(result.error).toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
      message: expect.stringContaining("broke at byte 0 of 300000"),
    });
    expect(result.ended).toBe(false);
  });

  it("asks for a Range from an offset and reads offset and size from Content-Range (206)", async () => {
    const blob = await client.getBlob("lib/app", DIGEST, { offset: 1000 });
    expect(blob).toMatchObject({ offset: 1000, size: BLOB.length });
    const result = await consume(blob.stream);
    expect(result.error).toBeUndefined();
    expect(result.bytes.equals(BLOB.subarray(1000))).toBe(true);
    expect(blobGets()).toEqual([{ range: "bytes=1000-" }]);
  });

  it("skips to the offset itself, verifying everything, when the registry answers 200", async () => {
    registry.honourRange = false;
    const blob = await client.getBlob("lib/app", DIGEST, { offset: 1000 });
    expect(blob).toMatchObject({ offset: 1000, size: BLOB.length });
    const result = await consume(blob.stream);
    expect(result.error).toBeUndefined();
    expect(result.bytes.equals(BLOB.subarray(1000))).toBe(true);

    const bad = Buffer.from(BLOB);
    bad[10] = (bad[10] ?? 0) ^ 1; // before the offset, but part of the blob
    registry.blobs.set(DIGEST.toString(), bad);
    const broken = await consume(
      (await client.getBlob("lib/app", DIGEST, { offset: 1000 })).stream,
    );
    expect(broken.error).toMatchObject({ code: "DIGEST_MISMATCH" });
  });

  it("maps an offset past the end to RANGE_NOT_SATISFIABLE and a 404 to BLOB_UNKNOWN", async () => {
    await expect(
      client.getBlob("lib/app", DIGEST, { offset: BLOB.length + 5 }),
    ).rejects.toMatchObject({ code: "RANGE_NOT_SATISFIABLE" });
    const missing = Digest.of("missing");
    await expect(client.getBlob("lib/app", missing)).rejects.toMatchObject({
      code: "BLOB_UNKNOWN",
      message: `blob ${registry.host}/lib/app@${missing.toString()}: not found on registry ${registry.host} (BLOB_UNKNOWN: blob unknown)`,
    });
  });

  it("follows a redirect to another host without sending it the Authorization header", async () => {
    const auth = `Basic ${Buffer.from("u:p").toString("base64")}`;
    storage = await startServer((_req, res) => {
      res.writeHead(200, { "content-length": BLOB.length });
      res.end(BLOB);
    });
    const storageUrl = `${storage.baseUrl}/bucket/blob?sig=abc`;
    registry.intercept = (req, res) => {
      if (req.headers.authorization !== auth) {
        res.writeHead(401, { "www-authenticate": 'Basic realm="r"' });
        res.end();
        return true;
      }
      if (req.url === BLOB_PATH) {
        // first to the same origin (keeps auth), then to storage (must not)
        res.writeHead(307, { location: `${BLOB_PATH}?hop=1` });
        res.end();
        return true;
      }
      if (req.url === `${BLOB_PATH}?hop=1`) {
        res.writeHead(307, { location: storageUrl });
        res.end();
        return true;
      }
      return false;
    };
    const authed = createRegistryClient({
      endpoint: { host: registry.host, baseUrl: registry.server.baseUrl },
      credentials: async () => ({ username: "u", password: "p" }),
      retry: FAST_RETRY,
    });
    const result = await consume((await authed.getBlob("lib/app", DIGEST)).stream);
    expect(result.error).toBeUndefined();
    expect(result.bytes.equals(BLOB)).toBe(true);
    expect(registry.requests.at(-1)).toMatchObject({ url: `${BLOB_PATH}?hop=1` });
    expect(registry.requests.at(-1)?.headers.authorization).toBe(auth);
    expect(storage.requests).toHaveLength(1);
    expect(storage.requests[0]?.url).toBe("/bucket/blob?sig=abc");
    expect(storage.requests[0]?.headers.authorization).toBeUndefined();
  });
});
