// JSON Schemas in schemas/oci/ and the parse functions over them: real-world
// shaped documents pass; broken ones fail with one clear line.
import { describe, expect, it } from "vitest";
import { Digest } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/media-types.js";
import {
  parseConfigBytes,
  parseLayoutFileBytes,
  parseManifestBytes,
  validateDocument,
} from "../../src/oci/schema.js";

const d = (s: string): string => Digest.of(s).toString();
const bytes = (doc: unknown): Buffer => Buffer.from(JSON.stringify(doc));

// Shaped like the OCI manifest of a real single-layer image (e.g. alpine from a registry).
const ociManifest = {
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  config: { mediaType: MediaType.OciConfig, digest: d("config"), size: 581 },
  layers: [
    { mediaType: MediaType.OciLayerGzip, digest: d("layer"), size: 3_623_807 },
    {
      mediaType: MediaType.OciLayerZstd,
      digest: d("layer2"),
      size: 12,
      annotations: { "org.opencontainers.image.title": "x" },
      urls: ["https://example.com/blob"],
    },
  ],
  annotations: { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" },
};

// Shaped like a buildkit multi-platform index with an attestation manifest.
const ociIndex = {
  schemaVersion: 2,
  mediaType: MediaType.OciIndex,
  manifests: [
    {
      mediaType: MediaType.OciManifest,
      digest: d("amd64"),
      size: 1234,
      platform: { architecture: "amd64", os: "linux" },
    },
    {
      mediaType: MediaType.OciManifest,
      digest: d("arm"),
      size: 1234,
      platform: { architecture: "arm", os: "linux", variant: "v7" },
    },
    {
      mediaType: MediaType.OciManifest,
      digest: d("att"),
      size: 840,
      platform: { architecture: "unknown", os: "unknown" },
      annotations: { "vnd.docker.reference.type": "attestation-manifest" },
    },
  ],
};

const dockerManifest = {
  schemaVersion: 2,
  mediaType: MediaType.DockerManifest,
  config: { mediaType: MediaType.DockerConfig, size: 1469, digest: d("dconfig") },
  layers: [{ mediaType: MediaType.DockerLayerGzip, size: 2_814_446, digest: d("dlayer") }],
};

const dockerList = {
  schemaVersion: 2,
  mediaType: MediaType.DockerManifestList,
  manifests: [
    {
      mediaType: MediaType.DockerManifest,
      size: 528,
      digest: d("a"),
      platform: { architecture: "amd64", os: "linux" },
    },
    {
      mediaType: MediaType.DockerManifest,
      size: 528,
      digest: d("b"),
      platform: { architecture: "arm64", os: "linux", variant: "v8" },
    },
  ],
};

// Shaped like the image JSON `docker build` writes, nulls included.
const dockerConfig = {
  architecture: "amd64",
  os: "linux",
  created: "2023-08-07T19:20:20.894140623Z",
  docker_version: "20.10.23",
  config: {
    Hostname: "",
    User: "",
    Env: null,
    Cmd: ["/bin/sh"],
    Entrypoint: null,
    Labels: null,
    Volumes: null,
    WorkingDir: "",
  },
  rootfs: { type: "layers", diff_ids: [d("diff")] },
  history: [
    {
      created: "2023-08-07T19:20:20.71894984Z",
      created_by: "/bin/sh -c #(nop) ADD file:abc in / ",
    },
    { created: "2023-08-07T19:20:20.894140623Z", created_by: "CMD", empty_layer: true },
  ],
};

describe("manifest schemas accept real-world documents", () => {
  it("parses an OCI image manifest", () => {
    const parsed = parseManifestBytes(bytes(ociManifest));
    expect(parsed.kind).toBe("image");
    expect(parsed.mediaType).toBe(MediaType.OciManifest);
    if (parsed.kind === "image") expect(parsed.manifest.layers).toHaveLength(2);
  });

  it("parses an OCI index, a Docker manifest and a Docker manifest list", () => {
    expect(parseManifestBytes(bytes(ociIndex)).kind).toBe("index");
    expect(parseManifestBytes(bytes(dockerManifest)).kind).toBe("image");
    const list = parseManifestBytes(bytes(dockerList), MediaType.DockerManifestList);
    expect(list.kind === "index" && list.index.manifests.length).toBe(2);
  });

  it("infers the media type of documents without one (older OCI writers)", () => {
    const { mediaType: _m, ...bare } = ociManifest;
    expect(parseManifestBytes(bytes(bare)).mediaType).toBe(MediaType.OciManifest);
    const { mediaType: _i, ...bareIndex } = ociIndex;
    expect(parseManifestBytes(bytes(bareIndex)).mediaType).toBe(MediaType.OciIndex);
    expect(parseManifestBytes(bytes(bareIndex), MediaType.OciIndex).kind).toBe("index");
  });

  it("accepts artifact fields: artifactType, subject, empty layers, embedded data", () => {
    const artifact = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType: "application/vnd.example.sbom+json",
      config: { mediaType: MediaType.OciEmpty, digest: d("{}"), size: 2, data: "e30=" },
      layers: [],
      subject: { mediaType: MediaType.OciManifest, digest: d("subject"), size: 10 },
    };
    expect(parseManifestBytes(bytes(artifact)).kind).toBe("image");
  });
});

