// OCI image layouts: reading by tag and digest, platform selection, errors,
// and writeLayout round trips (image-spec image-layout.md).
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Digest } from "../../src/oci/digest.js";
import type { Image } from "../../src/oci/image.js";
import { openLayoutSource, readLayoutIndex, writeLayout } from "../../src/oci/layout.js";
import { MediaType } from "../../src/oci/media-types.js";
import { ANNOTATION_REF_NAME } from "../../src/oci/types.js";
import {
  makeImage,
  makeIndex,
  makeLayer,
  readAll,
  SAMPLE_ENTRIES,
  tempDir,
  writeRawLayout,
  type BuiltImage,
} from "./build-image.js";

const dirs: string[] = [];
async function newDir(): Promise<string> {
  const dir = await tempDir();
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function sampleImage(
  platform = { os: "linux", architecture: "amd64" },
  marker = "a",
): Promise<BuiltImage> {
  const base = await makeLayer(SAMPLE_ENTRIES, "gzip");
  const top = await makeLayer([{ name: "etc/marker", content: marker }], "zstd");
  const plain = await makeLayer([{ name: "opt/plain", content: `plain ${marker}` }], "none");
  return makeImage([base, top, plain], platform);
}

async function expectSameImage(image: Image, built: BuiltImage): Promise<void> {
  expect(image.digest.toString()).toBe(built.descriptor.digest);
  expect(Buffer.from(await image.rawManifest()).equals(built.manifestBytes)).toBe(true);
  expect(Buffer.from(await image.rawConfig()).equals(built.configBytes)).toBe(true);
  const layers = await image.layers();
  expect(layers.map((l) => l.digest.toString())).toEqual(
    built.layers.map((l) => l.descriptor.digest),
  );
  for (const [i, layer] of layers.entries()) {
    expect(
      (await readAll(await layer.uncompressed())).equals(built.layers[i]?.tar ?? Buffer.alloc(0)),
    ).toBe(true);
  }
}

describe("reading a layout", () => {
  it("opens an image by tag, by digest, and alone without a tag", async () => {
    const dir = await newDir();
    const built = await sampleImage();
    await writeRawLayout(dir, [{ descriptor: built.descriptor, tag: "v1" }], built.blobs);
    for (const ref of [{ tag: "v1" }, { digest: built.descriptor.digest }, {}]) {
      const source = await openLayoutSource({ transport: "oci", dir, ...ref });
      const resolved = await source.resolve();
      expect(resolved.kind).toBe("image");
      await expectSameImage(await source.image(), built);
      await source.close();
    }
  });

  it("names the tags present when a tag is missing", async () => {
    const dir = await newDir();
    const one = await sampleImage(undefined, "one");
    const two = await sampleImage(undefined, "two");
    await writeRawLayout(
      dir,
      [
        { descriptor: one.descriptor, tag: "a" },
        { descriptor: two.descriptor, tag: "b" },
      ],
      new Map([...one.blobs, ...two.blobs]),
    );
    const source = await openLayoutSource({ transport: "oci", dir, tag: "zzz" });
    await expect(source.resolve()).rejects.toMatchObject({
      code: "MANIFEST_UNKNOWN",
      message: `tag zzz not found in oci:${dir} (tags: a, b)`,
    });
    const untagged = await openLayoutSource({ transport: "oci", dir });
    await expect(untagged.resolve()).rejects.toThrow(
      /holds 2 images; name one with :TAG or @DIGEST \(tags: a, b\)/,
    );
    const unknownDigest = await openLayoutSource({
      transport: "oci",
      dir,
      digest: Digest.of("nope").toString(),
    });
    await expect(unknownDigest.resolve()).rejects.toMatchObject({ code: "MANIFEST_UNKNOWN" });
  });

  it("fails with IO for a missing directory and for a directory that is not a layout", async () => {
    const dir = await newDir();
    await expect(
      openLayoutSource({ transport: "oci", dir: join(dir, "absent") }),
    ).rejects.toMatchObject({
      code: "IO",
      message: expect.stringContaining("does not exist"),
    });
    await expect(openLayoutSource({ transport: "oci", dir })).rejects.toThrow(/no oci-layout file/);
    await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "9.0.0" }));
    await expect(openLayoutSource({ transport: "oci", dir })).rejects.toMatchObject({
      code: "MANIFEST_INVALID",
    });
  });

  it("picks the linux/amd64 child of an index, and lists the platforms when there is none", async () => {
    const dir = await newDir();
    const amd64 = await sampleImage({ os: "linux", architecture: "amd64" }, "amd64");
    const arm64 = await sampleImage({ os: "linux", architecture: "arm64" }, "arm64");
    const index = makeIndex([
      { image: arm64, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
      { image: amd64, platform: { os: "linux", architecture: "amd64" } },
    ]);
    const armOnly = makeIndex([
      { image: arm64, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
    ]);
    await writeRawLayout(
      dir,
      [
        { descriptor: index.descriptor, tag: "multi" },
        { descriptor: armOnly.descriptor, tag: "arm" },
      ],
      new Map([...index.blobs, ...armOnly.blobs]),
    );
    const multi = await openLayoutSource({ transport: "oci", dir, tag: "multi" });
    expect((await multi.resolve()).kind).toBe("index");
    await expectSameImage(await multi.image(), amd64);
    await expectSameImage(await multi.image({ os: "linux", architecture: "arm64" }), arm64);
    const arm = await openLayoutSource({ transport: "oci", dir, tag: "arm" });
    await expect(arm.image()).rejects.toMatchObject({
      code: "MANIFEST_UNKNOWN",
      message: `oci:${dir}:arm has no linux/amd64 image (platforms present: linux/arm64/v8)`,
    });
  });

  it("finds a child without a platform field by its config", async () => {
    const dir = await newDir();
    const amd64 = await sampleImage();
    const index = makeIndex([{ image: amd64 }]);
    await writeRawLayout(dir, [{ descriptor: index.descriptor, tag: "t" }], index.blobs);
    const source = await openLayoutSource({ transport: "oci", dir, tag: "t" });
    await expectSameImage(await source.image(), amd64);
  });

  it("opens a child of an index by @digest even though index.json does not list it", async () => {
    const dir = await newDir();
    const amd64 = await sampleImage();
    const index = makeIndex([{ image: amd64, platform: { os: "linux", architecture: "amd64" } }]);
    await writeRawLayout(dir, [{ descriptor: index.descriptor, tag: "t" }], index.blobs);
    const source = await openLayoutSource({
      transport: "oci",
      dir,
      digest: amd64.descriptor.digest,
    });
    await expectSameImage(await source.image(), amd64);
  });

  it("verifies manifests and configs and reports missing blobs", async () => {
    const dir = await newDir();
    const built = await sampleImage();
    await writeRawLayout(dir, [{ descriptor: built.descriptor, tag: "t" }], built.blobs);
    const manifestPath = join(dir, "blobs", "sha256", Digest.parse(built.descriptor.digest).hex);
    const configPath = join(dir, "blobs", "sha256", Digest.parse(built.manifest.config.digest).hex);
    // same size, different bytes: a digest mismatch
    await writeFile(
      configPath,
      Buffer.from(built.configBytes.toString().replace('"os":"linux"', '"os":"LINUX"')),
    );
    const source = await openLayoutSource({ transport: "oci", dir, tag: "t" });
    const image = await source.image();
    await expect(image.config()).rejects.toMatchObject({ code: "DIGEST_MISMATCH" });
    await rm(manifestPath);
    const again = await openLayoutSource({ transport: "oci", dir, tag: "t" });
    await expect(again.resolve()).rejects.toMatchObject({ code: "BLOB_UNKNOWN" });
  });

  it("surfaces a layer blob that does not match its digest as a stream error", async () => {
    const dir = await newDir();
    const built = await sampleImage();
    await writeRawLayout(dir, [{ descriptor: built.descriptor, tag: "t" }], built.blobs);
    const layerDescriptor = built.layers[0]?.descriptor;
    if (!layerDescriptor) throw new Error("no layer");
    const path = join(dir, "blobs", "sha256", Digest.parse(layerDescriptor.digest).hex);
    const bytes = await readFile(path);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 5) ^ 0xff, bytes.length - 5);
    await writeFile(path, bytes);
    const image = await (await openLayoutSource({ transport: "oci", dir, tag: "t" })).image();
    const layer = await image.layerByDigest(Digest.parse(layerDescriptor.digest));
    await expect(readAll(await layer.compressed())).rejects.toMatchObject({
      code: "DIGEST_MISMATCH",
    });
  });
});

