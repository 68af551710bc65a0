// The child-process TransformRunner with the real transformImage (built
// dist/, as in production) on the small demo image: a run writes the
// transformed, signed layout and reports progress; a bad job fails with the
// child's message; aborting kills the child and rejects with the reason.
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../src/package-root.js";
import { generateSigningKeyPair } from "../../src/sign/keys.js";
import type { TransformProgress } from "../../src/pipeline/transform.js";
import { SOURCE_TAG } from "../../proxy/transform/source-layout.js";
import {
  ChildProcessTransformRunner,
  TransformFailure,
  type TransformJob,
} from "../../proxy/transform/transform-runner.js";

const REF_NAME = "org.opencontainers.image.ref.name";
let dir: string;
let job: TransformJob;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "megalift-transform-runner-"));
  // The demo image as the proxy writes a source: an OCI layout tagged SOURCE_TAG.
  const source = join(dir, "source");
  await cp(join(packageRoot(), "fixtures", "images", "demo"), source, { recursive: true });
  const index = JSON.parse(await readFile(join(source, "index.json"), "utf8")) as {
    manifests: { annotations: Record<string, string> }[];
  };
  for (const m of index.manifests) m.annotations[REF_NAME] = SOURCE_TAG;
  await writeFile(join(source, "index.json"), JSON.stringify(index));
  await writeFile(join(dir, "key.pem"), generateSigningKeyPair().privateKeyPem);
  job = {
    sourceLayoutDir: source,
    sourceName: "registry.test/demo@sha256:" + "0".repeat(64),
    outputDir: join(dir, "out"),
    signingKeyFile: join(dir, "key.pem"),
    workDir: join(dir, "work"),
    workers: 1,
    liftOptimize: 0,
  };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("ChildProcessTransformRunner", () => {
  it("transforms and signs into the output layout, reporting progress", async () => {
    const stages = new Set<string>();
    const result = await new ChildProcessTransformRunner().run(job, {
      onProgress: (p: TransformProgress) => stages.add(p.stage),
      signal: new AbortController().signal,
    });
    expect([...stages]).toEqual(expect.arrayContaining(["flatten", "scan", "lift", "sign"]));
    const index = JSON.parse(await readFile(join(job.outputDir, "index.json"), "utf8")) as {
      manifests: { digest: string; annotations?: Record<string, string> }[];
    };
    const tags = Object.fromEntries(
      index.manifests.map((m) => [m.annotations?.[REF_NAME], m.digest]),
    );
    const hex = result.manifestDigest.slice("sha256:".length);
    expect(tags["transformed"]).toBe(result.indexDigest);
    expect(tags[`sha256-${hex}`]).toBeDefined();
    expect(tags[`sha256-${hex}.sig`]).toBeDefined();
    const augmented = await readFile(
      join(job.outputDir, "blobs", ...result.manifestDigest.split(":")),
      "utf8",
    );
    expect(augmented).toContain(job.sourceName);
  }, 300_000);

  it("fails with the child's message when the source cannot be read", async () => {
    const err = await new ChildProcessTransformRunner()
      .run(
        { ...job, sourceLayoutDir: join(dir, "missing"), outputDir: join(dir, "out-missing") },
        { onProgress: () => undefined, signal: new AbortController().signal },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransformFailure);
    expect((err as TransformFailure).code).toBe("TRANSFORM_FAILED");
    expect((err as Error).message).toMatch(/missing/);
  }, 60_000);

  it("kills the child when aborted, rejecting with the reason", async () => {
    const controller = new AbortController();
    const reason = new TransformFailure("TRANSFORM_TIMEOUT", "stopped by the test");
    let progressAfterAbort = 0;
    const run = new ChildProcessTransformRunner().run(
      { ...job, outputDir: join(dir, "out-aborted"), workDir: join(dir, "work-aborted") },
      {
        onProgress: () => {
          if (controller.signal.aborted) progressAfterAbort++;
          else controller.abort(reason);
        },
        signal: controller.signal,
      },
    );
    await expect(run).rejects.toBe(reason);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(progressAfterAbort).toBe(0);
  }, 60_000);
});
