// docker-archive sources: the classic `docker save` layout (<id>/layer.tar,
// symlinked repeats) and the Docker 25+ layout (blobs/sha256/…), built on the fly.
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Digest } from "../../src/oci/digest.js";
import { openDockerArchiveSource } from "../../src/oci/docker-archive.js";
import { openLayoutSource, writeLayout } from "../../src/oci/layout.js";
import { MediaType } from "../../src/oci/media-types.js";
import { parseManifestBytes } from "../../src/oci/schema.js";
import { buildTar, type TarEntrySpec } from "../helpers/tar.js";
import { makeLayer, readAll, SAMPLE_ENTRIES, tempDir, type BuiltLayer } from "./build-image.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function configFor(layers: readonly BuiltLayer[], architecture = "amd64"): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture,
      os: "linux",
      config: { Env: null, Cmd: ["/bin/sh"] },
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId.toString()) },
    }),
  );
}

async function writeArchive(entries: readonly TarEntrySpec[]): Promise<string> {
  const dir = await tempDir();
  dirs.push(dir);
  const file = join(dir, "image.tar");
  await writeFile(file, await buildTar(entries));
  return file;
}

/** A classic archive with two images; image 0 repeats its base layer through a symlink. */
async function classicArchive() {
  const base = await makeLayer(SAMPLE_ENTRIES, "none");
  const top = await makeLayer([{ name: "etc/marker", content: "top" }], "none");
  const other = await makeLayer([{ name: "other", content: "other image" }], "none");
  const layers = [base, top, base];
  const config = configFor(layers);
  const otherConfig = configFor([other], "arm64");
  const manifest = [
    {
      Config: `${Digest.of(config).hex}.json`,
      RepoTags: ["example.com/team/app:v1", "busybox:latest"],
      Layers: ["aaa/layer.tar", "bbb/layer.tar", "ccc/layer.tar"],
    },
    {
      Config: `${Digest.of(otherConfig).hex}.json`,
      RepoTags: ["other:2"],
      Layers: ["ddd/layer.tar"],
    },
  ];
  const file = await writeArchive([
    { name: "aaa/" },
    { name: "aaa/VERSION", content: "1.0" },
    { name: "aaa/layer.tar", content: base.tar },
    { name: "bbb/layer.tar", content: top.tar },
    { name: "ccc/layer.tar", type: "symlink", linkname: "../aaa/layer.tar" },
    { name: "ddd/layer.tar", content: other.tar },
    { name: `${Digest.of(config).hex}.json`, content: config },
    { name: `${Digest.of(otherConfig).hex}.json`, content: otherConfig },
    { name: "manifest.json", content: JSON.stringify(manifest) },
    { name: "repositories", content: "{}" },
  ]);
  return { file, layers, config };
}

describe("classic docker save archives", () => {
  it("synthesises an OCI manifest whose layers stream the original tars", async () => {
    const { file, layers, config } = await classicArchive();
    const source = await openDockerArchiveSource({ transport: "docker-archive", file });
    const image = await source.image();
    expect(image.mediaType).toBe(MediaType.OciManifest);
    const raw = await image.rawManifest();
    expect(image.digest.equals(Digest.of(raw))).toBe(true);
    const parsed = parseManifestBytes(raw);
    expect(parsed.kind).toBe("image");
    const manifest = await image.manifest();
    expect(manifest.config).toEqual({
      mediaType: MediaType.OciConfig,
      digest: Digest.of(config).toString(),
      size: config.length,
    });
    expect(manifest.layers.map((l) => l.mediaType)).toEqual([
      MediaType.OciLayerTar,
      MediaType.OciLayerTar,
      MediaType.OciLayerTar,
    ]);
    expect(Buffer.from(await image.rawConfig()).equals(config)).toBe(true);
    const streamed = await image.layers();
    expect(streamed).toHaveLength(3);
    for (const [i, layer] of streamed.entries()) {
      expect(layer.diffId.toString()).toBe(layers[i]?.diffId.toString());
      expect(
        (await readAll(await layer.uncompressed())).equals(layers[i]?.tar ?? Buffer.alloc(0)),
      ).toBe(true);
    }
    await source.close();
  });

  it("gives the same image digest every time it is opened", async () => {
    const { file } = await classicArchive();
    const a = await (await openDockerArchiveSource({ transport: "docker-archive", file })).image();
    const b = await (await openDockerArchiveSource({ transport: "docker-archive", file })).image();
    expect(a.digest.equals(b.digest)).toBe(true);
  });

  it("picks an image by RepoTag (normalised) or by @N", async () => {
    const { file } = await classicArchive();
    const digestOf = async (ref?: string) =>
      (
        await (
          await openDockerArchiveSource({
            transport: "docker-archive",
            file,
            ...(ref ? { ref } : {}),
          })
        ).image()
      ).digest.toString();
    const first = await digestOf();
    expect(await digestOf("busybox:latest")).toBe(first);
    expect(await digestOf("docker.io/library/busybox:latest")).toBe(first);
    expect(await digestOf("example.com/team/app:v1")).toBe(first);
    expect(await digestOf("@0")).toBe(first);
    const second = await digestOf("other:2");
    expect(second).not.toBe(first);
    expect(await digestOf("@1")).toBe(second);
  });

  it("names the tags present when REF is not in the archive", async () => {
    const { file } = await classicArchive();
    await expect(
      openDockerArchiveSource({ transport: "docker-archive", file, ref: "nope:1" }),
    ).rejects.toMatchObject({
      code: "MANIFEST_UNKNOWN",
      message: expect.stringContaining("(tags: example.com/team/app:v1, busybox:latest, other:2)"),
    });
    await expect(
      openDockerArchiveSource({ transport: "docker-archive", file, ref: "@7" }),
    ).rejects.toMatchObject({
      code: "MANIFEST_UNKNOWN",
    });
  });

  it("copies into an OCI layout and reads back the same image", async () => {
    const { file, layers } = await classicArchive();
    const source = await openDockerArchiveSource({ transport: "docker-archive", file });
    const dir = await tempDir();
    dirs.push(dir);
    await writeLayout(dir, "copied", await source.resolve());
    const copy = await (await openLayoutSource({ transport: "oci", dir, tag: "copied" })).image();
    expect(copy.digest.equals((await source.image()).digest)).toBe(true);
    const copyLayers = await copy.layers();
    expect(
      (await readAll(await (copyLayers[1] ?? copyLayers[0])!.uncompressed())).equals(
        layers[1]!.tar,
      ),
    ).toBe(true);
  });
});

