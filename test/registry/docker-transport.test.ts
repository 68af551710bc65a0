// The docker:// transport over a fake registry: an image and an index opened
// through openSource, and where registries are reached (https, http, Hub).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MediaType } from "../../src/oci/media-types.js";
import { openSource } from "../../src/oci/sources.js";
import { registryEndpoint } from "../../src/registry/endpoint.js";
import {
  makeImage,
  makeIndex,
  makeLayer,
  readAll,
  SAMPLE_ENTRIES,
  type BuiltImage,
} from "../oci/build-image.js";
import { FakeRegistry } from "./fake-registry.js";

let registry: FakeRegistry;
let amd64: BuiltImage;
let arm64: BuiltImage;

beforeEach(async () => {
  registry = await FakeRegistry.start();
  amd64 = makeImage([
    await makeLayer(SAMPLE_ENTRIES),
    await makeLayer([{ name: "x", content: "x" }]),
  ]);
  arm64 = makeImage([await makeLayer([{ name: "arm", content: "64" }])], {
    os: "linux",
    architecture: "arm64",
  });
  registry.putManifest("test/img", amd64.manifestBytes, MediaType.OciManifest, "v1");
  registry.putBlobs(amd64.blobs);
  const index = makeIndex([
    { image: arm64, platform: { os: "linux", architecture: "arm64" } },
    { image: amd64, platform: { os: "linux", architecture: "amd64" } },
  ]);
  registry.putManifest("test/multi", index.indexBytes, MediaType.OciIndex, "latest");
  for (const image of [amd64, arm64]) {
    registry.putManifest("test/multi", image.manifestBytes, MediaType.OciManifest);
    registry.putBlobs(image.blobs);
  }
});

afterEach(() => registry.close());

describe("docker:// transport", () => {
  it("opens an image: manifest, config and layers", async () => {
    const source = await openSource(`docker://${registry.host}/test/img:v1`);
    try {
      expect(source.reference).toEqual({
        transport: "docker",
        registry: registry.host,
        repository: "test/img",
        tag: "v1",
      });
      const image = await source.image();
      expect(image.digest.toString()).toBe(amd64.descriptor.digest);
      expect(await image.config()).toEqual(amd64.config);
      const layers = await image.layers();
      expect(layers.map((l) => l.digest.toString())).toEqual(
        amd64.layers.map((l) => l.descriptor.digest),
      );
      expect((await readAll(await layers[0]!.compressed())).equals(amd64.layers[0]!.blob)).toBe(
        true,
      );
      expect((await readAll(await layers[1]!.uncompressed())).equals(amd64.layers[1]!.tar)).toBe(
        true,
      );
    } finally {
      await source.close();
    }
  });

  it("opens an index by tag and picks linux/amd64; an image by digest", async () => {
    const source = await openSource(`docker://${registry.host}/test/multi`);
    try {
      const resolved = await source.resolve();
      expect(resolved.kind).toBe("index");
      const image = await source.image();
      expect(image.digest.toString()).toBe(amd64.descriptor.digest);
      expect((await image.config()).architecture).toBe("amd64");
      expect(await image.layers()).toHaveLength(2);
      const arm = await source.image({ os: "linux", architecture: "arm64" });
      expect((await arm.config()).architecture).toBe("arm64");
    } finally {
      await source.close();
    }
    // child manifests are fetched as manifests, never as blobs
    const manifestGets = registry.requests.filter((r) => r.url.includes("/manifests/"));
    expect(manifestGets.map((r) => r.url)).toEqual([
      "/v2/test/multi/manifests/latest",
      `/v2/test/multi/manifests/${amd64.descriptor.digest}`,
      `/v2/test/multi/manifests/${arm64.descriptor.digest}`,
    ]);

    const byDigest = await openSource(
      `docker://${registry.host}/test/multi@${arm64.descriptor.digest}`,
    );
    try {
      expect((await byDigest.image({ os: "linux", architecture: "arm64" })).digest.toString()).toBe(
        arm64.descriptor.digest,
      );
    } finally {
      await byDigest.close();
    }
  });

  it("fails with MANIFEST_UNKNOWN for a missing tag", async () => {
    const source = await openSource(`docker://${registry.host}/test/img:nope`);
    await expect(source.image()).rejects.toMatchObject({ code: "MANIFEST_UNKNOWN" });
    await source.close();
  });
});

describe("registryEndpoint", () => {
  it("uses https, http for loopback and listed insecure hosts, registry-1 for Docker Hub", () => {
    const env = { MEGALIFT_INSECURE_REGISTRIES: " reg.internal:5000 , plain.example " };
    expect(registryEndpoint("docker.io", env).baseUrl).toBe("https://registry-1.docker.io");
    expect(registryEndpoint("quay.io", env).baseUrl).toBe("https://quay.io");
    expect(registryEndpoint("localhost:5000", env).baseUrl).toBe("http://localhost:5000");
    expect(registryEndpoint("127.0.0.1:5000", env).baseUrl).toBe("http://127.0.0.1:5000");
    expect(registryEndpoint("[::1]:5000", env).baseUrl).toBe("http://[::1]:5000");
    expect(registryEndpoint("reg.internal:5000", env).baseUrl).toBe("http://reg.internal:5000");
    expect(registryEndpoint("reg.internal:6000", env).baseUrl).toBe("https://reg.internal:6000");
    expect(registryEndpoint("plain.example:8080", env).baseUrl).toBe("http://plain.example:8080");
    expect(registryEndpoint("reg.internal:5000", {}).baseUrl).toBe("https://reg.internal:5000");
  });
});
