// Transform on pull. A tag pull in a transform-mode repository resolves the
// tag upstream (ManifestService: TTL, revalidation, stale-while-down), then
// serves the transformed index for (source digest, toolchain version):
// from the TransformStore when it exists, else after running the one
// transform every concurrent pull waits for (SingleFlight). A pull waits at
// most `waitSeconds`; then, or after a failure, it is answered 503
// UNAVAILABLE with Retry-After and the state in the error detail — never a
// hang, and never a partial artifact (the store commits whole transforms
// only). Digest pulls are not this service's concern: the manifest and blob
// services serve the transforms' content first and the source's otherwise.
import { join } from "node:path";
import { MediaType } from "../../src/oci/media-types.js";
import { Digest } from "../../src/oci/digest.js";
import type { TransformProgress } from "../../src/pipeline/transform.js";
import type { StoredManifest } from "../cache/cache-store.js";
import { SingleFlight } from "../cache/single-flight.js";
import type { TransformConfig } from "../config/proxy-config.js";
import type { AcceptSet } from "../http/accept.js";
import type { ManifestReference } from "../http/v2-path.js";
import type { Logger } from "../observability/logger.js";
import type { ProxyMetrics } from "../observability/metrics.js";
import type { RequestStats } from "../observability/request-stats.js";
import type { RouteTarget } from "../routing/upstream-router.js";
import type { BlobService } from "../services/blob-service.js";
import type { ManifestService } from "../services/manifest-service.js";
import { ConcurrencyLimit } from "./concurrency-limit.js";
import { writeServedIndex } from "./output-index.js";
import type { RepositoryModes } from "./repository-modes.js";
import { NotTransformable, planSource, writeSourceLayout } from "./source-layout.js";
import { TransformFailure, type TransformRunner } from "./transform-runner.js";
import {
  doneStatus,
  failedError,
  progressFields,
  runningError,
  type FailedTransform,
  type TransformStatus,
} from "./transform-status.js";
import { transformKey, type StoredTransform, type TransformStore } from "./transform-store.js";

export interface TransformServiceDeps {
  readonly store: TransformStore;
  readonly runner: TransformRunner;
  readonly manifests: ManifestService;
  readonly blobs: BlobService;
  readonly modes: RepositoryModes;
  readonly config: TransformConfig;
  /** The PEM private key file the transform signs with. */
  readonly signingKeyFile: string;
  readonly toolchainVersion: string;
  /** transformImage's cache (flattened contents, lifts). */
  readonly workDir: string;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
  readonly now: () => number;
}

export interface ManifestAnswer {
  readonly manifest: StoredManifest;
  /** Extra response headers (a Warning when a source is served untransformed). */
  readonly headers?: Readonly<Record<string, string>>;
}

export class TransformService {
  private readonly flights = new SingleFlight<StoredTransform>();
  private readonly status = new Map<string, TransformStatus>();
  private readonly failures = new Map<string, FailedTransform>();
  private readonly limit: ConcurrencyLimit;
  private readonly shutdown = new AbortController();
  private running = 0;

  constructor(private readonly deps: TransformServiceDeps) {
    this.limit = new ConcurrencyLimit(deps.config.maxConcurrent);
    for (const stored of deps.store.all()) this.status.set(stored.key, doneStatus(stored));
    deps.metrics.defineCounter(
      "megalift_proxy_transforms_total",
      "Transforms finished since start, by result (done, failed).",
    );
    deps.metrics.defineCounter(
      "megalift_proxy_transformed_pulls_total",
      "Tag pulls answered with a transformed index, by whether it was already made (hit) or made for them (miss).",
    );
    deps.metrics.defineGauge(
      "megalift_proxy_transforms_running",
      "Transforms running or queued now.",
      () => this.running,
    );
  }

  /** Every transform this proxy knows: finished ones on disk, and those running or failed since start. */
  list(): TransformStatus[] {
    return [...this.status.values()];
  }

