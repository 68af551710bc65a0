// The transformed image, go-containerregistry `mutate` style: functions that
// take images and return new ones, never editing anything in place
// (ARCHITECTURE.md "Output image").
//   appendMegabinaryLayer  source layers unchanged + one deterministic megabinary layer
//   wasmPlatformImage      the same megabinary as a titled application/wasm layer
//   transformedIndex       an OCI index holding both, with platforms
// Everything is serialised deterministically (fixed key order, no timestamps)
// so the same inputs and toolchain version give byte-identical digests.
import { Readable } from "node:stream";
import { isMegaliftError, MegaliftError } from "../errors.js";
import {
  MappingAnnotation,
  MAPPING_MEDIA_TYPE,
  placeMapping,
} from "../merge/mapping-annotation.js";
import { serializeMapping, type Mapping } from "../merge/mapping.js";
import { blobReaderOf, loadImageOrIndex, type BlobReader } from "./blob-image.js";
import { buildDeterministicLayer } from "./deterministic-layer.js";
import { Digest } from "./digest.js";
import type { Image, ImageIndex } from "./image.js";
import { MediaType } from "./media-types.js";
import { MemoryBlobReader } from "./memory-image.js";
import type {
  Annotations,
  Descriptor,
  ImageIndexManifest,
  ImageManifest,
  Platform,
} from "./types.js";

/** Where the megabinary layer puts its two files. */
export const MEGABINARY_PATH = "/.megalift/megabinary.wasm";
export const MAPPING_PATH = "/.megalift/mapping.json";

/** Annotation keys (image-spec annotations.md "Pre-Defined Annotation Keys", and megalift's own). */
export const ImageAnnotation = {
  BaseDigest: "org.opencontainers.image.base.digest",
  BaseName: "org.opencontainers.image.base.name",
  Title: "org.opencontainers.image.title",
  ToolchainVersion: "dev.megalift.toolchain.version",
} as const;

/** The wasm variant's platform (WASI preview 1 on the wasm architecture). */
export const WASM_PLATFORM = { architecture: "wasm", os: "wasip1" } as const;

export interface MegabinaryOptions {
  /** The megabinary module bytes. */
  readonly megabinary: Uint8Array;
  /** The mapping, or its canonical bytes (serializeMapping). */
  readonly mapping: Mapping | Uint8Array;
  readonly toolchainVersion: string;
  /** The source as the user named it (org.opencontainers.image.base.name). */
  readonly sourceName: string;
  /** Largest manifest that carries the mapping inline (mapping-annotation.ts). */
  readonly mappingAnnotationThreshold?: number;
}

/** image-spec manifest.md "Guidance for an Empty Descriptor": the two bytes `{}`. */
const EMPTY_JSON = Buffer.from("{}");
export const EMPTY_DESCRIPTOR: Descriptor = {
  mediaType: MediaType.OciEmpty,
  digest: Digest.of(EMPTY_JSON).toString(),
  size: EMPTY_JSON.length,
  data: EMPTY_JSON.toString("base64"),
};

