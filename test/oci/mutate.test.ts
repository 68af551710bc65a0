// The output image (src/oci/mutate.ts): source layers unchanged and shared,
// one deterministic megabinary layer, OCI types only, the wasm variant and the
// index, byte-identical across runs, and a round trip through an OCI layout.
import binaryen from "binaryen";
import { describe, expect, it } from "vitest";
import { buildRootfs, ContentStore } from "../../src/oci/rootfs/index.js";
import { Digest } from "../../src/oci/digest.js";
import type { Image } from "../../src/oci/image.js";
import { openLayoutSource } from "../../src/oci/layout.js";
import { MediaType } from "../../src/oci/media-types.js";
import {
  ImageAnnotation,
  MAPPING_PATH,
  MEGABINARY_PATH,
  WASM_PLATFORM,
} from "../../src/oci/mutate.js";
import {
  MappingAnnotation,
  decodeMappingAnnotation,
  MAPPING_MEDIA_TYPE,
} from "../../src/merge/mapping-annotation.js";
import { readAll, tempDir } from "./build-image.js";
import { sourceImage, transform, wasmModule, writeTransformed } from "../sign/transform-fixture.js";

/** A layer's stored bytes, verified against its digest as they stream. */
async function blob(image: Image, digest: string): Promise<Buffer> {
  return readAll(await (await image.layerByDigest(Digest.parse(digest))).compressed());
}

describe("appendMegabinaryLayer", () => {
  it("keeps the source layers unchanged and shared, and appends one megabinary layer", async () => {
    const source = await sourceImage();
    const t = await transform(source);
    const before = await source.manifest();
    const after = await t.augmented.manifest();
    expect(after.mediaType).toBe(MediaType.OciManifest);
    expect(after.layers.slice(0, -1)).toEqual(before.layers);
    expect(after.layers).toHaveLength(before.layers.length + 1);
    for (const layer of before.layers) {
      expect((await blob(t.augmented, layer.digest)).equals(await blob(source, layer.digest))).toBe(
        true,
      );
    }
    const config = await t.augmented.config();
    const sourceConfig = await source.config();
    const last = after.layers[after.layers.length - 1];
    expect(last?.mediaType).toBe(MediaType.OciLayerGzip);
    expect(config.rootfs.diff_ids.slice(0, -1)).toEqual(sourceConfig.rootfs.diff_ids);
    expect(config.created).toBeUndefined();
    expect(config.config).toEqual(sourceConfig.config);
    expect(after.annotations?.[ImageAnnotation.BaseDigest]).toBe(source.digest.toString());
    expect(after.annotations?.[ImageAnnotation.BaseName]).toBe("docker.io/library/sample:1");
    expect(after.annotations?.[ImageAnnotation.ToolchainVersion]).toBe("0.1.0-test");
    const inline = after.annotations?.[MappingAnnotation.Inline] ?? "";
    expect(Buffer.from(decodeMappingAnnotation(inline)).equals(Buffer.from(t.mapping))).toBe(true);
  });

  it("gives byte-identical digests on two runs", async () => {
    const a = await transform(await sourceImage());
    const b = await transform(await sourceImage());
    expect(a.augmented.digest.toString()).toBe(b.augmented.digest.toString());
    expect(a.wasm.digest.toString()).toBe(b.wasm.digest.toString());
    expect(a.index.digest.toString()).toBe(b.index.digest.toString());
    expect(
      Buffer.from(await a.augmented.rawConfig()).equals(Buffer.from(await b.augmented.rawConfig())),
    ).toBe(true);
    const c = await transform(await sourceImage(), { megabinary: wasmModule(7) });
    expect(c.augmented.digest.toString()).not.toBe(a.augmented.digest.toString());
  });

  it("converts a Docker-typed source to OCI media types without changing layer bytes", async () => {
    const docker = await sourceImage("docker");
    const oci = await sourceImage("oci");
    const t = await transform(docker);
    const manifest = await t.augmented.manifest();
    expect(t.augmented.mediaType).toBe(MediaType.OciManifest);
    expect(manifest.mediaType).toBe(MediaType.OciManifest);
    expect(manifest.config.mediaType).toBe(MediaType.OciConfig);
    expect(manifest.layers.map((l) => l.mediaType)).toEqual([
      MediaType.OciLayerGzip,
      MediaType.OciLayerGzip,
      MediaType.OciLayerGzip,
    ]);
    const dockerLayers = (await docker.manifest()).layers;
    expect(manifest.layers.slice(0, -1).map((l) => [l.digest, l.size])).toEqual(
      dockerLayers.map((l) => [l.digest, l.size]),
    );
    expect(dockerLayers.map((l) => l.digest)).toEqual(
      (await oci.manifest()).layers.map((l) => l.digest),
    );
    // Docker-only config fields survive; only rootfs (and history) change.
    const raw = JSON.parse(Buffer.from(await t.augmented.rawConfig()).toString()) as Record<
      string,
      unknown
    >;
    expect(raw["docker_version"]).toBe("20.10.24");
  });

  it("flattens the megabinary layer to exactly the two files, mtime 0, uid/gid 0", async () => {
    const t = await transform(await sourceImage());
    const layers = await t.augmented.layers();
    const last = layers[layers.length - 1];
    if (!last) throw new Error("no layer");
    const dir = await tempDir("megalift-mutate-");
    const view = await buildRootfs([last], { store: new ContentStore(dir) });
    const files = [...view.files()];
    expect(files.map((f) => f.path)).toEqual([MAPPING_PATH, MEGABINARY_PATH]);
    for (const entry of view.entries()) {
      if (entry.path === "/") continue;
      expect([entry.mtime, entry.uid, entry.gid]).toEqual([0, 0, 0]);
    }
    const wasm = view.lstat(MEGABINARY_PATH);
    const mapping = view.lstat(MAPPING_PATH);
    if (!wasm || !mapping) throw new Error("files missing");
    expect((await view.readFile(wasm)).equals(Buffer.from(t.megabinary))).toBe(true);
    expect((await view.readFile(mapping)).equals(Buffer.from(t.mapping))).toBe(true);
    const module = binaryen.readBinary(await view.readFile(wasm));
    expect(module.validate()).toBeTruthy();
    module.dispose();
  });

  it("stores the mapping as a referenced blob past the threshold", async () => {
    const t = await transform(await sourceImage(), { mappingAnnotationThreshold: 1000 });
    const annotations = (await t.augmented.manifest()).annotations ?? {};
    expect(annotations[MappingAnnotation.Inline]).toBeUndefined();
    expect(annotations[MappingAnnotation.Digest]).toBe(Digest.of(t.mapping).toString());
    expect(annotations[MappingAnnotation.Note]).toMatch(/too large/);
    const index = await t.index.indexManifest();
    const artifact = index.manifests.find((d) => d.artifactType === MAPPING_MEDIA_TYPE);
    expect(artifact).toBeDefined();
    const image = await t.index.image(Digest.parse(artifact?.digest ?? ""));
    const manifest = await image.manifest();
    expect(manifest.subject?.digest).toBe(t.augmented.digest.toString());
    expect(manifest.layers[0]?.digest).toBe(Digest.of(t.mapping).toString());
  });
});