  /** The manifest for a pull: transformed for tags of transform-mode repositories. */
  async manifest(
    target: RouteTarget,
    reference: ManifestReference,
    accept: AcceptSet,
    stats?: RequestStats,
  ): Promise<ManifestAnswer> {
    const { manifests, store, modes } = this.deps;
    if (reference.kind === "digest")
      return { manifest: await manifests.get(target, reference, stats) };
    if (modes.modeOf(target.upstream.host, target.repository) === "passthrough") {
      return { manifest: await manifests.get(target, reference, stats) };
    }
    // The signatures of a transformed image are tags the proxy itself wrote.
    const signature = store.signatureTag(reference.tag);
    if (signature !== undefined) {
      const manifest = await store.getManifest(signature);
      if (manifest) return { manifest };
    }
    const source = await manifests.get(target, reference, stats);
    const key = transformKey(source.digest, this.deps.toolchainVersion);
    let stored = store.get(key);
    const hit = stored !== undefined;
    if (stored === undefined) {
      const outcome = await this.awaitTransform(key, target, source);
      if ("untransformed" in outcome) {
        return {
          manifest: source,
          headers: { Warning: `199 megalift "served untransformed: ${outcome.untransformed}"` },
        };
      }
      stored = outcome.stored;
    }
    this.deps.metrics.add("megalift_proxy_transformed_pulls_total", {
      cache: hit ? "hit" : "miss",
    });
    const index = await store.getManifest(Digest.parse(stored.record.indexDigest));
    if (index === undefined) throw new Error(`transform ${key} lost its index`);
    // A client that takes images but no index gets the augmented linux/amd64 image.
    if (!accept.accepts(index.mediaType) && accept.accepts(MediaType.OciManifest)) {
      const image = await store.getManifest(Digest.parse(stored.record.manifestDigest));
      if (image) return { manifest: image };
    }
    return { manifest: index };
  }

  /** Stops running transforms (their children are killed); used at shutdown. */
  close(): void {
    this.shutdown.abort(new TransformFailure("TRANSFORM_FAILED", "the proxy is shutting down"));
  }

