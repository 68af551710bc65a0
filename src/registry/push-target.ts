// A docker://HOST/NAME[:TAG] destination: one repository on one registry,
// reached as the pull side reaches it (endpoint.ts: https, plain http for
// loopback hosts, for MEGALIFT_INSECURE_REGISTRIES and, like skopeo's
// --dest-tls-verify=false, when told not to verify TLS), with credentials
// from the docker config.json. It pushes images and indexes (push.ts), and
// reads back the index at a tag, which the referrers tag fallback merges with.
import { Agent, type Dispatcher } from "undici";
import { isMegaliftError } from "../errors.js";
import { loadImageOrIndex } from "../oci/blob-image.js";
import type { Image, ImageIndex, ImageOrIndex } from "../oci/image.js";
import { formatReference } from "../oci/reference.js";
import type { Descriptor } from "../oci/types.js";
import { createRegistryClient } from "./client.js";
import { dockerConfigCredentials } from "./docker-config.js";
import { RegistryBlobReader, type DockerReference } from "./docker-transport.js";
import { INSECURE_REGISTRIES_ENV, registryEndpoint } from "./endpoint.js";
import { createPushDispatch } from "./push-dispatch.js";
import { pushValue, type PushOptions, type PushResult } from "./push.js";
import type { CredentialsProvider, RegistryClient, RegistryEndpoint } from "./types.js";
import type { RetryPolicy } from "./retry.js";
import type { UploadContext } from "./upload.js";

export type Env = Readonly<Record<string, string | undefined>>;

export interface PushTargetOptions {
  /** Default: the docker config.json (DOCKER_CONFIG or ~/.docker). */
  readonly credentials?: CredentialsProvider;
  /** Default: a new undici Agent, closed with the target. */
  readonly dispatcher?: Dispatcher;
  /** Where MEGALIFT_INSECURE_REGISTRIES is read; default process.env. */
  readonly env?: Env;
  /** false: plain http to this registry, as skopeo's --dest-tls-verify=false allows. Default true. */
  readonly tlsVerify?: boolean;
  readonly retry?: Partial<RetryPolicy>;
}

/** The endpoint of a destination registry: endpoint.ts's rule, plus the tlsVerify switch. */
export function pushEndpoint(host: string, options: PushTargetOptions = {}): RegistryEndpoint {
  const env = options.env ?? process.env;
  if (options.tlsVerify !== false) return registryEndpoint(host, env);
  const listed = env[INSECURE_REGISTRIES_ENV];
  return registryEndpoint(host, {
    ...env,
    [INSECURE_REGISTRIES_ENV]: listed ? `${listed},${host}` : host,
  });
}

export class RegistryPushTarget {
  readonly display: string;
  private readonly ctx: UploadContext;
  private readonly reader: RegistryClient;

  constructor(
    readonly reference: DockerReference,
    endpoint: RegistryEndpoint,
    credentials: CredentialsProvider,
    dispatcher: Dispatcher,
    private readonly ownDispatcher: Dispatcher | undefined,
    retry: Partial<RetryPolicy> | undefined,
  ) {
    this.display = formatReference(reference);
    const common = { endpoint, credentials, dispatcher, ...(retry ? { retry } : {}) };
    this.ctx = {
      dispatch: createPushDispatch(common),
      baseUrl: endpoint.baseUrl.replace(/\/+$/, ""),
      registry: endpoint.host,
    };
    this.reader = createRegistryClient(common);
  }

  get repository(): string {
    return this.reference.repository;
  }

  /** Pushes `value` with everything it names; its top manifest at `tag`, else by digest. */
  push(
    value: ImageOrIndex,
    tag: string | undefined,
    options: PushOptions = {},
  ): Promise<PushResult> {
    return pushValue(this.ctx, this.repository, value, tag, options);
  }

  /**
   * Pushes a referrer (a manifest with `subject`) by digest; `listsReferrers`
   * is true when the registry answered with OCI-Subject, i.e. keeps the
   * referrers list itself, so no referrers tag is needed.
   */
  async pushReferrer(image: Image): Promise<{ descriptor: Descriptor; listsReferrers: boolean }> {
    const pushed = await this.push({ kind: "image", image }, undefined);
    return { descriptor: pushed.descriptor, listsReferrers: pushed.subject !== undefined };
  }

  /** The index tagged `tag` in this repository, undefined if there is none (or it is an image). */
  async readIndex(tag: string): Promise<ImageIndex | undefined> {
    let manifest;
    try {
      manifest = await this.reader.getManifest(this.repository, tag);
    } catch (err) {
      if (isMegaliftError(err, "MANIFEST_UNKNOWN") || isMegaliftError(err, "NAME_UNKNOWN")) {
        return undefined;
      }
      throw err;
    }
    const blobs = new RegistryBlobReader(this.reader, this.repository);
    blobs.remember(manifest.digest, manifest.bytes);
    const descriptor = {
      mediaType: manifest.mediaType,
      digest: manifest.digest.toString(),
      size: manifest.bytes.length,
    };
    const where = `${this.ctx.registry}/${this.repository}:${tag}`;
    const loaded = await loadImageOrIndex(blobs, descriptor, where);
    return loaded.kind === "index" ? loaded.index : undefined;
  }

  async close(): Promise<void> {
    await this.ownDispatcher?.close();
  }
}

/** Opens docker://HOST/NAME[:TAG] for pushing. Nothing is sent until the first push. */
export function openPushTarget(
  reference: DockerReference,
  options: PushTargetOptions = {},
): RegistryPushTarget {
  const ownDispatcher = options.dispatcher === undefined ? new Agent() : undefined;
  const credentials =
    options.credentials ??
    dockerConfigCredentials({ ...(options.env ? { env: options.env } : {}) });
  return new RegistryPushTarget(
    reference,
    pushEndpoint(reference.registry, options),
    credentials,
    options.dispatcher ?? (ownDispatcher as Dispatcher),
    ownDispatcher,
    options.retry,
  );
}