describe("Docker 25+ archives (blobs/sha256)", () => {
  it("types layers by their magic bytes and takes digests from blob names or hashes", async () => {
    const gz = await makeLayer(SAMPLE_ENTRIES, "gzip");
    const plain = await makeLayer([{ name: "etc/marker", content: "x" }], "none");
    const zst = await makeLayer([{ name: "etc/zst", content: "z" }], "zstd");
    const layers = [gz, plain, zst];
    const config = configFor(layers);
    const blob = (b: Buffer) => `blobs/sha256/${Digest.of(b).hex}`;
    const file = await writeArchive([
      { name: "blobs/" },
      { name: "blobs/sha256/" },
      { name: blob(gz.blob), content: gz.blob },
      { name: blob(plain.blob), content: plain.blob },
      { name: "zstd-layer-not-content-addressed", content: zst.blob },
      { name: blob(config), content: config },
      { name: "oci-layout", content: JSON.stringify({ imageLayoutVersion: "1.0.0" }) },
      {
        name: "manifest.json",
        content: JSON.stringify([
          {
            Config: blob(config),
            RepoTags: null,
            Layers: [blob(gz.blob), blob(plain.blob), "zstd-layer-not-content-addressed"],
          },
        ]),
      },
    ]);
    const image = await (
      await openDockerArchiveSource({ transport: "docker-archive", file })
    ).image();
    const manifest = await image.manifest();
    expect(manifest.layers).toEqual([gz.descriptor, plain.descriptor, zst.descriptor]);
    for (const [i, layer] of (await image.layers()).entries()) {
      expect((await readAll(await layer.uncompressed())).equals(layers[i]!.tar)).toBe(true);
      expect((await readAll(await layer.compressed())).equals(layers[i]!.blob)).toBe(true);
    }
  });
});

describe("broken archives", () => {
  it("fails with IO for a missing file and MANIFEST_INVALID without manifest.json", async () => {
    const file = await writeArchive([{ name: "hello", content: "x" }]);
    await expect(
      openDockerArchiveSource({ transport: "docker-archive", file: `${file}.absent` }),
    ).rejects.toMatchObject({ code: "IO", message: expect.stringContaining("does not exist") });
    await expect(
      openDockerArchiveSource({ transport: "docker-archive", file }),
    ).rejects.toMatchObject({
      code: "MANIFEST_INVALID",
      message: expect.stringContaining("no manifest.json"),
    });
  });

  it("rejects a manifest.json naming a missing layer or the wrong number of layers", async () => {
    const layer = await makeLayer(SAMPLE_ENTRIES, "none");
    const config = configFor([layer]);
    const missing = await writeArchive([
      { name: "c.json", content: config },
      {
        name: "manifest.json",
        content: JSON.stringify([{ Config: "c.json", Layers: ["gone/layer.tar"] }]),
      },
    ]);
    await expect(
      openDockerArchiveSource({ transport: "docker-archive", file: missing }),
    ).rejects.toThrow(/names gone\/layer.tar, which is not in the archive/);
    const extra = await writeArchive([
      { name: "c.json", content: config },
      { name: "l.tar", content: layer.tar },
      {
        name: "manifest.json",
        content: JSON.stringify([{ Config: "c.json", Layers: ["l.tar", "l.tar"] }]),
      },
    ]);
    await expect(
      openDockerArchiveSource({ transport: "docker-archive", file: extra }),
    ).rejects.toMatchObject({
      code: "MANIFEST_INVALID",
    });
    const badManifest = await writeArchive([
      { name: "manifest.json", content: JSON.stringify({ Config: 1 }) },
    ]);
    await expect(
      openDockerArchiveSource({ transport: "docker-archive", file: badManifest }),
    ).rejects.toMatchObject({
      code: "MANIFEST_INVALID",
    });
  });
});