describe("manifest schemas reject broken documents", () => {
  const invalid = (doc: unknown, expectedType?: string): unknown => {
    try {
      parseManifestBytes(bytes(doc), expectedType, "manifest M");
    } catch (err) {
      return err;
    }
    throw new Error("expected a failure");
  };

  it("names the bad digest and the document", () => {
    const doc = { ...ociManifest, layers: [{ ...ociManifest.layers[0], digest: "sha256:nothex" }] };
    const err = invalid(doc);
    expect(err).toMatchObject({ code: "MANIFEST_INVALID" });
    expect(String(err)).toContain("manifest M");
    expect(String(err)).toContain("/layers/0/digest");
    expect(String(err)).toContain("not a digest");
    expect(String(err).split("\n")).toHaveLength(1);
  });

  it.each([
    [
      "negative size",
      { ...ociManifest, config: { ...ociManifest.config, size: -1 } },
      "/config/size",
    ],
    [
      "fractional size",
      { ...ociManifest, config: { ...ociManifest.config, size: 1.5 } },
      "/config/size",
    ],
    [
      "missing config",
      { schemaVersion: 2, mediaType: MediaType.OciManifest, layers: [] },
      "config",
    ],
    ["schemaVersion 1", { ...ociManifest, schemaVersion: 1 }, "/schemaVersion"],
    [
      "bad media type string",
      { ...ociManifest, layers: [{ ...ociManifest.layers[0], mediaType: "not a media type" }] },
      "/layers/0/mediaType",
    ],
    [
      "annotation that is not a string",
      { ...ociManifest, annotations: { a: 1 } },
      "/annotations/a",
    ],
    [
      "sha256 digest with 63 hex digits",
      { ...ociManifest, config: { ...ociManifest.config, digest: `sha256:${"a".repeat(63)}` } },
      "/config/digest",
    ],
  ])("rejects an OCI manifest with %s", (_label, doc, path) => {
    const err = invalid(doc);
    expect(err).toMatchObject({ code: "MANIFEST_INVALID" });
    expect(String(err)).toContain(path);
  });

  it("rejects an index entry without a digest and a Docker list entry without a platform", () => {
    const noDigest = { ...ociIndex, manifests: [{ mediaType: MediaType.OciManifest, size: 1 }] };
    expect(String(invalid(noDigest))).toContain('"digest"');
    const noPlatform = {
      ...dockerList,
      manifests: [{ ...dockerList.manifests[0], platform: undefined }],
    };
    expect(String(invalid(noPlatform))).toContain('"platform"');
  });

  it("rejects a Docker manifest whose config is not a Docker config", () => {
    const doc = {
      ...dockerManifest,
      config: { ...dockerManifest.config, mediaType: MediaType.OciConfig },
    };
    expect(String(invalid(doc))).toContain("/config/mediaType");
  });

  it("rejects bytes that are not JSON or not an object", () => {
    expect(invalid("{")).toMatchObject({ code: "MANIFEST_INVALID" });
    expect(() => parseManifestBytes(Buffer.from("{"))).toThrow(/not valid JSON/);
    expect(() => parseManifestBytes(Buffer.from("[1]"))).toThrow(/not a JSON object/);
  });

  it("rejects a document whose media type contradicts its descriptor", () => {
    expect(invalid(ociManifest, MediaType.DockerManifest)).toMatchObject({
      code: "MANIFEST_INVALID",
    });
  });

  it("reports unknown manifest media types as MEDIA_TYPE_UNKNOWN", () => {
    const schema1 = {
      schemaVersion: 1,
      mediaType: "application/vnd.docker.distribution.manifest.v1+prettyjws",
    };
    expect(invalid(schema1)).toMatchObject({ code: "MEDIA_TYPE_UNKNOWN" });
    expect(invalid({ schemaVersion: 2 }, "application/vnd.example+json")).toMatchObject({
      code: "MEDIA_TYPE_UNKNOWN",
    });
  });
});

