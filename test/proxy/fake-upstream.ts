// An in-memory upstream registry for proxy tests: satisfies RegistryClient,
// counts calls, and can be switched off, made to lie about blob bytes, or made
// to hold a blob stream open until the test releases it.
import { PassThrough, Readable } from "node:stream";
import { MegaliftError } from "../../src/errors.js";
import { Digest } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/media-types.js";
import type {
  BlobResponse,
  ManifestHead,
  ManifestResponse,
  RegistryClient,
  RegistryEndpoint,
  RequestOptions,
  TagList,
} from "../../src/registry/types.js";

export interface FakeManifest {
  readonly bytes: Uint8Array;
  readonly mediaType: string;
  readonly digest: Digest;
}

export class FakeUpstream implements RegistryClient {
  readonly endpoint: RegistryEndpoint;
  /** Calls by method name. */
  readonly calls = { ping: 0, getManifest: 0, headManifest: 0, getBlob: 0, listTags: 0 };
  /** Every call as "method repository reference". */
  readonly log: string[] = [];
  /** When true every call fails with UPSTREAM_UNAVAILABLE. */
  down = false;
  /** Blobs (by digest string) whose bytes are served with one byte flipped. */
  readonly corrupt = new Set<string>();
  /** When set, blob streams send this many bytes, then wait for release(). */
  holdAfter: number | undefined;
  private readonly held: (() => void)[] = [];
  private readonly manifests = new Map<string, FakeManifest>();
  private readonly tags = new Map<string, Map<string, string>>();
  private readonly blobs = new Map<string, Uint8Array>();

  constructor(host = "registry.test", baseUrl = "http://registry.test") {
    this.endpoint = { host, baseUrl };
  }

  /** Stores a blob; returns its digest. */
  addBlob(bytes: Uint8Array | string): Digest {
    const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
    const digest = Digest.of(data);
    this.blobs.set(digest.toString(), data);
    return digest;
  }

  /** Stores a manifest document and points `tag` (in `repository`) at it. */
  addManifest(
    repository: string,
    tag: string | undefined,
    doc: object,
    mediaType: string = MediaType.OciManifest,
  ): FakeManifest {
    const bytes = new TextEncoder().encode(JSON.stringify({ mediaType, ...doc }));
    const manifest = { bytes, mediaType, digest: Digest.of(bytes) };
    this.manifests.set(`${repository}@${manifest.digest.toString()}`, manifest);
    if (tag !== undefined) this.tag(repository, tag, manifest.digest);
    return manifest;
  }

  /** Points a tag at a digest. */
  tag(repository: string, tag: string, digest: Digest): void {
    let repoTags = this.tags.get(repository);
    if (!repoTags) this.tags.set(repository, (repoTags = new Map()));
    repoTags.set(tag, digest.toString());
  }

  /** Lets held blob streams continue. */
  release(): void {
    for (const resume of this.held.splice(0)) resume();
  }

  async ping(_options?: RequestOptions): Promise<void> {
    this.enter("ping", "", "");
  }

  async getManifest(
    repository: string,
    reference: string,
    _options?: RequestOptions,
  ): Promise<ManifestResponse> {
    this.enter("getManifest", repository, reference);
    return this.find(repository, reference);
  }

  async headManifest(
    repository: string,
    reference: string,
    _options?: RequestOptions,
  ): Promise<ManifestHead> {
    this.enter("headManifest", repository, reference);
    const found = this.find(repository, reference);
    return { mediaType: found.mediaType, digest: found.digest, size: found.bytes.length };
  }

  async getBlob(
    repository: string,
    digest: Digest,
    options?: RequestOptions & { readonly offset?: number },
  ): Promise<BlobResponse> {
    this.enter("getBlob", repository, digest.toString());
    const stored = this.blobs.get(digest.toString());
    if (!stored)
      throw new MegaliftError("BLOB_UNKNOWN", `blob ${digest.toString()} not in ${repository}`);
    const data = new Uint8Array(stored);
    if (this.corrupt.has(digest.toString()) && data.length > 0) data[0] = (data[0] ?? 0) ^ 0xff;
    const offset = options?.offset ?? 0;
    return {
      stream: this.streamOf(data.subarray(offset), options?.signal),
      size: stored.length,
      offset,
    };
  }

  async listTags(repository: string, _options?: RequestOptions): Promise<TagList> {
    this.enter("listTags", repository, "");
    const repoTags = this.tags.get(repository);
    if (!repoTags) throw new MegaliftError("NAME_UNKNOWN", `repository ${repository} not known`);
    return { name: repository, tags: [...repoTags.keys()] };
  }

  private enter(method: keyof FakeUpstream["calls"], repository: string, reference: string): void {
    this.calls[method] += 1;
    this.log.push(`${method} ${repository} ${reference}`.trim());
    if (this.down) throw new MegaliftError("UPSTREAM_UNAVAILABLE", `${this.endpoint.host} is down`);
  }

  private find(repository: string, reference: string): FakeManifest {
    const digest = reference.includes(":") ? reference : this.tags.get(repository)?.get(reference);
    const found = digest === undefined ? undefined : this.manifests.get(`${repository}@${digest}`);
    if (!found)
      throw new MegaliftError("MANIFEST_UNKNOWN", `manifest ${repository}:${reference} not known`);
    return found;
  }

  /** The bytes as a stream in 1 KiB chunks, pausing at holdAfter when set. */
  private streamOf(data: Uint8Array, signal?: AbortSignal): Readable {
    const hold = this.holdAfter;
    if (hold === undefined) return Readable.from(chunks(data, 1024));
    const out = new PassThrough();
    out.write(data.subarray(0, hold));
    this.held.push(() => out.end(data.subarray(hold)));
    signal?.addEventListener("abort", () => out.destroy(new Error("aborted")), { once: true });
    return out;
  }
}

function* chunks(data: Uint8Array, size: number): Generator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

// Type check: the fake keeps to the contract.
export const _contractCheck = (upstream: FakeUpstream) => upstream satisfies RegistryClient;
