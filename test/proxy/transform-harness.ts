// A proxy in transform mode over a fake upstream, with a fake TransformRunner
// that writes a small transformed layout at once (no lifting): for the
// transform-on-pull route tests. The runner can be held, made to fail, and
// counts its runs.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Digest } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/media-types.js";
import type { TransformConfig, UpstreamConfig } from "../../proxy/config/proxy-config.js";
import { DEFAULT_TRANSFORM, type RepositoryRule } from "../../proxy/config/proxy-config.js";
import type { LogRecord } from "../../proxy/observability/logger.js";
import { createProxy, type ProxyInstance } from "../../proxy/server.js";
import { SOURCE_TAG } from "../../proxy/transform/source-layout.js";
import {
  TransformFailure,
  type RunOptions,
  type TransformJob,
  type TransformResult,
  type TransformRunner,
} from "../../proxy/transform/transform-runner.js";
import { FakeUpstream } from "./fake-upstream.js";

export const BUNDLE_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { os: string; architecture: string };
  artifactType?: string;
}

/** Writes transformImage-shaped output: index → augmented image, plus both signature tags. */
export class FakeTransformRunner implements TransformRunner {
  runs = 0;
  readonly jobs: TransformJob[] = [];
  /** When set, runs wait for release() (or their abort signal). */
  hold = false;
  /** When set, runs fail with this message. */
  failWith: string | undefined;
  private readonly waiting: (() => void)[] = [];
  lastSignal: AbortSignal | undefined;

  release(): void {
    this.hold = false;
    for (const resume of this.waiting.splice(0)) resume();
  }

  async run(job: TransformJob, options: RunOptions): Promise<TransformResult> {
    this.runs++;
    this.jobs.push(job);
    this.lastSignal = options.signal;
    options.onProgress({ stage: "lift", done: 1, total: 3, detail: "/bin/sh" });
    if (this.hold) {
      await new Promise<void>((resolve, reject) => {
        this.waiting.push(resolve);
        options.signal.addEventListener("abort", () => reject(new Error("aborted")), {
          once: true,
        });
      });
    }
    if (this.failWith !== undefined) throw new TransformFailure("TRANSFORM_FAILED", this.failWith);
    return writeFakeTransform(job);
  }
}

async function writeFakeTransform(job: TransformJob): Promise<TransformResult> {
  const out = job.outputDir;
  await mkdir(join(out, "blobs", "sha256"), { recursive: true });
  await writeFile(join(out, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const blob = async (mediaType: string, data: Uint8Array | string): Promise<Desc> => {
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    const digest = Digest.of(bytes);
    await writeFile(join(out, "blobs", "sha256", digest.hex), bytes);
    return { mediaType, digest: digest.toString(), size: bytes.length };
  };
  const sourceIndex = JSON.parse(
    await readFile(join(job.sourceLayoutDir, "index.json"), "utf8"),
  ) as { manifests: Desc[] };
  const sourceRef = sourceIndex.manifests.find(
    (m) => m.annotations?.["org.opencontainers.image.ref.name"] === SOURCE_TAG,
  );
  if (!sourceRef) throw new Error("no source tag in the source layout");
  const sourceBlob = (d: string): Promise<Buffer> =>
    readFile(join(job.sourceLayoutDir, "blobs", ...d.split(":")));
  const source = JSON.parse((await sourceBlob(sourceRef.digest)).toString("utf8")) as {
    config: Desc;
    layers: Desc[];
  };
  for (const d of [source.config, ...source.layers]) {
    await blob(d.mediaType, await sourceBlob(d.digest));
  }
  const megabinary = await blob(MediaType.OciLayerGzip, "fake megabinary layer");
  const augmented = await blob(
    MediaType.OciManifest,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: source.config,
      layers: [...source.layers, megabinary],
      annotations: {
        "dev.megalift.mapping": "{}",
        "org.opencontainers.image.base.name": job.sourceName,
      },
    }),
  );
  const index = await blob(
    MediaType.OciIndex,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [{ ...augmented, platform: { os: "linux", architecture: "amd64" } }],
    }),
  );
  const empty = await blob("application/vnd.oci.empty.v1+json", "{}");
  const bundle = await blob(BUNDLE_TYPE, '{"fake":"bundle"}');
  const referrer = await blob(
    MediaType.OciManifest,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType: BUNDLE_TYPE,
      config: empty,
      layers: [bundle],
      subject: augmented,
    }),
  );
  const referrersIndex = await blob(
    MediaType.OciIndex,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [{ ...referrer, artifactType: BUNDLE_TYPE }],
    }),
  );
  const cosign = await blob(
    MediaType.OciManifest,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: empty,
      layers: [{ ...bundle, annotations: { "dev.cosignproject.cosign/signature": "x" } }],
    }),
  );
  const hex = augmented.digest.slice("sha256:".length);
  const tagged = (d: Desc, tag: string): Desc => ({
    ...d,
    annotations: { "org.opencontainers.image.ref.name": tag },
  });
  await writeFile(
    join(out, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [
        tagged(index, "transformed"),
        tagged(referrersIndex, `sha256-${hex}`),
        tagged(cosign, `sha256-${hex}.sig`),
      ],
    }),
  );
  return {
    indexDigest: index.digest,
    manifestDigest: augmented.digest,
    toolchainVersion: "test-toolchain",
    milliseconds: { total: 1 },
    lifted: 1,
    liftedFromCache: 0,
    omitted: 0,
    megabinaryBytes: 21,
  };
}

export interface TransformHarness extends ProxyInstance {
  readonly upstream: FakeUpstream;
  readonly runner: FakeTransformRunner;
  readonly dir: string;
  readonly logs: LogRecord[];
  readonly clock: { now: number };
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export interface TransformHarnessOptions {
  readonly dir?: string;
  readonly upstream?: FakeUpstream;
  readonly runner?: FakeTransformRunner;
  readonly transform?: Partial<TransformConfig>;
  readonly repositories?: readonly RepositoryRule[];
  readonly toolchainVersion?: string;
}

export async function makeTransformHarness(
  options: TransformHarnessOptions = {},
): Promise<TransformHarness> {
  const upstream = options.upstream ?? new FakeUpstream();
  const runner = options.runner ?? new FakeTransformRunner();
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "megalift-transform-")));
  const host = upstream.endpoint.host;
  const upstreams = new Map<string, UpstreamConfig>([[host, { host, url: `http://${host}` }]]);
  const logs: LogRecord[] = [];
  const clock = { now: 1_700_000_000_000 };
  const proxy = await createProxy(
    {
      listen: "127.0.0.1:0",
      mode: "transform",
      repositories: options.repositories ?? [],
      transform: { ...DEFAULT_TRANSFORM, waitSeconds: 30, ...options.transform },
      cache: { dir, maxBytes: 1024 ** 3, tagTtlSeconds: 300, verifyBeforeServeBytes: 0 },
      upstreams,
      defaultUpstream: host,
    },
    {
      clientFactory: () => upstream,
      logger: { log: (record) => logs.push(record) },
      now: () => clock.now,
      transformRunner: runner,
      toolchainVersion: options.toolchainVersion ?? "test-toolchain",
    },
  );
  return {
    ...proxy,
    upstream,
    runner,
    dir,
    logs,
    clock,
    request: async (path, init) => proxy.app.request(path, init),
    close: async () => {
      proxy.transforms?.close();
      await proxy.fetcher.close();
    },
  };
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
