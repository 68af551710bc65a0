// Route tests (app.request, no socket): /v2/, manifests, blobs, headers,
// Accept sets, 405 UNSUPPORTED, and the error codes for bad input.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MediaType } from "../../src/oci/media-types.js";
import { addImage, errorCode, makeHarness, type Harness } from "./harness.js";

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.cleanup();
});

describe("GET /v2/", () => {
  it("answers 200 with the API version header", async () => {
    const res = await h.request("/v2/");
    expect(res.status).toBe(200);
    expect(res.headers.get("Docker-Distribution-API-Version")).toBe("registry/2.0");
    expect(await res.json()).toEqual({});
  });
});

describe("manifests", () => {
  it("serves a manifest by tag with exact headers on GET and HEAD", async () => {
    const { manifest } = addImage(h.upstream, "team/app");
    for (const method of ["GET", "HEAD"]) {
      const res = await h.request("/v2/team/app/manifests/latest", { method });
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Type")).toBe(MediaType.OciManifest);
      expect(res.headers.get("Docker-Content-Digest")).toBe(manifest.digest.toString());
      expect(res.headers.get("Content-Length")).toBe(String(manifest.bytes.length));
      const body = new Uint8Array(await res.arrayBuffer());
      expect(body).toEqual(method === "GET" ? manifest.bytes : new Uint8Array());
    }
  });

  it("serves a manifest by digest", async () => {
    const { manifest } = addImage(h.upstream, "app");
    const res = await h.request(`/v2/app/manifests/${manifest.digest.toString()}`);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(manifest.bytes);
    expect(res.headers.get("Docker-Content-Digest")).toBe(manifest.digest.toString());
  });

  it("keeps Docker media types as Content-Type", async () => {
    const m = h.upstream.addManifest(
      "app",
      "docker",
      { schemaVersion: 2, manifests: [] },
      MediaType.DockerManifestList,
    );
    const res = await h.request("/v2/app/manifests/docker");
    expect(res.headers.get("Content-Type")).toBe(MediaType.DockerManifestList);
    expect(res.headers.get("Docker-Content-Digest")).toBe(m.digest.toString());
  });

  it("treats Accept as a set over repeated lines and comma lists, in any order", async () => {
    addImage(h.upstream, "app");
    const lines = [
      ["Accept", `${MediaType.DockerManifest}, ${MediaType.DockerManifestList}`],
      ["Accept", MediaType.OciIndex],
      ["Accept", `${MediaType.OciManifest};q=0.9`],
    ] as [string, string][];
    for (const order of [lines, [...lines].reverse()]) {
      const res = await h.request("/v2/app/manifests/latest", { headers: order });
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Type")).toBe(MediaType.OciManifest);
    }
  });

  it("answers 404 MANIFEST_UNKNOWN when Accept excludes the manifest's type, and anything without Accept", async () => {
    addImage(h.upstream, "app");
    const excluded = await h.request("/v2/app/manifests/latest", {
      headers: [
        ["Accept", MediaType.DockerManifest],
        ["Accept", MediaType.DockerManifestList],
      ],
    });
    expect(excluded.status).toBe(404);
    expect(await errorCode(excluded)).toBe("MANIFEST_UNKNOWN");
    const any = await h.request("/v2/app/manifests/latest");
    expect(any.status).toBe(200);
  });

  it("answers 404 MANIFEST_UNKNOWN for an unknown tag, as OCI error JSON", async () => {
    addImage(h.upstream, "app");
    const res = await h.request("/v2/app/manifests/nope");
    expect(res.status).toBe(404);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    const body = (await res.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]?.code).toBe("MANIFEST_UNKNOWN");
    expect(body.errors[0]?.message).toContain("nope");
  });
});

describe("blobs", () => {
  it("serves a blob with exact headers on GET and HEAD", async () => {
    const { layer, layerBytes } = addImage(h.upstream, "app");
    for (const method of ["GET", "HEAD", "GET"]) {
      const res = await h.request(`/v2/app/blobs/${layer.toString()}`, { method });
      expect(res.status).toBe(200);
      expect(res.headers.get("Docker-Content-Digest")).toBe(layer.toString());
      expect(res.headers.get("Content-Length")).toBe(String(layerBytes.length));
      expect(res.headers.get("Content-Type")).toBe("application/octet-stream");
      const body = new Uint8Array(await res.arrayBuffer());
      expect(body).toEqual(method === "GET" ? layerBytes : new Uint8Array());
    }
    expect(h.upstream.calls.getBlob).toBe(1);
  });

  it("answers 404 BLOB_UNKNOWN for a blob the upstream lacks", async () => {
    const res = await h.request(`/v2/app/blobs/sha256:${"0".repeat(64)}`);
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe("BLOB_UNKNOWN");
  });
});

