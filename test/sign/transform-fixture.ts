// Test fixtures for the output image and signing: a small valid wasm module
// (binaryen) as the megabinary, a sample mapping, OCI- and Docker-typed
// source images in memory, and a transform written to an OCI layout.
import binaryen from "binaryen";
import { loadImageOrIndex } from "../../src/oci/blob-image.js";
import type { Image, ImageIndex } from "../../src/oci/image.js";
import { writeLayout } from "../../src/oci/layout.js";
import { MediaType } from "../../src/oci/media-types.js";
import {
  appendMegabinaryLayer,
  transformedIndex,
  wasmPlatformImage,
  type MegabinaryOptions,
} from "../../src/oci/mutate.js";
import type { ImageManifest } from "../../src/oci/types.js";
import { buildMapping, serializeMapping, type Mapping } from "../../src/merge/mapping.js";
import {
  descriptorOf,
  makeImage,
  makeLayer,
  memoryBlobReader,
  SAMPLE_ENTRIES,
  type BlobMap,
} from "../oci/build-image.js";

/** A valid wasm module exporting `_start` (returns `answer`). */
export function wasmModule(answer = 42): Uint8Array {
  const module = new binaryen.Module();
  module.addFunction("start", binaryen.none, binaryen.i32, [], module.i32.const(answer));
  module.addFunctionExport("start", "_start");
  if (!module.validate()) throw new Error("test wasm module does not validate");
  const bytes = module.emitBinary();
  module.dispose();
  return bytes;
}

export const HASH = {
  sh: `blake3:${"a".repeat(64)}`,
  script: `blake3:${"b".repeat(64)}`,
  libc: `blake3:${"c".repeat(64)}`,
  jit: `blake3:${"d".repeat(64)}`,
  node: `blake3:${"e".repeat(64)}`,
} as const;

export function sampleMapping(reason = "uses AVX-512 instructions"): Mapping {
  return buildMapping({
    toolchainVersion: "0.1.0-test",
    executables: [
      { hash: HASH.script, kind: "script", interpreter: HASH.sh, paths: ["/usr/bin/hello"] },
      { hash: HASH.sh, kind: "elf", export: "exe_sh", paths: ["/bin/sh", "/bin/ash"] },
      { hash: HASH.node, kind: "polyfill", export: "polyfill_node", paths: ["/usr/bin/node"] },
    ],
    libraries: [{ hash: HASH.libc, base: 0x7f000000n, paths: ["/lib/libc.so.6"] }],
    omitted: [{ hash: HASH.jit, paths: ["/usr/bin/jit"], reason }],
  });
}

async function imageFrom(
  blobs: BlobMap,
  manifest: ImageManifest,
  mediaType: string,
): Promise<Image> {
  const bytes = Buffer.from(JSON.stringify(manifest));
  const descriptor = descriptorOf(mediaType, bytes);
  blobs.set(descriptor.digest, bytes);
  const loaded = await loadImageOrIndex(memoryBlobReader(blobs), descriptor, "test source");
  if (loaded.kind !== "image") throw new Error("not an image");
  return loaded.image;
}

/** A two-layer linux/amd64 source image, OCI- or Docker-typed (same layer bytes either way). */
export async function sourceImage(kind: "oci" | "docker" = "oci"): Promise<Image> {
  const layers = [
    await makeLayer(SAMPLE_ENTRIES),
    await makeLayer([
      { name: "usr/" },
      { name: "usr/bin/" },
      { name: "usr/bin/tool", content: "x", mode: 0o755 },
    ]),
  ];
  const built = makeImage(layers);
  const blobs = new Map(built.blobs);
  if (kind === "oci") return imageFrom(blobs, built.manifest, MediaType.OciManifest);
  const config = Buffer.from(JSON.stringify({ ...built.config, docker_version: "20.10.24" }));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.DockerManifest,
    config: descriptorOf(MediaType.DockerConfig, config),
    layers: layers.map((l) => ({ ...l.descriptor, mediaType: MediaType.DockerLayerGzip })),
  };
  blobs.set(manifest.config.digest, config);
  return imageFrom(blobs, manifest, MediaType.DockerManifest);
}

export interface Transformed {
  readonly source: Image;
  readonly augmented: Image;
  readonly wasm: Image;
  readonly index: ImageIndex;
  readonly megabinary: Uint8Array;
  readonly mapping: Uint8Array;
}

export async function transform(
  source: Image,
  overrides: Partial<MegabinaryOptions> = {},
): Promise<Transformed> {
  const options: MegabinaryOptions = {
    megabinary: wasmModule(),
    mapping: sampleMapping(),
    toolchainVersion: "0.1.0-test",
    sourceName: "docker.io/library/sample:1",
    ...overrides,
  };
  const augmented = await appendMegabinaryLayer(source, options);
  const wasm = await wasmPlatformImage(source, options);
  const mapping =
    options.mapping instanceof Uint8Array ? options.mapping : serializeMapping(options.mapping);
  return {
    source,
    augmented,
    wasm,
    index: await transformedIndex(augmented, wasm),
    megabinary: options.megabinary,
    mapping,
  };
}

/** Writes the transformed index into `dir` under `tag`. */
export async function writeTransformed(dir: string, tag: string, t: Transformed): Promise<void> {
  await writeLayout(dir, tag, { kind: "index", index: t.index });
}
