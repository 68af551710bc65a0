// The docker://HOST/NAME[:TAG|@DIGEST] transport: an ImageSource over a
// registry. Manifests come through getManifest (the full Accept set, digest
// checked), blobs through getBlob (streamed through a verifier); the image
// model on top is the same BlobImage every other source uses.
import { Readable } from "node:stream";
import { Agent, type Dispatcher } from "undici";
import { isMegaliftError, MegaliftError } from "../errors.js";
import { loadImageOrIndex, selectPlatformImage, type BlobReader } from "../oci/blob-image.js";
import { Digest } from "../oci/digest.js";
import type { ImageOrIndex, Image } from "../oci/image.js";
import type { ImageSource, SourceReference } from "../oci/source.js";
import type { Platform } from "../oci/types.js";
import { createRegistryClient } from "./client.js";
import { dockerConfigCredentials } from "./docker-config.js";
import { registryEndpoint } from "./endpoint.js";
import type { CredentialsProvider, RegistryClient } from "./types.js";

export type DockerReference = Extract<SourceReference, { transport: "docker" }>;

/**
 * Blobs of one repository. A BlobReader is asked by digest alone, but a
 * registry serves manifests and blobs at different URLs: digests that an
 * index lists are fetched as manifests, everything else as blobs (with a
 * manifest fallback for registries that keep them apart).
 */
export class RegistryBlobReader implements BlobReader {
  private readonly manifests = new Map<string, Uint8Array>();
  private readonly manifestDigests = new Set<string>();

  constructor(
    private readonly client: RegistryClient,
    private readonly repository: string,
  ) {}

  /** Keeps verified manifest bytes, and notes the manifests an index lists. */
  remember(digest: Digest, bytes: Uint8Array): void {
    this.manifests.set(digest.toString(), bytes);
    for (const child of listedManifests(bytes)) this.manifestDigests.add(child);
  }

  async readBlob(digest: Digest): Promise<Readable> {
    if (this.isManifest(digest)) {
      return Readable.from([Buffer.from(await this.manifest(digest))]);
    }
    return (await this.client.getBlob(this.repository, digest)).stream;
  }

  async readBlobBytes(digest: Digest, maxSize: number): Promise<Uint8Array> {
    if (this.isManifest(digest)) return this.bounded(digest, await this.manifest(digest), maxSize);
    try {
      const blob = await this.client.getBlob(this.repository, digest);
      if (blob.size > maxSize) {
        blob.stream.destroy();
        throw tooLarge(digest, blob.size, maxSize);
      }
      const chunks: Buffer[] = [];
      for await (const chunk of blob.stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    } catch (err) {
      if (!isMegaliftError(err, "BLOB_UNKNOWN")) throw err;
      // Some registries serve manifests only at /manifests/: try there before giving up.
      const bytes = await this.manifest(digest).catch(() => {
        throw err;
      });
      return this.bounded(digest, bytes, maxSize);
    }
  }

  private isManifest(digest: Digest): boolean {
    const key = digest.toString();
    return this.manifests.has(key) || this.manifestDigests.has(key);
  }

  private async manifest(digest: Digest): Promise<Uint8Array> {
    const cached = this.manifests.get(digest.toString());
    if (cached) return cached;
    const fetched = await this.client.getManifest(this.repository, digest.toString());
    this.remember(digest, fetched.bytes);
    return fetched.bytes;
  }

  private bounded(digest: Digest, bytes: Uint8Array, maxSize: number): Uint8Array {
    if (bytes.length > maxSize) throw tooLarge(digest, bytes.length, maxSize);
    return bytes;
  }
}

function tooLarge(digest: Digest, size: number, maxSize: number): MegaliftError {
  return new MegaliftError(
    "MANIFEST_INVALID",
    `blob ${digest.toString()} is ${size} bytes, more than the ${maxSize} megalift reads`,
  );
}

/** The digests an index lists in "manifests" (image-index.md); none for anything else. */
function listedManifests(bytes: Uint8Array): string[] {
  try {
    const doc = JSON.parse(Buffer.from(bytes).toString("utf8")) as { manifests?: unknown };
    if (!Array.isArray(doc.manifests)) return [];
    return doc.manifests.flatMap((m: unknown) => {
      const digest = (m as { digest?: unknown } | null)?.digest;
      return typeof digest === "string" ? [digest] : [];
    });
  } catch {
    return [];
  }
}

class RegistrySource implements ImageSource {
  private resolved: Promise<ImageOrIndex> | undefined;
  private readonly blobs: RegistryBlobReader;

  constructor(
    readonly reference: DockerReference,
    readonly display: string,
    private readonly client: RegistryClient,
    private readonly ownDispatcher: Dispatcher | undefined,
  ) {
    this.blobs = new RegistryBlobReader(client, reference.repository);
  }

  resolve(): Promise<ImageOrIndex> {
    this.resolved ??= (async () => {
      // A digest wins over a tag when both are given, as in docker pull.
      const ref = this.reference.digest ?? this.reference.tag ?? "latest";
      // getManifest reads at most MAX_MANIFEST_BYTES and checks the digest.
      const manifest = await this.client.getManifest(this.reference.repository, ref);
      this.blobs.remember(manifest.digest, manifest.bytes);
      const descriptor = {
        mediaType: manifest.mediaType,
        digest: manifest.digest.toString(),
        size: manifest.bytes.length,
      };
      return loadImageOrIndex(this.blobs, descriptor, this.display);
    })();
    return this.resolved;
  }

  async image(platform?: Pick<Platform, "os" | "architecture">): Promise<Image> {
    return selectPlatformImage(await this.resolve(), this.display, platform);
  }

  async close(): Promise<void> {
    await this.ownDispatcher?.close();
  }
}

export interface DockerSourceOptions {
  /** Default: the docker config.json (DOCKER_CONFIG or ~/.docker). */
  readonly credentials?: CredentialsProvider;
  /** Default: a new undici Agent, closed with the source. */
  readonly dispatcher?: Dispatcher;
  /** Where MEGALIFT_INSECURE_REGISTRIES is read; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Opens docker://HOST/NAME[:TAG|@DIGEST]. Nothing is fetched until resolve() or image(). */
export async function openDockerSource(
  reference: DockerReference,
  display: string,
  options: DockerSourceOptions = {},
): Promise<ImageSource> {
  const ownDispatcher = options.dispatcher === undefined ? new Agent() : undefined;
  const client = createRegistryClient({
    endpoint: registryEndpoint(reference.registry, options.env),
    credentials:
      options.credentials ??
      dockerConfigCredentials({ ...(options.env ? { env: options.env } : {}) }),
    dispatcher: options.dispatcher ?? ownDispatcher,
  });
  return new RegistrySource(reference, display, client, ownDispatcher);
}