describe("bad input", () => {
  it.each([
    ["/v2/UPPER/manifests/latest", 400, "NAME_INVALID"],
    ["/v2/a--/manifests/latest", 400, "NAME_INVALID"],
    ["/v2/library//app/manifests/latest", 400, "NAME_INVALID"],
    ["/v2/-a/blobs/sha256:" + "0".repeat(64), 400, "NAME_INVALID"],
    ["/v2/app/manifests/-bad", 400, "MANIFEST_INVALID"],
    ["/v2/app/manifests/" + "t".repeat(129), 400, "MANIFEST_INVALID"],
    ["/v2/app/manifests/sha256:abc", 400, "DIGEST_INVALID"],
    ["/v2/app/blobs/latest", 400, "DIGEST_INVALID"],
    ["/v2/app/blobs/md5:" + "0".repeat(32), 400, "DIGEST_INVALID"],
    ["/v2/app/referrers/nope", 400, "DIGEST_INVALID"],
  ])("%s → %i %s", async (path, status, code) => {
    const res = await h.request(path);
    expect(res.status).toBe(status);
    expect(await errorCode(res)).toBe(code);
  });

  it("answers unknown endpoints with 404 and OCI error JSON", async () => {
    const res = await h.request("/v2/app/whatever");
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe("NAME_UNKNOWN");
  });
});

describe("push and delete", () => {
  it.each([
    ["PUT", "/v2/app/manifests/latest"],
    ["DELETE", "/v2/app/manifests/latest"],
    ["DELETE", `/v2/app/blobs/sha256:${"0".repeat(64)}`],
    ["POST", "/v2/app/blobs/uploads/"],
    ["PATCH", "/v2/app/blobs/uploads/some-id"],
    ["PUT", "/v2/app/blobs/uploads/some-id?digest=sha256:0"],
    ["GET", "/v2/app/blobs/uploads/some-id"],
  ])("%s %s → 405 UNSUPPORTED", async (method, path) => {
    const res = await h.request(path, { method });
    expect(res.status).toBe(405);
    expect(await errorCode(res)).toBe("UNSUPPORTED");
  });
});

describe("health and metrics", () => {
  it("answers /healthz and counts requests in /metrics", async () => {
    const { layer } = addImage(h.upstream, "app");
    expect((await h.request("/healthz")).status).toBe(200);
    await (await h.request(`/v2/app/blobs/${layer.toString()}`)).arrayBuffer();
    await (await h.request(`/v2/app/blobs/${layer.toString()}`)).arrayBuffer();
    const res = await h.request("/metrics");
    expect(res.headers.get("Content-Type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toContain(
      'megalift_proxy_requests_total{method="GET",route="blob",status="200"} 2',
    );
    expect(text).toContain('megalift_proxy_cache_hits_total{kind="blob"} 1');
    expect(text).toContain('megalift_proxy_cache_misses_total{kind="blob"} 1');
    expect(text).toContain('megalift_proxy_upstream_fetches_total{kind="blob"} 1');
    expect(text).toMatch(/megalift_proxy_cache_size_bytes \d+/);
    expect(text).toContain("megalift_proxy_inflight_downloads 0");
    expect(text).toContain("megalift_proxy_bytes_served_total");
  });

  it("logs one structured line per request with cache hit or miss", async () => {
    const { layer, layerBytes } = addImage(h.upstream, "app");
    await (await h.request(`/v2/app/blobs/${layer.toString()}`)).arrayBuffer();
    await (await h.request(`/v2/app/blobs/${layer.toString()}`)).arrayBuffer();
    const lines = h.logs.filter((l) => l.msg === "request");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      method: "GET",
      status: 200,
      bytes: layerBytes.length,
      cache: "miss",
    });
    expect(lines[1]).toMatchObject({ cache: "hit" });
    expect(typeof lines[0]?.["upstreamMs"]).toBe("number");
    expect(typeof lines[0]?.["durationMs"]).toBe("number");
  });
});
