// Writes the image a transform reads as an OCI layout (image-spec
// "image-layout.md"), from the proxy's own manifest and blob services: every
// byte comes through the cache and its digest checks, with the upstream's
// credentials, and the transform child needs no network. It also decides
// which child of a multi-platform index is transformed (linux/amd64) and
// what becomes of the others (TransformConfig.otherPlatforms).
import { createWriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { Digest } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/media-types.js";
import type { Descriptor } from "../../src/oci/types.js";
import type { StoredManifest } from "../cache/cache-store.js";
import type { OtherPlatforms } from "../config/proxy-config.js";
import type { BlobService } from "../services/blob-service.js";
import type { ManifestService } from "../services/manifest-service.js";
import type { RouteTarget } from "../routing/upstream-router.js";

/** The tag the source image has in its layout. */
export const SOURCE_TAG = "source";

/** A source the proxy does not transform, and why; the pull is then served unchanged. */
export class NotTransformable extends Error {
  override readonly name = "NotTransformable";
}

/** Which manifest is transformed and what happens to the rest of an index. */
export interface SourcePlan {
  /** The linux/amd64 image manifest. */
  readonly image: StoredManifest;
  /** Children of the source index other than linux/amd64 ("os/arch[/variant]" and descriptor). */
  readonly others: readonly { readonly platform: string; readonly descriptor: Descriptor }[];
  readonly otherPlatforms: OtherPlatforms;
}

interface ManifestJson {
  readonly mediaType?: string;
  readonly config?: Descriptor;
  readonly layers?: readonly Descriptor[];
  readonly manifests?: readonly Descriptor[];
}

const INDEX_TYPES = new Set<string>([MediaType.OciIndex, MediaType.DockerManifestList]);
const IMAGE_CONFIG_TYPES = new Set<string>([MediaType.OciConfig, MediaType.DockerConfig]);

function parse(manifest: StoredManifest): ManifestJson {
  return JSON.parse(Buffer.from(manifest.bytes).toString("utf8")) as ManifestJson;
}

function platformName(d: Descriptor): string {
  const p = d.platform;
  if (p === undefined) return "unknown";
  return [p.os, p.architecture, p.variant].filter((x) => x !== undefined && x !== "").join("/");
}

/** Chooses the linux/amd64 image of `source` (NotTransformable when there is none). */
export async function planSource(
  manifests: ManifestService,
  target: RouteTarget,
  source: StoredManifest,
  otherPlatforms: OtherPlatforms,
): Promise<SourcePlan> {
  const json = parse(source);
  if (INDEX_TYPES.has(source.mediaType)) {
    const children = json.manifests ?? [];
    const amd64 = children.find(
      (d) => d.platform?.os === "linux" && d.platform.architecture === "amd64",
    );
    if (amd64 === undefined) {
      throw new NotTransformable(
        `the index has no linux/amd64 image (platforms: ${children.map(platformName).join(", ") || "none"})`,
      );
    }
    const image = await manifests.get(target, {
      kind: "digest",
      digest: Digest.parse(amd64.digest),
    });
    assertImage(parse(image));
    const others = children
      .filter((d) => d !== amd64)
      .map((descriptor) => ({ platform: platformName(descriptor), descriptor }));
    return { image, others, otherPlatforms };
  }
  assertImage(json);
  return { image: source, others: [], otherPlatforms };
}

function assertImage(json: ManifestJson): void {
  const configType = json.config?.mediaType;
  if (configType === undefined || !IMAGE_CONFIG_TYPES.has(configType)) {
    throw new NotTransformable(
      `it is not a container image (config media type ${configType ?? "missing"})`,
    );
  }
}

/** Writes `plan.image` with its config and layers as an OCI layout at `dir`, tagged SOURCE_TAG. */
export async function writeSourceLayout(
  dir: string,
  plan: SourcePlan,
  blobs: BlobService,
  target: RouteTarget,
  signal: AbortSignal,
): Promise<void> {
  const blobDir = join(dir, "blobs", "sha256");
  await mkdir(blobDir, { recursive: true });
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const image = plan.image;
  await writeFile(blobPath(dir, image.digest), image.bytes);
  const json = parse(image);
  for (const descriptor of [json.config, ...(json.layers ?? [])]) {
    if (descriptor === undefined) continue;
    signal.throwIfAborted();
    const digest = Digest.parse(descriptor.digest);
    const reply = await blobs.get(target, digest, { headOnly: false });
    if (reply.body === null) throw new Error(`blob ${descriptor.digest} came without a body`);
    await pipeline(
      Readable.fromWeb(reply.body as NodeReadableStream<Uint8Array>),
      createWriteStream(blobPath(dir, digest)),
      { signal },
    );
  }
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [
      {
        mediaType: image.mediaType,
        digest: image.digest.toString(),
        size: image.bytes.length,
        annotations: { "org.opencontainers.image.ref.name": SOURCE_TAG },
      },
    ],
  };
  await writeFile(join(dir, "index.json"), JSON.stringify(index));
}

function blobPath(dir: string, digest: Digest): string {
  return join(dir, "blobs", digest.algorithm, digest.hex);
}