describe("writeLayout", () => {
  it("round-trips an image and writes oci-layout, index.json and content-addressed blobs", async () => {
    const src = await newDir();
    const dst = await newDir();
    const built = await sampleImage();
    await writeRawLayout(src, [{ descriptor: built.descriptor, tag: "in" }], built.blobs);
    const resolved = await (
      await openLayoutSource({ transport: "oci", dir: src, tag: "in" })
    ).resolve();
    const entry = await writeLayout(join(dst, "out"), "v1", resolved);
    expect(entry).toEqual({ ...built.descriptor, annotations: { [ANNOTATION_REF_NAME]: "v1" } });

    const out = join(dst, "out");
    expect(JSON.parse(await readFile(join(out, "oci-layout"), "utf8"))).toEqual({
      imageLayoutVersion: "1.0.0",
    });
    const blobNames = (await readdir(join(out, "blobs", "sha256"))).sort();
    expect(blobNames).toEqual([...built.blobs.keys()].map((d) => Digest.parse(d).hex).sort());
    for (const name of blobNames) {
      expect(Digest.of(await readFile(join(out, "blobs", "sha256", name))).hex).toBe(name);
    }
    await expectSameImage(
      await (await openLayoutSource({ transport: "oci", dir: out, tag: "v1" })).image(),
      built,
    );
  });

  it("writes deterministic bytes, replaces an entry with the same tag and keeps the others", async () => {
    const src = await newDir();
    const dst = await newDir();
    const one = await sampleImage(undefined, "one");
    const two = await sampleImage(undefined, "two");
    await writeRawLayout(
      src,
      [
        { descriptor: one.descriptor, tag: "one" },
        { descriptor: two.descriptor, tag: "two" },
      ],
      new Map([...one.blobs, ...two.blobs]),
    );
    const open = async (tag: string) =>
      (await openLayoutSource({ transport: "oci", dir: src, tag })).resolve();
    await writeLayout(dst, "latest", await open("one"));
    await writeLayout(dst, "keep", await open("one"));
    const first = await readFile(join(dst, "index.json"));
    await writeLayout(dst, "latest", await open("one"));
    expect((await readFile(join(dst, "index.json"))).equals(first)).toBe(true);

    await writeLayout(dst, "latest", await open("two"));
    const index = await readLayoutIndex(dst);
    expect(index.manifests.map((d) => [d.annotations?.[ANNOTATION_REF_NAME], d.digest])).toEqual([
      ["latest", two.descriptor.digest],
      ["keep", one.descriptor.digest],
    ]);
    expect(index.mediaType).toBe(MediaType.OciIndex);
    const latest = await (
      await openLayoutSource({ transport: "oci", dir: dst, tag: "latest" })
    ).image();
    await expectSameImage(latest, two);
    // the shared base layer is stored once
    const names = await readdir(join(dst, "blobs", "sha256"));
    expect(names.filter((n) => n.startsWith("."))).toEqual([]);
    expect(new Set(names).size).toBe(new Set([...one.blobs.keys(), ...two.blobs.keys()]).size);
  });

  it("skips blobs already present and leaves no temp files", async () => {
    const src = await newDir();
    const dst = await newDir();
    const built = await sampleImage();
    await writeRawLayout(src, [{ descriptor: built.descriptor, tag: "t" }], built.blobs);
    const resolved = await (
      await openLayoutSource({ transport: "oci", dir: src, tag: "t" })
    ).resolve();
    await writeLayout(dst, "t", resolved);
    const layerHex = Digest.parse(built.layers[0]?.descriptor.digest ?? "").hex;
    const marker = Buffer.alloc(built.layers[0]?.blob.length ?? 0, 0x42); // same size, so taken as present
    await writeFile(join(dst, "blobs", "sha256", layerHex), marker);
    await writeLayout(dst, "t2", resolved);
    expect((await readFile(join(dst, "blobs", "sha256", layerHex))).equals(marker)).toBe(true);
  });

  it("copies a whole index with every child and reads it back", async () => {
    const src = await newDir();
    const dst = await newDir();
    const amd64 = await sampleImage({ os: "linux", architecture: "amd64" }, "x");
    const arm64 = await sampleImage({ os: "linux", architecture: "arm64" }, "y");
    const index = makeIndex([
      { image: amd64, platform: { os: "linux", architecture: "amd64" } },
      { image: arm64, platform: { os: "linux", architecture: "arm64" } },
    ]);
    await writeRawLayout(src, [{ descriptor: index.descriptor, tag: "multi" }], index.blobs);
    const resolved = await (
      await openLayoutSource({ transport: "oci", dir: src, tag: "multi" })
    ).resolve();
    await writeLayout(dst, "copy", resolved);
    const names = (await readdir(join(dst, "blobs", "sha256"))).sort();
    expect(names).toEqual([...index.blobs.keys()].map((d) => Digest.parse(d).hex).sort());
    const copy = await openLayoutSource({ transport: "oci", dir: dst, tag: "copy" });
    await expectSameImage(await copy.image({ os: "linux", architecture: "arm64" }), arm64);
  });

  it("refuses to copy a layer whose bytes do not match its digest and cleans up", async () => {
    const src = await newDir();
    const dst = await newDir();
    const built = await sampleImage();
    await writeRawLayout(src, [{ descriptor: built.descriptor, tag: "t" }], built.blobs);
    const hex = Digest.parse(built.layers[1]?.descriptor.digest ?? "").hex;
    const path = join(src, "blobs", "sha256", hex);
    const bytes = await readFile(path);
    bytes.writeUInt8(bytes.readUInt8(10) ^ 1, 10);
    await writeFile(path, bytes);
    const resolved = await (
      await openLayoutSource({ transport: "oci", dir: src, tag: "t" })
    ).resolve();
    await expect(writeLayout(dst, "t", resolved)).rejects.toMatchObject({
      code: "DIGEST_MISMATCH",
    });
    expect(
      (await readdir(join(dst, "blobs", "sha256"))).filter((n) => n.startsWith(".") || n === hex),
    ).toEqual([]);
    await expect(readFile(join(dst, "index.json"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