describe("image config schema", () => {
  it("parses a Docker config and drops the nulls ImageConfig does not allow", () => {
    const config = parseConfigBytes(bytes(dockerConfig));
    expect(config.rootfs.diff_ids).toEqual([d("diff")]);
    expect(config.config?.Cmd).toEqual(["/bin/sh"]);
    expect(config.config && "Env" in config.config).toBe(false);
    expect(config.config?.Entrypoint).toBeNull();
  });

  it.each([
    ["no architecture", { ...dockerConfig, architecture: undefined }, '"architecture"'],
    [
      "a bad diff_id",
      { ...dockerConfig, rootfs: { type: "layers", diff_ids: ["sha256:x"] } },
      "/rootfs/diff_ids/0",
    ],
    [
      "a wrong rootfs type",
      { ...dockerConfig, rootfs: { type: "tar", diff_ids: [] } },
      "/rootfs/type",
    ],
    ["a bad created time", { ...dockerConfig, created: "yesterday" }, "/created"],
    ["Env that is not strings", { ...dockerConfig, config: { Env: [1] } }, "/config/Env/0"],
  ])("rejects a config with %s", (_label, doc, path) => {
    expect(() => parseConfigBytes(bytes(doc), "config C")).toThrow(
      expect.objectContaining({ code: "MANIFEST_INVALID", message: expect.stringContaining(path) }),
    );
  });
});

describe("descriptor and oci-layout schemas", () => {
  it("validates descriptors alone", () => {
    expect(() => validateDocument("descriptor", ociManifest.config, "d")).not.toThrow();
    expect(() =>
      validateDocument("descriptor", { ...ociManifest.config, data: "not base64!" }, "d"),
    ).toThrow(/\/data/);
    expect(() =>
      validateDocument("descriptor", { ...ociManifest.config, platform: { os: "linux" } }, "d"),
    ).toThrow(/architecture/);
  });

  it("reads oci-layout files of version 1.x only", () => {
    expect(parseLayoutFileBytes(bytes({ imageLayoutVersion: "1.0.0" })).imageLayoutVersion).toBe(
      "1.0.0",
    );
    expect(() => parseLayoutFileBytes(bytes({}))).toThrow(/imageLayoutVersion/);
    expect(() => parseLayoutFileBytes(bytes({ imageLayoutVersion: "2.0.0" }))).toThrow(
      /version 1.x/,
    );
    expect(() => parseLayoutFileBytes(bytes({ imageLayoutVersion: "one" }))).toThrow(
      expect.objectContaining({ code: "MANIFEST_INVALID" }),
    );
  });
});
