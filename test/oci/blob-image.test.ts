// Blob-backed images and indexes over an in-memory BlobReader: verification
// of manifests and configs, layer construction, and index children.
import { describe, expect, it } from "vitest";
import { loadImageOrIndex } from "../../src/oci/blob-image.js";
import { Digest } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/media-types.js";
import {
  descriptorOf,
  makeImage,
  makeIndex,
  makeLayer,
  memoryBlobReader,
  readAll,
  SAMPLE_ENTRIES,
  type BlobMap,
} from "./build-image.js";

/** Stores a manifest built from `manifest` and returns its descriptor. */
function storeManifest(blobs: BlobMap, manifest: unknown, mediaType = MediaType.OciManifest) {
  const bytes = Buffer.from(JSON.stringify(manifest));
  const descriptor = descriptorOf(mediaType, bytes);
  blobs.set(descriptor.digest, bytes);
  return descriptor;
}

describe("loadImageOrIndex", () => {
  it("loads an image whose layers stream their tars", async () => {
    const layer = await makeLayer(SAMPLE_ENTRIES, "zstd");
    const built = makeImage([layer]);
    const loaded = await loadImageOrIndex(
      memoryBlobReader(built.blobs),
      built.descriptor,
      "memory",
    );
    if (loaded.kind !== "image") throw new Error("expected an image");
    const [only] = await loaded.image.layers();
    expect(only?.compression).toBe("zstd");
    expect((await readAll(await only!.uncompressed())).equals(layer.tar)).toBe(true);
    await expect(loaded.image.layerByDigest(Digest.of("nope"))).rejects.toMatchObject({
      code: "BLOB_UNKNOWN",
    });
  });

  it("checks the manifest's size and digest against its descriptor", async () => {
    const built = makeImage([await makeLayer(SAMPLE_ENTRIES)]);
    const reader = memoryBlobReader(built.blobs);
    await expect(
      loadImageOrIndex(reader, { ...built.descriptor, size: built.descriptor.size + 1 }, "memory"),
    ).rejects.toMatchObject({
      code: "DIGEST_MISMATCH",
      message: expect.stringContaining("size mismatch"),
    });
    const blobs = new Map(built.blobs);
    const tampered = Buffer.from(
      built.manifestBytes.toString().replace('"schemaVersion":2', '"schemaVersion":3'),
    );
    blobs.set(built.descriptor.digest, tampered);
    await expect(
      loadImageOrIndex(memoryBlobReader(blobs), built.descriptor, "memory"),
    ).rejects.toMatchObject({
      code: "DIGEST_MISMATCH",
    });
    await expect(
      loadImageOrIndex(reader, { ...built.descriptor, size: 5 * 1024 * 1024 }, "memory"),
    ).rejects.toMatchObject({
      code: "MANIFEST_INVALID",
      message: expect.stringContaining("more than"),
    });
  });

  it("reports layer media types it cannot read, and artifacts, as MEDIA_TYPE_UNKNOWN", async () => {
    const built = makeImage([await makeLayer(SAMPLE_ENTRIES)]);
    const blobs = new Map(built.blobs);
    const odd = storeManifest(blobs, {
      ...built.manifest,
      layers: [{ ...built.manifest.layers[0], mediaType: "application/vnd.in-toto+json" }],
    });
    const loaded = await loadImageOrIndex(memoryBlobReader(blobs), odd, "memory");
    if (loaded.kind !== "image") throw new Error("expected an image");
    await expect(loaded.image.layers()).rejects.toMatchObject({ code: "MEDIA_TYPE_UNKNOWN" });

    const empty = Buffer.from("{}");
    blobs.set(Digest.of(empty).toString(), empty);
    const artifact = storeManifest(blobs, {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType: "application/vnd.example+json",
      config: descriptorOf(MediaType.OciEmpty, empty),
      layers: [],
    });
    const art = await loadImageOrIndex(memoryBlobReader(blobs), artifact, "memory");
    if (art.kind !== "image") throw new Error("expected an image");
    await expect(art.image.config()).rejects.toMatchObject({ code: "MEDIA_TYPE_UNKNOWN" });
  });

  it("rejects an image whose config lists a different number of diff_ids", async () => {
    const one = await makeLayer(SAMPLE_ENTRIES);
    const two = await makeLayer([{ name: "x", content: "y" }]);
    const built = makeImage([one]);
    const blobs = new Map(built.blobs);
    blobs.set(two.descriptor.digest, two.blob);
    const mismatched = storeManifest(blobs, {
      ...built.manifest,
      layers: [one.descriptor, two.descriptor],
    });
    const loaded = await loadImageOrIndex(memoryBlobReader(blobs), mismatched, "memory");
    if (loaded.kind !== "image") throw new Error("expected an image");
    await expect(loaded.image.layers()).rejects.toMatchObject({
      code: "MANIFEST_INVALID",
      message: expect.stringContaining("2 layers but its config lists 1 diff_ids"),
    });
  });

  it("opens the children an index lists, and only those", async () => {
    const amd64 = makeImage([await makeLayer(SAMPLE_ENTRIES)]);
    const index = makeIndex([{ image: amd64, platform: { os: "linux", architecture: "amd64" } }]);
    const loaded = await loadImageOrIndex(
      memoryBlobReader(index.blobs),
      index.descriptor,
      "memory",
    );
    if (loaded.kind !== "index") throw new Error("expected an index");
    const child = await loaded.index.image(Digest.parse(amd64.descriptor.digest));
    expect(child.digest.toString()).toBe(amd64.descriptor.digest);
    await expect(loaded.index.image(Digest.of("unlisted"))).rejects.toMatchObject({
      code: "MANIFEST_UNKNOWN",
    });
    await expect(
      loaded.index.imageIndex(Digest.parse(amd64.descriptor.digest)),
    ).rejects.toMatchObject({
      code: "MANIFEST_INVALID",
    });
  });
});
