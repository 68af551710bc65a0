// Runs one transform (src/pipeline/transform.ts transformImage) away from
// the proxy's event loop: in a child process, so lifting's CPU work never
// stalls requests, and so the time limit can stop it — killing the child
// ends its lift worker threads with it, and transformImage needs no
// cancellation of its own. The child (transform-child.ts) reports progress
// and its result over the IPC channel.
import { fork } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { packageRoot } from "../../src/package-root.js";
import type { TransformProgress } from "../../src/pipeline/transform.js";

export type TransformFailureCode =
  /** transformImage threw (the child reported the error). */
  | "TRANSFORM_FAILED"
  /** The time limit stopped it. */
  | "TRANSFORM_TIMEOUT"
  /** The child process died without a result (killed, out of memory). */
  | "TRANSFORM_CRASHED"
  /** The source image could not be fetched. */
  | "SOURCE_UNAVAILABLE";

/** Why a transform did not finish; the message is one line for logs and error JSON. */
export class TransformFailure extends Error {
  override readonly name = "TransformFailure";
  constructor(
    readonly code: TransformFailureCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One transform to run: layouts in and out, all paths local. */
export interface TransformJob {
  /** An OCI layout holding the source image at tag SOURCE_TAG (source-layout.ts). */
  readonly sourceLayoutDir: string;
  /** HOST/REPOSITORY@DIGEST: how the output's base-name annotations name the source. */
  readonly sourceName: string;
  /** The OCI layout to write the transformed index (tag "transformed") and signatures into. */
  readonly outputDir: string;
  /** The PEM private key that signs the augmented image. */
  readonly signingKeyFile: string;
  /** transformImage's cacheDir: flattened contents and the lift cache, shared by transforms. */
  readonly workDir: string;
  readonly workers?: number;
  readonly liftOptimize?: number;
  readonly compileOptimize?: number;
}

/** The parts of transformImage's summary the proxy keeps. */
export interface TransformResult {
  readonly indexDigest: string;
  readonly manifestDigest: string;
  readonly toolchainVersion: string;
  readonly milliseconds: Readonly<Record<string, number>>;
  readonly lifted: number;
  readonly liftedFromCache: number;
  readonly omitted: number;
  readonly megabinaryBytes: number;
}

/** Messages from the child. */
export type ChildMessage =
  | { readonly kind: "progress"; readonly progress: TransformProgress }
  | { readonly kind: "done"; readonly result: TransformResult }
  | { readonly kind: "failed"; readonly code?: string; readonly message: string };

export interface RunOptions {
  readonly onProgress: (progress: TransformProgress) => void;
  /** Aborting stops the transform (the time limit, shutdown). */
  readonly signal: AbortSignal;
}

/** Runs transforms; the proxy's tests substitute a fake. */
export interface TransformRunner {
  run(job: TransformJob, options: RunOptions): Promise<TransformResult>;
}

/** Where the compiled child entry is: beside this file when running compiled, else in dist/. */
function childFile(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith(".js")) return join(here, "..", "transform-child.js");
  return join(packageRoot(), "dist", "proxy", "transform", "transform-child.js");
}

/** Runs each transform in a `node` child process (transform-child.ts). */
export class ChildProcessTransformRunner implements TransformRunner {
  run(job: TransformJob, options: RunOptions): Promise<TransformResult> {
    return new Promise((resolve, reject) => {
      options.signal.throwIfAborted();
      const child = fork(childFile(), [], {
        // Not the parent's loaders or inspector flags: the child runs compiled JavaScript.
        execArgv: [],
        stdio: ["ignore", "ignore", "pipe", "ipc"],
        serialization: "json",
      });
      let settled = false;
      let stderr = "";
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr = (stderr + chunk.toString("utf8")).slice(-4000);
      });
      const finish = (err: Error | undefined, result?: TransformResult): void => {
        if (settled) return;
        settled = true;
        options.signal.removeEventListener("abort", stop);
        if (err) reject(err);
        else resolve(result as TransformResult);
      };
      const stop = (): void => {
        child.kill("SIGKILL");
        const reason: unknown = options.signal.reason;
        finish(
          reason instanceof Error ? reason : new TransformFailure("TRANSFORM_FAILED", "stopped"),
        );
      };
      options.signal.addEventListener("abort", stop, { once: true });
      child.on("message", (message: ChildMessage) => {
        if (message.kind === "progress") options.onProgress(message.progress);
        else if (message.kind === "done") finish(undefined, message.result);
        else {
          const code = message.code !== undefined ? `${message.code}: ` : "";
          finish(new TransformFailure("TRANSFORM_FAILED", `${code}${message.message}`));
        }
      });
      child.on("error", (err) =>
        finish(new TransformFailure("TRANSFORM_CRASHED", err.message, { cause: err })),
      );
      child.on("exit", (code, signal) => {
        const how = signal !== null ? `signal ${signal}` : `status ${code ?? "?"}`;
        const tail = stderr.trim().split("\n").slice(-3).join(" | ");
        finish(
          new TransformFailure(
            "TRANSFORM_CRASHED",
            `the transform process exited with ${how}${tail ? `: ${tail}` : ""}`,
          ),
        );
      });
      child.send(job);
    });
  }
}