/** Docker schema2 layer types → their OCI equivalents (same bytes, image-spec media-types.md). */
const OCI_LAYER_TYPE: Readonly<Record<string, string>> = {
  [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip,
  [MediaType.DockerLayerForeignGzip]: MediaType.OciLayerNondistGzip,
  "application/vnd.docker.image.rootfs.diff.tar": MediaType.OciLayerTar,
};

function mappingBytesOf(mapping: Mapping | Uint8Array): Uint8Array {
  return mapping instanceof Uint8Array ? mapping : serializeMapping(mapping);
}

function descriptorOf(mediaType: string, bytes: Uint8Array, extra: Partial<Descriptor> = {}) {
  return { mediaType, digest: Digest.of(bytes).toString(), size: bytes.length, ...extra };
}

function sortedAnnotations(annotations: Annotations): Annotations {
  return Object.fromEntries(Object.entries(annotations).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** A source layer's descriptor with an OCI media type; digest, size, urls and annotations kept. */
function ociLayerDescriptor(layer: Descriptor): Descriptor {
  const mediaType = OCI_LAYER_TYPE[layer.mediaType] ?? layer.mediaType;
  if (!mediaType.startsWith("application/vnd.oci.image.layer.")) {
    throw new MegaliftError(
      "MEDIA_TYPE_UNKNOWN",
      `layer ${layer.digest} has media type ${layer.mediaType}, which has no OCI equivalent`,
    );
  }
  return mediaType === layer.mediaType ? layer : { ...layer, mediaType };
}

/** Source manifest annotations minus stale megalift mapping keys. */
function inheritedAnnotations(annotations: Annotations | undefined): Record<string, string> {
  const mappingKeys = new Set<string>(Object.values(MappingAnnotation));
  return Object.fromEntries(
    Object.entries(annotations ?? {}).filter(([key]) => !mappingKeys.has(key)),
  );
}

/**
 * Blobs this module made, held in memory, in front of the images they extend:
 * a blob not held here is read from the image whose manifest references it
 * (or that is it), so source layers are shared, never copied or re-encoded.
 */
class OverlayBlobReader implements BlobReader {
  readonly own = new MemoryBlobReader();
  constructor(private readonly below: readonly Image[]) {}

  async readBlob(digest: Digest): Promise<Readable> {
    return this.find(digest, (r) => r.readBlob(digest));
  }

  async readBlobBytes(digest: Digest, maxSize: number): Promise<Uint8Array> {
    return this.find(digest, (r) => r.readBlobBytes(digest, maxSize));
  }

  private async find<T>(digest: Digest, read: (reader: BlobReader) => Promise<T>): Promise<T> {
    try {
      return await read(this.own);
    } catch (err) {
      if (!isMegaliftError(err, "BLOB_UNKNOWN")) throw err;
    }
    const wanted = digest.toString();
    for (const image of this.below) {
      const manifest = await image.manifest();
      const holds =
        image.digest.equals(digest) ||
        manifest.config.digest === wanted ||
        manifest.layers.some((l) => l.digest === wanted);
      if (holds) return read(imageBlobReader(image));
    }
    throw new MegaliftError("BLOB_UNKNOWN", `blob ${wanted} is in no image being built`);
  }
}

/** The blob store behind an image; for images that are not blob-backed, their accessors. */
function imageBlobReader(image: Image): BlobReader {
  const store = blobReaderOf(image);
  if (store) return store;
  const bytes = async (digest: Digest): Promise<Uint8Array> => {
    if (digest.equals(image.digest)) return image.rawManifest();
    if ((await image.manifest()).config.digest === digest.toString()) return image.rawConfig();
    throw new MegaliftError(
      "BLOB_UNKNOWN",
      `image ${image.digest.toString()} has no blob ${digest.toString()}`,
    );
  };
  return {
    async readBlob(digest) {
      const { layers } = await image.manifest();
      if (layers.some((l) => l.digest === digest.toString())) {
        return (await image.layerByDigest(digest)).compressed();
      }
      return Readable.from([Buffer.from(await bytes(digest))]);
    },
    readBlobBytes: (digest) => bytes(digest),
  };
}

async function loadImage(reader: OverlayBlobReader, manifest: ImageManifest, where: string) {
  const bytes = Buffer.from(JSON.stringify(manifest));
  reader.own.put(bytes);
  const loaded = await loadImageOrIndex(reader, descriptorOf(MediaType.OciManifest, bytes), where);
  if (loaded.kind !== "image") throw new Error("a built manifest loaded as an index");
  return loaded.image;
}

/**
 * An image from a manifest built in memory and the blobs it adds; any blob it
 * does not add is read from `below` (images whose blobs it shares).
 */
export async function imageFromManifest(
  manifest: ImageManifest,
  blobs: readonly Uint8Array[],
  below: readonly Image[] = [],
  where = "built image",
): Promise<Image> {
  const reader = new OverlayBlobReader(below);
  for (const blob of blobs) reader.own.put(blob);
  return loadImage(reader, manifest, where);
}

/** An index built in memory over `children` (the images it lists), serialised as given. */
export async function indexFromManifest(
  index: ImageIndexManifest,
  children: readonly Image[],
  where = "built index",
): Promise<ImageIndex> {
  const reader = new OverlayBlobReader(children);
  const bytes = Buffer.from(JSON.stringify(index));
  reader.own.put(bytes);
  const loaded = await loadImageOrIndex(reader, descriptorOf(MediaType.OciIndex, bytes), where);
  if (loaded.kind !== "index") throw new Error("a built index loaded as an image");
  return loaded.index;
}

/** The descriptor of an image's manifest, with extra fields (platform, artifactType). */
export async function manifestDescriptor(
  image: Image,
  extra: Partial<Descriptor> = {},
): Promise<Descriptor> {
  const raw = await image.rawManifest();
  return {
    mediaType: image.mediaType,
    digest: image.digest.toString(),
    size: raw.length,
    ...extra,
  };
}

/**
 * The augmented image: `source`'s layers unchanged (same descriptors and
 * bytes, Docker media types renamed to their OCI equivalents) plus one
 * deterministic layer holding MEGABINARY_PATH and MAPPING_PATH; the config's
 * diff_ids (and history, if it has one) extended; OCI media types only;
 * annotations naming the source, the toolchain and the mapping.
 */
export async function appendMegabinaryLayer(
  source: Image,
  options: MegabinaryOptions,
): Promise<Image> {
  const mappingBytes = mappingBytesOf(options.mapping);
  const layer = await buildDeterministicLayer([
    { path: MEGABINARY_PATH, type: "file", content: options.megabinary },
    { path: MAPPING_PATH, type: "file", content: mappingBytes },
  ]);
  const sourceManifest = await source.manifest();
  // The raw config keeps every field the source wrote (Docker's extras too);
  // only rootfs and history change (config.md "rootfs", "history").
  const config = JSON.parse(Buffer.from(await source.rawConfig()).toString("utf8")) as Record<
    string,
    unknown
  > & { rootfs: { diff_ids: string[] }; history?: unknown[] };
  const history = {
    created_by: `megalift ${options.toolchainVersion} transform`,
    comment: `megabinary layer: ${MEGABINARY_PATH}, ${MAPPING_PATH}`,
  };
  const newConfig = {
    ...config,
    rootfs: { type: "layers", diff_ids: [...config.rootfs.diff_ids, layer.diffId.toString()] },
    ...(Array.isArray(config.history) ? { history: [...config.history, history] } : {}),
  };
  const reader = new OverlayBlobReader([source]);
  const configBytes = Buffer.from(JSON.stringify(newConfig));
  reader.own.put(configBytes);
  reader.own.put(layer.gzip);
  const base = {
    ...inheritedAnnotations(sourceManifest.annotations),
    [ImageAnnotation.BaseDigest]: source.digest.toString(),
    [ImageAnnotation.BaseName]: options.sourceName,
    [ImageAnnotation.ToolchainVersion]: options.toolchainVersion,
  };
  const manifestWith = (mappingAnnotations: Annotations): ImageManifest => ({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: descriptorOf(MediaType.OciConfig, configBytes),
    layers: [
      ...sourceManifest.layers.map(ociLayerDescriptor),
      descriptorOf(MediaType.OciLayerGzip, layer.gzip),
    ],
    annotations: sortedAnnotations({ ...base, ...mappingAnnotations }),
  });
  const placement = placeMapping(
    mappingBytes,
    (a) => Buffer.byteLength(JSON.stringify(manifestWith(a))),
    options.mappingAnnotationThreshold,
  );
  if (placement.kind === "blob") reader.own.put(mappingBytes);
  return loadImage(reader, manifestWith(placement.annotations), `augmented ${options.sourceName}`);
}

/**
 * The wasm-platform variant for wasm-aware tools: config `os: wasip1`,
 * `architecture: wasm`, and one layer of media type application/wasm (the
 * megabinary's own bytes, so its digest is the megabinary's digest) titled
 * megabinary.wasm; annotated like the augmented image.
 */
export async function wasmPlatformImage(source: Image, options: MegabinaryOptions): Promise<Image> {
  const mappingBytes = mappingBytesOf(options.mapping);
  const wasm = descriptorOf(MediaType.Wasm, options.megabinary, {
    annotations: { [ImageAnnotation.Title]: "megabinary.wasm" },
  });
  const config = {
    architecture: WASM_PLATFORM.architecture,
    os: WASM_PLATFORM.os,
    rootfs: { type: "layers", diff_ids: [wasm.digest] },
  };
  const reader = new OverlayBlobReader([]);
  const configBytes = Buffer.from(JSON.stringify(config));
  reader.own.put(configBytes);
  reader.own.put(options.megabinary);
  const base = {
    [ImageAnnotation.BaseDigest]: source.digest.toString(),
    [ImageAnnotation.BaseName]: options.sourceName,
    [ImageAnnotation.ToolchainVersion]: options.toolchainVersion,
  };
  const manifestWith = (mappingAnnotations: Annotations): ImageManifest => ({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: descriptorOf(MediaType.OciConfig, configBytes),
    layers: [wasm],
    annotations: sortedAnnotations({ ...base, ...mappingAnnotations }),
  });
  const placement = placeMapping(
    mappingBytes,
    (a) => Buffer.byteLength(JSON.stringify(manifestWith(a))),
    options.mappingAnnotationThreshold,
  );
  if (placement.kind === "blob") reader.own.put(mappingBytes);
  return loadImage(
    reader,
    manifestWith(placement.annotations),
    `wasm variant of ${options.sourceName}`,
  );
}

async function platformOf(image: Image): Promise<Platform> {
  const config = await image.config();
  return {
    architecture: config.architecture,
    os: config.os,
    ...(config.variant !== undefined ? { variant: config.variant } : {}),
  };
}

/**
 * The mapping as an OCI 1.1 artifact whose subject is `image` (image-spec
 * manifest.md "artifactType", "subject"): how the mapping blob stays
 * reachable when it is too large for the manifest annotation.
 */
async function mappingArtifact(image: Image, digest: Digest): Promise<Image> {
  const bytes = await imageBlobReader(image).readBlobBytes(digest, Number.MAX_SAFE_INTEGER);
  digest.verifyBytes(bytes, "mapping blob");
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: MAPPING_MEDIA_TYPE,
    config: EMPTY_DESCRIPTOR,
    layers: [
      descriptorOf(MAPPING_MEDIA_TYPE, bytes, {
        annotations: { [ImageAnnotation.Title]: "mapping.json" },
      }),
    ],
    subject: await manifestDescriptor(image),
  };
  return imageFromManifest(manifest, [EMPTY_JSON, bytes], [], "mapping artifact");
}

/**
 * An OCI index (image-index.md) holding the augmented image and its wasm
 * variant, each with its platform; when the mapping is a referenced blob, also
 * the mapping artifact that references it (no platform, so platform selection
 * skips it).
 */
export async function transformedIndex(augmented: Image, wasmVariant: Image): Promise<ImageIndex> {
  const children = [augmented, wasmVariant];
  const manifests: Descriptor[] = [
    await manifestDescriptor(augmented, { platform: await platformOf(augmented) }),
    await manifestDescriptor(wasmVariant, { platform: await platformOf(wasmVariant) }),
  ];
  const annotations = (await augmented.manifest()).annotations ?? {};
  const mappingDigest = annotations[MappingAnnotation.Digest];
  if (mappingDigest !== undefined && annotations[MappingAnnotation.Inline] === undefined) {
    const artifact = await mappingArtifact(augmented, Digest.parse(mappingDigest));
    children.push(artifact);
    manifests.push(await manifestDescriptor(artifact, { artifactType: MAPPING_MEDIA_TYPE }));
  }
  const kept = [ImageAnnotation.BaseName, ImageAnnotation.ToolchainVersion].flatMap((key) => {
    const value = annotations[key];
    return value === undefined ? [] : [[key, value] as const];
  });
  const index: ImageIndexManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests,
    annotations: sortedAnnotations(Object.fromEntries(kept)),
  };
  return indexFromManifest(index, children, "transformed index");
}