  private async awaitTransform(
    key: string,
    target: RouteTarget,
    source: StoredManifest,
  ): Promise<{ stored: StoredTransform } | { untransformed: string }> {
    const failure = this.failures.get(key);
    if (failure && this.deps.now() < failure.retryAt)
      throw failedError(this.status.get(key), failure, this.deps.now());
    const flight = this.flights.run(key, () => this.transform(key, target, source));
    // Waiters may give up; the flight still settles, and nothing may go unhandled.
    flight.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<"waiting">((resolve) => {
      timer = setTimeout(() => resolve("waiting"), this.deps.config.waitSeconds * 1000);
    });
    try {
      const outcome = await Promise.race([flight, waited]);
      if (outcome === "waiting") throw runningError(this.status.get(key));
      return { stored: outcome };
    } catch (err) {
      if (err instanceof NotTransformable) return { untransformed: err.message };
      if (err instanceof TransformFailure) {
        const recorded = this.failures.get(key);
        const failure = recorded ?? { error: err, retryAt: this.deps.now() };
        throw failedError(this.status.get(key), failure, this.deps.now());
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private async transform(
    key: string,
    target: RouteTarget,
    source: StoredManifest,
  ): Promise<StoredTransform> {
    const { config, logger } = this.deps;
    const repository = `${target.upstream.host}/${target.repository}`;
    // Decided before queueing: what is not a linux/amd64 image is served as it is.
    const plan = await planSource(this.deps.manifests, target, source, config.otherPlatforms);
    const base = {
      sourceDigest: source.digest.toString(),
      repository,
      toolchainVersion: this.deps.toolchainVersion,
    };
    this.status.set(key, { ...base, state: "queued" });
    this.running++;
    try {
      return await this.limit.run(() => this.runOne(key, target, source, plan, base));
    } catch (err) {
      const error =
        err instanceof TransformFailure
          ? err
          : new TransformFailure(
              "TRANSFORM_FAILED",
              err instanceof Error ? err.message : String(err),
              {
                cause: err,
              },
            );
      const retryAt = this.deps.now() + config.retryFailedAfterSeconds * 1000;
      this.failures.set(key, { error, retryAt });
      this.status.set(key, {
        ...this.status.get(key),
        ...base,
        state: "failed",
        finishedAt: new Date(this.deps.now()).toISOString(),
        error: { code: error.code, message: error.message },
        retryAt: new Date(retryAt).toISOString(),
      });
      this.deps.metrics.add("megalift_proxy_transforms_total", { result: "failed" });
      logger.log({
        level: "error",
        msg: "transform failed",
        ...base,
        code: error.code,
        error: error.message,
      });
      throw error;
    } finally {
      this.running--;
    }
  }

  private async runOne(
    key: string,
    target: RouteTarget,
    source: StoredManifest,
    plan: Awaited<ReturnType<typeof planSource>>,
    base: Pick<TransformStatus, "sourceDigest" | "repository" | "toolchainVersion">,
  ): Promise<StoredTransform> {
    const { config, store, logger } = this.deps;
    const startedAt = new Date(this.deps.now()).toISOString();
    const started = performance.now();
    const update = (progress: Partial<TransformStatus>): void => {
      const previous = this.status.get(key);
      this.status.set(key, { ...base, state: "running", startedAt, ...progress });
      if (progress.stage !== undefined && previous?.stage !== progress.stage) {
        logger.log({
          level: "info",
          msg: "transform stage",
          sourceDigest: base.sourceDigest,
          repository: base.repository,
          stage: progress.stage,
        });
      }
    };
    logger.log({
      level: "info",
      msg: "transform started",
      ...base,
      image: plan.image.digest.toString(),
    });
    update({ stage: "fetch" });
    const timeout = AbortSignal.timeout(config.timeoutSeconds * 1000);
    const signal = AbortSignal.any([timeout, this.shutdown.signal]);
    const building = await store.begin();
    try {
      const stopped = new Promise<never>((_, reject) => {
        const fail = (): void =>
          reject(
            timeout.aborted
              ? new TransformFailure(
                  "TRANSFORM_TIMEOUT",
                  `stopped after the ${config.timeoutSeconds} s time limit`,
                )
              : (signal.reason as Error),
          );
        if (signal.aborted) fail();
        signal.addEventListener("abort", fail, { once: true });
      });
      stopped.catch(() => undefined);
      const sourceDir = join(building, "source");
      await Promise.race([
        writeSourceLayout(sourceDir, plan, this.deps.blobs, target, signal).catch(
          (err: unknown) => {
            throw new TransformFailure(
              "SOURCE_UNAVAILABLE",
              `cannot fetch the source image: ${err instanceof Error ? err.message : String(err)}`,
              { cause: err },
            );
          },
        ),
        stopped,
      ]);
      const layoutDir = join(building, "layout");
      const result = await Promise.race([
        this.deps.runner.run(
          {
            sourceLayoutDir: sourceDir,
            sourceName: `${target.upstream.host}/${target.repository}@${plan.image.digest.toString()}`,
            outputDir: layoutDir,
            signingKeyFile: this.deps.signingKeyFile,
            workDir: this.deps.workDir,
            ...(config.workers !== undefined ? { workers: config.workers } : {}),
            ...(config.liftOptimize !== undefined ? { liftOptimize: config.liftOptimize } : {}),
            ...(config.compileOptimize !== undefined
              ? { compileOptimize: config.compileOptimize }
              : {}),
          },
          { onProgress: (p: TransformProgress) => update(progressFields(p)), signal },
        ),
        stopped,
      ]);
      const indexDigest = await writeServedIndex(
        layoutDir,
        Digest.parse(result.indexDigest),
        source.digest,
        plan,
      );
      await store.discard(sourceDir);
      const stored = await store.commit(building, key, {
        sourceDigest: source.digest.toString(),
        sourceImageDigest: plan.image.digest.toString(),
        repository: base.repository,
        toolchainVersion: this.deps.toolchainVersion,
        indexDigest: indexDigest.toString(),
        manifestDigest: result.manifestDigest,
        finishedAt: new Date(this.deps.now()).toISOString(),
        milliseconds: {
          ...result.milliseconds,
          proxyTotal: Math.round(performance.now() - started),
        },
      });
      this.failures.delete(key);
      this.status.set(key, { ...doneStatus(stored), startedAt });
      this.deps.metrics.add("megalift_proxy_transforms_total", { result: "done" });
      logger.log({
        level: "info",
        msg: "transform done",
        ...base,
        indexDigest: stored.record.indexDigest,
        manifestDigest: stored.record.manifestDigest,
        ms: stored.record.milliseconds["proxyTotal"],
        lifted: result.lifted,
        liftedFromCache: result.liftedFromCache,
        omitted: result.omitted,
      });
      return stored;
    } catch (err) {
      await store.discard(building);
      throw err;
    }
  }
}
