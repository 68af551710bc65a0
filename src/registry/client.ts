// The upstream registry client (distribution-spec v1.1 pull API) on undici.
// One dispatch function wrapped in layers — retry (outermost), auth, redirect
// — and the operations on top: every manifest is checked against its digest,
// every blob streams through a verifier, errors name registry, repository and
// reference.
import { pipeline, type Readable } from "node:stream";
import type { Dispatcher } from "undici";
import { MegaliftError } from "../errors.js";
import { MAX_MANIFEST_BYTES } from "../oci/blob-image.js";
import { Digest } from "../oci/digest.js";
import { MANIFEST_ACCEPT } from "../oci/media-types.js";
import { isValidTag } from "../oci/reference.js";
import { TOOL_VERSION } from "../version.js";
import { authLayer, pullScope } from "./auth.js";
import { blobPartOf, resumableBlobStream, skipBytes, type BlobPart } from "./blob-stream.js";
import {
  composeLayers,
  discardBody,
  headerValue,
  readBody,
  undiciDispatch,
  type Dispatch,
  type UpstreamRequest,
  type UpstreamResponse,
} from "./dispatch.js";
import { isGenericContentType, manifestMediaType, mediaTypeOnly } from "./content-type.js";
import { nextLink } from "./link-header.js";
import { redirectLayer } from "./redirect.js";
import { parseTagPage } from "./tag-list.js";
import { responseError, type ResourceKind } from "./response-errors.js";
import {
  DEFAULT_RETRY_POLICY,
  retryLayer,
  systemClock,
  type Clock,
  type RetryPolicy,
} from "./retry.js";
import type {
  BlobResponse,
  CredentialsProvider,
  ManifestHead,
  ManifestResponse,
  RegistryClient,
  RegistryEndpoint,
  RequestOptions,
  TagList,
} from "./types.js";

export interface RegistryClientOptions {
  readonly endpoint: RegistryEndpoint;
  readonly credentials?: CredentialsProvider;
  /** Default "megalift/<version>". */
  readonly userAgent?: string;
  readonly retry?: Partial<RetryPolicy>;
  /** The undici dispatcher (Agent, Pool) to send through; undici's global one by default. */
  readonly dispatcher?: Dispatcher;
  /** Time for token expiry and backoff waits; tests pass a fake. */
  readonly clock?: Clock;
}

const MAX_TAG_PAGE_BYTES = 16 * 1024 * 1024;
const MAX_TAG_PAGES = 10_000;
// distribution-spec "Pulling manifests": <name> is path components joined by '/'.
const NAME_RE =
  /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;

/** A RegistryClient for one registry. */
export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  return new UndiciRegistryClient(options);
}

class UndiciRegistryClient implements RegistryClient {
  readonly endpoint: RegistryEndpoint;
  private readonly dispatch: Dispatch;
  private readonly userAgent: string;
  private readonly policy: RetryPolicy;
  private readonly baseUrl: string;

