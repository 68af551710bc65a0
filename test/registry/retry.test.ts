// Retries: 5xx and broken connections are retried with backoff, then
// UPSTREAM_UNAVAILABLE naming the registry; 429 waits for Retry-After, then
// TOO_MANY_REQUESTS. Waits go through a fake clock: no wall-clock assertions.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MediaType } from "../../src/oci/media-types.js";
import { createRegistryClient } from "../../src/registry/client.js";
import type { RegistryClient } from "../../src/registry/types.js";
import { FakeClock, FakeRegistry, FAST_RETRY, startServer } from "./fake-registry.js";

const MANIFEST = Buffer.from(
  JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] }),
);

let registry: FakeRegistry;
let clock: FakeClock;
let client: RegistryClient;

beforeEach(async () => {
  registry = await FakeRegistry.start();
  registry.putManifest("lib/app", MANIFEST, MediaType.OciIndex, "v1");
  clock = new FakeClock();
  client = createRegistryClient({
    endpoint: { host: registry.host, baseUrl: registry.server.baseUrl },
    retry: FAST_RETRY,
    clock,
  });
});

afterEach(() => registry.close());

/** Fails the first `times` requests with `fail`, then lets the router answer. */
function failFirst(times: number, fail: (res: import("node:http").ServerResponse) => void): void {
  let count = 0;
  registry.intercept = (_req, res) => {
    if (count >= times) return false;
    count++;
    fail(res);
    return true;
  };
}

describe("retries", () => {
  it("retries 500 and 503 with backoff, then succeeds", async () => {
    failFirst(2, (res) => {
      res.writeHead(registry.requests.length === 1 ? 500 : 503);
      res.end("oops");
    });
    const manifest = await client.getManifest("lib/app", "v1");
    expect(Buffer.from(manifest.bytes)).toEqual(MANIFEST);
    expect(registry.requests).toHaveLength(3);
    expect(clock.sleeps).toHaveLength(2);
  });

  it("retries a connection reset, then succeeds", async () => {
    failFirst(2, (res) => res.socket?.destroy());
    await client.getManifest("lib/app", "v1");
    expect(registry.requests).toHaveLength(3);
  });

  it("retries a manifest body cut short", async () => {
    failFirst(1, (res) => {
      res.writeHead(200, { "content-length": MANIFEST.length, "content-type": MediaType.OciIndex });
      res.write(MANIFEST.subarray(0, 10), () => res.socket?.destroy());
    });
    const manifest = await client.getManifest("lib/app", "v1");
    expect(Buffer.from(manifest.bytes)).toEqual(MANIFEST);
  });

  it("gives up after the attempts with UPSTREAM_UNAVAILABLE naming the registry", async () => {
    failFirst(100, (res) => {
      res.writeHead(502);
      res.end();
    });
    await expect(client.getManifest("lib/app", "v1")).rejects.toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
      message: `manifest ${registry.host}/lib/app:v1: registry ${registry.host} kept failing with HTTP 502 (4 attempts)`,
    });
    expect(registry.requests).toHaveLength(FAST_RETRY.attempts);
  });

  it("gives up on a registry that refuses connections", async () => {
    const closed = await startServer(() => undefined);
    await closed.close();
    const c = createRegistryClient({
      endpoint: { host: closed.host, baseUrl: closed.baseUrl },
      retry: FAST_RETRY,
      clock,
    });
    await expect(c.ping()).rejects.toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
      message: expect.stringMatching(
        new RegExp(`registry ${closed.host} unreachable after 4 attempts: .*ECONNREFUSED`),
      ),
    });
    expect(clock.sleeps).toHaveLength(3);
  });

  it("does not retry a 4xx", async () => {
    failFirst(1, (res) => {
      res.writeHead(400);
      res.end();
    });
    await expect(client.getManifest("lib/app", "v1")).rejects.toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
      message: expect.stringContaining("unexpected HTTP 400"),
    });
    expect(registry.requests).toHaveLength(1);
  });
});

describe("aborts", () => {
  it("are never retried nor turned into UPSTREAM_UNAVAILABLE", async () => {
    registry.intercept = () => true; // never answers
    const controller = new AbortController();
    const pending = client.getManifest("lib/app", "v1", { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const err: unknown = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toMatch(/Abort/);
    expect(registry.requests).toHaveLength(1);
  });
});

describe("429 Too Many Requests", () => {
  it("waits for Retry-After in seconds and as an HTTP-date, then succeeds", async () => {
    failFirst(2, (res) => {
      const date = new Date(clock.now() + 2000).toUTCString();
      res.writeHead(429, { "retry-after": registry.requests.length === 1 ? "1" : date });
      res.end();
    });
    await client.getManifest("lib/app", "v1");
    expect(registry.requests).toHaveLength(3);
    expect(clock.sleeps[0]).toBe(1000);
    // an HTTP-date has one-second resolution
    expect(clock.sleeps[1]).toBeGreaterThan(1000);
    expect(clock.sleeps[1]).toBeLessThanOrEqual(2000);
  });

  it("fails with TOO_MANY_REQUESTS when 429 keeps coming", async () => {
    failFirst(100, (res) => {
      res.writeHead(429, { "retry-after": "0" });
      res.end();
    });
    await expect(client.getManifest("lib/app", "v1")).rejects.toMatchObject({
      code: "TOO_MANY_REQUESTS",
      message: expect.stringContaining(`registry ${registry.host} kept answering 429`),
    });
    expect(registry.requests).toHaveLength(FAST_RETRY.attempts);
  });

  it("does not wait for a Retry-After longer than the policy allows", async () => {
    failFirst(100, (res) => {
      res.writeHead(429, { "retry-after": "3600" });
      res.end();
    });
    await expect(client.getManifest("lib/app", "v1")).rejects.toMatchObject({
      code: "TOO_MANY_REQUESTS",
    });
    expect(registry.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });
});