describe("wasm variant and index", () => {
  it("has a wasip1/wasm config and one titled application/wasm layer", async () => {
    const t = await transform(await sourceImage());
    const manifest = await t.wasm.manifest();
    const config = await t.wasm.config();
    expect([config.os, config.architecture]).toEqual([
      WASM_PLATFORM.os,
      WASM_PLATFORM.architecture,
    ]);
    expect(manifest.layers).toEqual([
      {
        mediaType: "application/wasm",
        digest: Digest.of(t.megabinary).toString(),
        size: t.megabinary.length,
        annotations: { "org.opencontainers.image.title": "megabinary.wasm" },
      },
    ]);
    const index = await t.index.indexManifest();
    expect(index.mediaType).toBe(MediaType.OciIndex);
    expect(index.manifests.map((d) => [d.digest, d.platform])).toEqual([
      [t.augmented.digest.toString(), { architecture: "amd64", os: "linux" }],
      [t.wasm.digest.toString(), { architecture: "wasm", os: "wasip1" }],
    ]);
  });

  it("writes to an OCI layout and reads back by platform", async () => {
    const t = await transform(await sourceImage("docker"));
    const dir = await tempDir("megalift-mutate-");
    await writeTransformed(dir, "out", t);
    const source = await openLayoutSource({ transport: "oci", dir, tag: "out" });
    const resolved = await source.resolve();
    expect(resolved.kind === "index" && resolved.index.digest.equals(t.index.digest)).toBe(true);
    const amd64 = await source.image();
    expect(amd64.digest.equals(t.augmented.digest)).toBe(true);
    expect(
      Buffer.from(await amd64.rawManifest()).equals(Buffer.from(await t.augmented.rawManifest())),
    ).toBe(true);
    const wasm = await source.image({ os: "wasip1", architecture: "wasm" });
    expect(wasm.digest.equals(t.wasm.digest)).toBe(true);
    // every layer of the augmented image reads back and verifies
    for (const layer of await amd64.layers()) await readAll(await layer.uncompressed());
  });
});
