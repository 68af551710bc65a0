// The upstream registry client's contract (OCI distribution-spec pull API).
// The proxy and the docker:// transport depend only on this interface; the
// undici implementation composes auth, retries and verification as layers.
import type { Readable } from "node:stream";
import type { Digest } from "../oci/digest.js";

/** Where a registry lives: its name as images spell it, and the URL we talk to. */
export interface RegistryEndpoint {
  /** The registry host as it appears in image names: "docker.io", "localhost:5000". */
  readonly host: string;
  /** Base URL for the API, without /v2: "https://registry-1.docker.io", "http://127.0.0.1:5000". */
  readonly baseUrl: string;
}

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** Looks credentials up for a registry host (proxy config, docker config.json, …). */
export type CredentialsProvider = (host: string) => Promise<Credentials | undefined>;

export interface RequestOptions {
  readonly signal?: AbortSignal;
}

export interface ManifestResponse {
  /** The exact bytes, verified against `digest`. */
  readonly bytes: Uint8Array;
  readonly mediaType: string;
  /** sha256 of `bytes`; equal to the requested digest when pulled by digest. */
  readonly digest: Digest;
}

export interface ManifestHead {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
}

export interface BlobResponse {
  /**
   * The blob's bytes from `offset` to the end. When offset is 0 the stream is
   * verified against the digest and errors with DIGEST_MISMATCH at the end if
   * the bytes are wrong; resumed downloads are the caller's to verify.
   */
  readonly stream: Readable;
  /** Total size of the blob. */
  readonly size: number;
  readonly offset: number;
}

export interface TagList {
  readonly name: string;
  readonly tags: readonly string[];
}

export interface RegistryClient {
  readonly endpoint: RegistryEndpoint;
  /** GET /v2/ — resolves when the registry answers (authenticating if it asks). */
  ping(options?: RequestOptions): Promise<void>;
  /** GET a manifest by tag or digest, always sending the full manifest Accept set. */
  getManifest(
    repository: string,
    reference: string,
    options?: RequestOptions,
  ): Promise<ManifestResponse>;
  /** HEAD a manifest by tag or digest. */
  headManifest(
    repository: string,
    reference: string,
    options?: RequestOptions,
  ): Promise<ManifestHead>;
  /** GET a blob, from `offset` (a Range request) if given; resumes with Range after a broken connection. */
  getBlob(
    repository: string,
    digest: Digest,
    options?: RequestOptions & { readonly offset?: number },
  ): Promise<BlobResponse>;
  /** GET /v2/<name>/tags/list (all pages). */
  listTags(repository: string, options?: RequestOptions): Promise<TagList>;
}