  constructor(options: RegistryClientOptions) {
    this.endpoint = options.endpoint;
    this.baseUrl = options.endpoint.baseUrl.replace(/\/+$/, "");
    this.userAgent = options.userAgent ?? `megalift/${TOOL_VERSION}`;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    const clock = options.clock ?? systemClock;
    const send = undiciDispatch(options.dispatcher);
    const retry = retryLayer(this.policy, clock);
    const redirect = redirectLayer();
    const tokenDispatch = composeLayers(send, retry, redirect);
    const auth = authLayer({
      host: options.endpoint.host,
      tokenDispatch,
      now: () => clock.now(),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
    this.dispatch = composeLayers(send, retry, auth, redirect);
  }

  async ping(options: RequestOptions = {}): Promise<void> {
    const what = `ping of registry ${this.endpoint.host}`;
    const response = await this.send("/v2/", { what, signal: options.signal });
    if (response.status === 200) return discardBody(response);
    if (response.status === 404) {
      await discardBody(response);
      throw new MegaliftError(
        "UPSTREAM_UNAVAILABLE",
        `${what}: ${this.baseUrl}/v2/ answered 404; it does not speak the distribution API`,
      );
    }
    throw await this.failure(response, "ping", what);
  }

  async getManifest(
    repository: string,
    reference: string,
    options: RequestOptions = {},
  ): Promise<ManifestResponse> {
    const what = this.manifestWhat(repository, reference);
    const response = await this.send(`/v2/${repository}/manifests/${reference}`, {
      what,
      scope: pullScope(repository),
      signal: options.signal,
      headers: { accept: MANIFEST_ACCEPT },
      bufferBody: MAX_MANIFEST_BYTES,
    });
    if (response.status !== 200) throw await this.failure(response, "manifest", what);
    const bytes = await readBody(response, MAX_MANIFEST_BYTES, what);
    // distribution-spec "Pulling manifests": by digest, the bytes must hash to it;
    // by tag, Docker-Content-Digest (when sent) is the digest the registry vouches for.
    const expected = Digest.isValid(reference)
      ? Digest.parse(reference)
      : this.headerDigest(response, what);
    if (expected) {
      const actual = Digest.of(bytes, expected.algorithm);
      if (!actual.equals(expected)) {
        throw new MegaliftError(
          "DIGEST_MISMATCH",
          `${what}: registry sent bytes that hash to ${actual.toString()}, not ${expected.toString()}`,
        );
      }
    }
    return {
      bytes,
      digest: expected ?? Digest.of(bytes),
      mediaType: manifestMediaType(headerValue(response.headers, "content-type"), bytes),
    };
  }

  async headManifest(
    repository: string,
    reference: string,
    options: RequestOptions = {},
  ): Promise<ManifestHead> {
    const what = this.manifestWhat(repository, reference);
    const response = await this.send(`/v2/${repository}/manifests/${reference}`, {
      what,
      method: "HEAD",
      scope: pullScope(repository),
      signal: options.signal,
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (response.status !== 200) throw await this.failure(response, "manifest", what);
    await discardBody(response);
    const requested = Digest.isValid(reference) ? Digest.parse(reference) : undefined;
    const sent = this.headerDigest(response, what);
    if (requested && sent && !requested.equals(sent)) {
      throw new MegaliftError(
        "DIGEST_MISMATCH",
        `${what}: registry answered with Docker-Content-Digest ${sent.toString()}`,
      );
    }
    const digest = requested ?? sent;
    const size = Number(headerValue(response.headers, "content-length") ?? NaN);
    const contentType = mediaTypeOnly(headerValue(response.headers, "content-type"));
    if (digest === undefined || !Number.isFinite(size) || isGenericContentType(contentType)) {
      // The HEAD does not tell enough (distribution-spec only says it SHOULD): GET and see.
      const manifest = await this.getManifest(repository, reference, options);
      return {
        digest: manifest.digest,
        mediaType: manifest.mediaType,
        size: manifest.bytes.length,
      };
    }
    return { digest, mediaType: contentType, size };
  }

  async getBlob(
    repository: string,
    digest: Digest,
    options: RequestOptions & { readonly offset?: number } = {},
  ): Promise<BlobResponse> {
    const what = `blob ${this.endpoint.host}/${repository}@${digest.toString()}`;
    const offset = options.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new MegaliftError("RANGE_NOT_SATISFIABLE", `${what}: invalid offset ${offset}`);
    }
    const openAt = (position: number): Promise<BlobPart> =>
      this.openBlob(repository, digest, position, what, options.signal);
    const first = await openAt(offset);
    const total = first.total ?? (await this.blobSize(repository, digest, what, options.signal));
    if (offset > total) {
      first.body.destroy();
      throw new MegaliftError(
        "RANGE_NOT_SATISFIABLE",
        `${what}: offset ${offset} is past the end of the ${total}-byte blob`,
      );
    }
    // A registry that ignored Range sent the whole blob: verify all of it, then skip.
    const position = first.start === 0 ? 0 : offset;
    const stream = resumableBlobStream({
      first,
      position,
      total,
      open: openAt,
      maxResumes: this.policy.attempts,
      what,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (position > 0) return { stream, size: total, offset };
    // Errors reach the consumer through the last stream; the callback has nothing to add.
    const ignore = (): void => undefined;
    const verifier = digest.verifier(what, total);
    const verified: Readable =
      offset > 0
        ? pipeline(stream, verifier, skipBytes(offset), ignore)
        : pipeline(stream, verifier, ignore);
    return { stream: verified, size: total, offset };
  }

  async listTags(repository: string, options: RequestOptions = {}): Promise<TagList> {
    const what = `tags of ${this.endpoint.host}/${repository}`;
    this.checkName(repository, what);
    let url = new URL(`${this.baseUrl}/v2/${repository}/tags/list`);
    const tags: string[] = [];
    let name = repository;
    for (let page = 0; page < MAX_TAG_PAGES; page++) {
      const response = await this.dispatch({
        method: "GET",
        url,
        headers: { "user-agent": this.userAgent, accept: "application/json" },
        scope: pullScope(repository),
        bufferBody: MAX_TAG_PAGE_BYTES,
        what,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      if (response.status !== 200) throw await this.failure(response, "tags", what);
      const list = parseTagPage(await readBody(response, MAX_TAG_PAGE_BYTES, what), what);
      name = list.name ?? name;
      tags.push(...list.tags);
      const next = nextLink(response.headers, response.url);
      if (!next) return { name, tags };
      // Never let a Link header carry our credentials to another origin.
      if (next.origin !== new URL(this.baseUrl).origin) {
        throw new MegaliftError(
          "UPSTREAM_UNAVAILABLE",
          `${what}: the next page link points to another origin (${next.origin})`,
        );
      }
      url = next;
    }
    throw new MegaliftError("UPSTREAM_UNAVAILABLE", `${what}: more than ${MAX_TAG_PAGES} pages`);
  }

  private async openBlob(
    repository: string,
    digest: Digest,
    position: number,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<BlobPart> {
    const response = await this.send(`/v2/${repository}/blobs/${digest.toString()}`, {
      what,
      scope: pullScope(repository),
      signal,
      headers: position > 0 ? { range: `bytes=${position}-` } : {},
    });
    if (response.status !== 200 && response.status !== 206) {
      throw await this.failure(response, "blob", what);
    }
    return blobPartOf(response, what);
  }

  /** The blob's size from a HEAD, for a GET that did not say (chunked, or "bytes a-b/*"). */
  private async blobSize(
    repository: string,
    digest: Digest,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<number> {
    const response = await this.send(`/v2/${repository}/blobs/${digest.toString()}`, {
      what,
      method: "HEAD",
      scope: pullScope(repository),
      signal,
    });
    if (response.status !== 200) throw await this.failure(response, "blob", what);
    await discardBody(response);
    const size = Number(headerValue(response.headers, "content-length") ?? NaN);
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new MegaliftError(
        "UPSTREAM_UNAVAILABLE",
        `${what}: the registry does not say its size`,
      );
    }
    return size;
  }

  private send(
    path: string,
    request: {
      what: string;
      method?: "GET" | "HEAD";
      scope?: string;
      signal: AbortSignal | undefined;
      headers?: Record<string, string | readonly string[]>;
      bufferBody?: number;
    },
  ): Promise<UpstreamResponse> {
    const req: UpstreamRequest = {
      method: request.method ?? "GET",
      url: new URL(`${this.baseUrl}${path}`),
      headers: { "user-agent": this.userAgent, ...request.headers },
      what: request.what,
      ...(request.scope !== undefined ? { scope: request.scope } : {}),
      ...(request.signal !== undefined ? { signal: request.signal } : {}),
      ...(request.bufferBody !== undefined ? { bufferBody: request.bufferBody } : {}),
    };
    return this.dispatch(req);
  }

  private failure(
    response: UpstreamResponse,
    kind: ResourceKind,
    what: string,
  ): Promise<MegaliftError> {
    return responseError(response, kind, what, this.endpoint.host);
  }

  private manifestWhat(repository: string, reference: string): string {
    const isDigest = Digest.isValid(reference);
    const what = `manifest ${this.endpoint.host}/${repository}${isDigest ? "@" : ":"}${reference}`;
    this.checkName(repository, what);
    if (!isDigest && !isValidTag(reference)) {
      throw new MegaliftError(
        "TAG_INVALID",
        `${what}: "${reference}" is neither a tag nor a digest`,
      );
    }
    return what;
  }

  private checkName(repository: string, what: string): void {
    if (!NAME_RE.test(repository)) {
      throw new MegaliftError("NAME_INVALID", `${what}: "${repository}" is not a repository name`);
    }
  }

  private headerDigest(response: UpstreamResponse, what: string): Digest | undefined {
    const value = headerValue(response.headers, "docker-content-digest")?.trim();
    if (value === undefined || value === "") return undefined;
    if (!Digest.isValid(value)) {
      throw new MegaliftError(
        "DIGEST_INVALID",
        `${what}: registry sent an unusable Docker-Content-Digest "${value.slice(0, 100)}"`,
      );
    }
    return Digest.parse(value);
  }
}
