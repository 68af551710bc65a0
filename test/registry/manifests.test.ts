// Manifests: the full Accept set on every request, digest verification by
// digest and by Docker-Content-Digest, HEAD, 404 codes from OCI error JSON.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Digest } from "../../src/oci/digest.js";
import { MANIFEST_ACCEPT, MediaType } from "../../src/oci/media-types.js";
import { createRegistryClient } from "../../src/registry/client.js";
import type { RegistryClient } from "../../src/registry/types.js";
import { makeImage, makeIndex, makeLayer, SAMPLE_ENTRIES } from "../oci/build-image.js";
import { FakeRegistry, sendError } from "./fake-registry.js";

let registry: FakeRegistry;
let client: RegistryClient;
let manifestBytes: Buffer;
let manifestDigest: Digest;

beforeEach(async () => {
  registry = await FakeRegistry.start();
  client = createRegistryClient({
    endpoint: { host: registry.host, baseUrl: registry.server.baseUrl },
    retry: { attempts: 1 },
  });
  const image = makeImage([await makeLayer(SAMPLE_ENTRIES)]);
  manifestBytes = image.manifestBytes;
  manifestDigest = registry.putManifest("lib/app", manifestBytes, MediaType.OciManifest, "v1");
});

afterEach(() => registry.close());

describe("getManifest", () => {
  it("sends every manifest media type as its own Accept value", async () => {
    await client.getManifest("lib/app", "v1");
    await client.headManifest("lib/app", "v1");
    for (const request of registry.requests) {
      expect(request.distinct.accept).toEqual([...MANIFEST_ACCEPT]);
    }
  });

  it("returns the bytes, media type and digest, by tag and by digest", async () => {
    const byTag = await client.getManifest("lib/app", "v1");
    expect(Buffer.from(byTag.bytes)).toEqual(manifestBytes);
    expect(byTag.mediaType).toBe(MediaType.OciManifest);
    expect(byTag.digest.equals(manifestDigest)).toBe(true);
    const byDigest = await client.getManifest("lib/app", manifestDigest.toString());
    expect(byDigest.digest.equals(manifestDigest)).toBe(true);
    registry.sendDigestHeader = false;
    expect((await client.getManifest("lib/app", "v1")).digest.equals(manifestDigest)).toBe(true);
  });

  it("takes the media type of an index from its own mediaType field", async () => {
    const index = makeIndex([{ image: makeImage([await makeLayer(SAMPLE_ENTRIES)]) }]);
    registry.putManifest("lib/multi", index.indexBytes, "application/json; charset=utf-8", "v1");
    expect((await client.getManifest("lib/multi", "v1")).mediaType).toBe(MediaType.OciIndex);
  });

  it("fails with DIGEST_MISMATCH when bytes pulled by digest do not hash to it", async () => {
    const other = Digest.of("something else");
    registry.manifests.set(`lib/app@${other.toString()}`, {
      bytes: manifestBytes,
      mediaType: MediaType.OciManifest,
    });
    await expect(client.getManifest("lib/app", other.toString())).rejects.toMatchObject({
      code: "DIGEST_MISMATCH",
      message: expect.stringContaining(`manifest ${registry.host}/lib/app@${other.toString()}`),
    });
  });

  it("fails with DIGEST_MISMATCH when a tag's bytes do not match Docker-Content-Digest", async () => {
    registry.intercept = (req, res) => {
      if (!req.url?.includes("/manifests/")) return false;
      res.writeHead(200, {
        "content-type": MediaType.OciManifest,
        "docker-content-digest": manifestDigest.toString(),
      });
      res.end(Buffer.concat([manifestBytes, Buffer.from(" ")]));
      return true;
    };
    await expect(client.getManifest("lib/app", "v1")).rejects.toMatchObject({
      code: "DIGEST_MISMATCH",
    });
  });

  it("maps 404 to MANIFEST_UNKNOWN, or to the registry's own code", async () => {
    await expect(client.getManifest("lib/app", "v2")).rejects.toMatchObject({
      code: "MANIFEST_UNKNOWN",
      message: `manifest ${registry.host}/lib/app:v2: not found on registry ${registry.host} (MANIFEST_UNKNOWN: manifest unknown)`,
    });
    registry.intercept = (_req, res) => {
      sendError(res, 404, "NAME_UNKNOWN", "repository name not known to registry");
      return true;
    };
    await expect(client.getManifest("lib/nope", "v1")).rejects.toMatchObject({
      code: "NAME_UNKNOWN",
    });
    registry.intercept = (_req, res) => {
      res.writeHead(404);
      res.end("not json");
      return true;
    };
    await expect(client.getManifest("lib/nope", "v1")).rejects.toMatchObject({
      code: "MANIFEST_UNKNOWN",
    });
  });

  it("refuses bad names and tags before asking the registry", async () => {
    await expect(client.getManifest("Lib/App", "v1")).rejects.toMatchObject({
      code: "NAME_INVALID",
    });
    await expect(client.getManifest("lib/app", "../../x")).rejects.toMatchObject({
      code: "TAG_INVALID",
    });
    expect(registry.requests).toHaveLength(0);
  });
});

describe("headManifest", () => {
  it("returns digest, size and media type from the headers", async () => {
    const head = await client.headManifest("lib/app", "v1");
    expect(head).toMatchObject({ mediaType: MediaType.OciManifest, size: manifestBytes.length });
    expect(head.digest.equals(manifestDigest)).toBe(true);
    expect(registry.requests.map((r) => r.method)).toEqual(["HEAD"]);
  });

  it("falls back to a GET when the HEAD says too little", async () => {
    registry.sendDigestHeader = false;
    const head = await client.headManifest("lib/app", "v1");
    expect(head.digest.equals(manifestDigest)).toBe(true);
    expect(registry.requests.map((r) => r.method)).toEqual(["HEAD", "GET"]);
  });

  it("maps a bare 404 to MANIFEST_UNKNOWN", async () => {
    await expect(client.headManifest("lib/app", "nope")).rejects.toMatchObject({
      code: "MANIFEST_UNKNOWN",
    });
  });
});
