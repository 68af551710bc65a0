// The transform child process (transform-runner.ts forks it): receives one
// TransformJob over IPC, runs transformImage from the source layout into the
// output layout, signing with the proxy's key, and reports progress (at most
// a few messages a second, and every stage change) and the result.
import { readFile } from "node:fs/promises";
import { isMegaliftError } from "../../src/errors.js";
import { openLayoutSource } from "../../src/oci/layout.js";
import { registerTransport } from "../../src/oci/sources.js";
import { transformImage, type TransformProgress } from "../../src/pipeline/transform.js";
import { localKeySigning } from "../../src/sign/signer.js";
import { SOURCE_TAG } from "./source-layout.js";
import type { ChildMessage, TransformJob } from "./transform-runner.js";

const PROGRESS_INTERVAL_MS = 250;

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, undefined, () => resolve());
  });
}

async function main(job: TransformJob): Promise<void> {
  // The source is named as the registry image it is (its base-name
  // annotations then say where it came from), but read from the layout the
  // proxy wrote: in this process, "docker://" opens that layout.
  registerTransport("docker", (_reference, display) =>
    openLayoutSource({ transport: "oci", dir: job.sourceLayoutDir, tag: SOURCE_TAG }, display),
  );
  let lastStage: string | undefined;
  let lastSent = 0;
  const onProgress = (progress: TransformProgress): void => {
    const now = Date.now();
    const finished = progress.done !== undefined && progress.done === progress.total;
    if (progress.stage === lastStage && !finished && now - lastSent < PROGRESS_INTERVAL_MS) return;
    lastStage = progress.stage;
    lastSent = now;
    void send({ kind: "progress", progress });
  };
  const summary = await transformImage({
    source: `docker://${job.sourceName}`,
    destination: `oci:${job.outputDir}:transformed`,
    signing: localKeySigning(await readFile(job.signingKeyFile)),
    cacheDir: job.workDir,
    onProgress,
    ...(job.workers !== undefined ? { workers: job.workers } : {}),
    ...(job.liftOptimize !== undefined ? { liftOptimize: job.liftOptimize } : {}),
    ...(job.compileOptimize !== undefined ? { compileOptimize: job.compileOptimize } : {}),
  });
  await send({
    kind: "done",
    result: {
      indexDigest: summary.indexDigest,
      manifestDigest: summary.manifestDigest,
      toolchainVersion: summary.toolchainVersion,
      milliseconds: summary.milliseconds,
      lifted: summary.lifted.length,
      liftedFromCache: summary.lifted.filter((l) => l.fromCache).length,
      omitted: summary.omitted.length,
      megabinaryBytes: summary.megabinaryBytes,
    },
  });
}

process.once("message", (job: TransformJob) => {
  main(job).then(
    () => process.exit(0),
    async (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      await send({
        kind: "failed",
        ...(isMegaliftError(err) ? { code: err.code } : {}),
        message: message.split("\n")[0] ?? message,
      });
      process.exit(1);
    },
  );
});
