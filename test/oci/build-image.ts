// Builds tiny OCI images for tests: layers (plain, gzip, zstd via the zstd
// CLI), configs, manifests, indexes, in-memory blob readers, and OCI layout
// directories written by hand (independently of writeLayout).
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import type { BlobReader } from "../../src/oci/blob-image.js";
import { Digest } from "../../src/oci/digest.js";
import { MediaType, type LayerCompression } from "../../src/oci/media-types.js";
import type { Descriptor, ImageConfig, ImageManifest, Platform } from "../../src/oci/types.js";
import { ANNOTATION_REF_NAME, OCI_LAYOUT_VERSION } from "../../src/oci/types.js";
import { buildTar, type TarEntrySpec } from "../helpers/tar.js";

export type BlobMap = Map<string, Buffer>;

export interface BuiltLayer {
  readonly tar: Buffer;
  readonly blob: Buffer;
  readonly descriptor: Descriptor;
  readonly diffId: Digest;
}

export interface BuiltImage {
  readonly descriptor: Descriptor;
  readonly manifest: ImageManifest;
  readonly manifestBytes: Buffer;
  readonly config: ImageConfig;
  readonly configBytes: Buffer;
  readonly layers: readonly BuiltLayer[];
  /** Every blob of the image (layers, config, manifest) by digest. */
  readonly blobs: BlobMap;
}

/** zstd-compresses with the zstd CLI (Node 20 has no zstd encoder). */
export function zstdCompress(bytes: Uint8Array): Buffer {
  const result = spawnSync("zstd", ["-q", "-c", "-3"], { input: bytes, maxBuffer: 1 << 28 });
  if (result.status !== 0) throw new Error(`zstd failed: ${result.stderr.toString()}`);
  return result.stdout;
}

const LAYER_TYPE: Record<LayerCompression, string> = {
  none: MediaType.OciLayerTar,
  gzip: MediaType.OciLayerGzip,
  zstd: MediaType.OciLayerZstd,
};

export function compress(tar: Buffer, compression: LayerCompression): Buffer {
  if (compression === "gzip") return gzipSync(tar);
  if (compression === "zstd") return zstdCompress(tar);
  return tar;
}

export function descriptorOf(mediaType: string, bytes: Uint8Array): Descriptor {
  return { mediaType, digest: Digest.of(bytes).toString(), size: bytes.length };
}

export async function makeLayer(
  entries: readonly TarEntrySpec[],
  compression: LayerCompression = "gzip",
): Promise<BuiltLayer> {
  const tar = await buildTar(entries);
  const blob = compress(tar, compression);
  return {
    tar,
    blob,
    descriptor: descriptorOf(LAYER_TYPE[compression], blob),
    diffId: Digest.of(tar),
  };
}

export function makeImage(
  layers: readonly BuiltLayer[],
  platform: Pick<Platform, "os" | "architecture"> = { os: "linux", architecture: "amd64" },
): BuiltImage {
  const config: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    config: { Env: ["PATH=/usr/bin:/bin"], Cmd: ["/bin/sh"] },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId.toString()) },
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: descriptorOf(MediaType.OciConfig, configBytes),
    layers: layers.map((l) => l.descriptor),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const descriptor = descriptorOf(MediaType.OciManifest, manifestBytes);
  const blobs: BlobMap = new Map();
  for (const l of layers) blobs.set(l.descriptor.digest, l.blob);
  blobs.set(manifest.config.digest, configBytes);
  blobs.set(descriptor.digest, manifestBytes);
  return { descriptor, manifest, manifestBytes, config, configBytes, layers, blobs };
}

export interface BuiltIndex {
  readonly descriptor: Descriptor;
  readonly indexBytes: Buffer;
  readonly blobs: BlobMap;
}

export function makeIndex(
  children: readonly { image: BuiltImage; platform?: Platform }[],
): BuiltIndex {
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: children.map((c) => ({
      ...c.image.descriptor,
      ...(c.platform ? { platform: c.platform } : {}),
    })),
  };
  const indexBytes = Buffer.from(JSON.stringify(index));
  const blobs: BlobMap = new Map();
  for (const c of children) for (const [k, v] of c.image.blobs) blobs.set(k, v);
  const descriptor = descriptorOf(MediaType.OciIndex, indexBytes);
  blobs.set(descriptor.digest, indexBytes);
  return { descriptor, indexBytes, blobs };
}

/** A BlobReader over a map, optionally yielding streams in small chunks. */
export function memoryBlobReader(blobs: BlobMap, chunkSize = 777): BlobReader {
  const get = (digest: Digest): Buffer => {
    const bytes = blobs.get(digest.toString());
    if (!bytes) throw new Error(`test blob ${digest.toString()} missing`);
    return bytes;
  };
  return {
    readBlob: async (digest) => {
      const bytes = get(digest);
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += chunkSize)
        chunks.push(bytes.subarray(i, i + chunkSize));
      return Readable.from(chunks);
    },
    readBlobBytes: async (digest) => get(digest),
  };
}

export async function tempDir(prefix = "megalift-oci-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Writes an OCI layout by hand: oci-layout, blobs/sha256/*, index.json naming `entries`. */
export async function writeRawLayout(
  dir: string,
  entries: readonly { descriptor: Descriptor; tag?: string }[],
  blobs: BlobMap,
): Promise<void> {
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  await writeFile(
    join(dir, "oci-layout"),
    JSON.stringify({ imageLayoutVersion: OCI_LAYOUT_VERSION }),
  );
  for (const [digest, bytes] of blobs) {
    await writeFile(join(dir, "blobs", "sha256", Digest.parse(digest).hex), bytes);
  }
  const index = {
    schemaVersion: 2,
    manifests: entries.map((e) => ({
      ...e.descriptor,
      ...(e.tag !== undefined ? { annotations: { [ANNOTATION_REF_NAME]: e.tag } } : {}),
    })),
  };
  await writeFile(join(dir, "index.json"), JSON.stringify(index));
}

/** Reads a stream to the end. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export const SAMPLE_ENTRIES: readonly TarEntrySpec[] = [
  { name: "bin/" },
  { name: "bin/hello", content: "#!/bin/sh\necho hello\n", mode: 0o755 },
  { name: "etc/" },
  { name: "etc/os-release", content: "ID=test\n" },
];
