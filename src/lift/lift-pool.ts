// Lifting in parallel worker threads (ARCHITECTURE.md "Measured facts":
// binaryen is single-threaded, so parallelism comes from lifting different
// ELF files at once). Each job goes through the lift cache, so a file lifted
// before — in this image or another — costs a file read.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { MegaliftError, type ErrorCode } from "../errors.js";
import { packageRoot } from "../package-root.js";
import type { CachedLift } from "./lift-cache.js";

export interface LiftJob {
  readonly id: number;
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly optimize?: number | undefined;
  readonly cacheDir?: string | undefined;
}

export type LiftJobResult =
  | { readonly id: number; readonly ok: true; readonly lifted: CachedLift }
  | {
      readonly id: number;
      readonly ok: false;
      readonly code: string | undefined;
      readonly message: string;
    };

/** The compiled worker script (tests run the sources; workers need the build in dist/). */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith(".js")) return join(here, "..", "lift-worker.js");
  return join(packageRoot(), "dist", "src", "lift", "lift-worker.js");
}

export interface LiftPoolOptions {
  /** Worker threads (default: the machine's parallelism). */
  readonly workers?: number;
  readonly optimize?: number;
  readonly cacheDir?: string;
}

export interface LiftPool {
  /** Lifts one ELF; rejects with the lifter's error (code kept) when it cannot. */
  lift(name: string, bytes: Uint8Array): Promise<CachedLift>;
  close(): Promise<void>;
}

export function createLiftPool(options: LiftPoolOptions = {}): LiftPool {
  const size = Math.max(1, options.workers ?? availableParallelism());
  const idle: Worker[] = [];
  const all: Worker[] = [];
  const queue: { job: LiftJob; settle: (r: LiftJobResult) => void; fail: (e: Error) => void }[] =
    [];
  const running = new Map<Worker, (typeof queue)[number]>();
  let nextId = 0;
  let closed = false;

  const pump = (): void => {
    while (queue.length > 0) {
      let worker = idle.pop();
      if (worker === undefined && all.length < size) worker = spawnWorker();
      if (worker === undefined) return;
      const item = queue.shift() as (typeof queue)[number];
      running.set(worker, item);
      worker.postMessage(item.job);
    }
  };

  const spawnWorker = (): Worker => {
    const worker = new Worker(workerFile());
    all.push(worker);
    worker.on("message", (result: LiftJobResult) => {
      const item = running.get(worker);
      running.delete(worker);
      idle.push(worker);
      item?.settle(result);
      pump();
    });
    worker.on("error", (err) => {
      const item = running.get(worker);
      running.delete(worker);
      all.splice(all.indexOf(worker), 1);
      item?.fail(err);
      pump();
    });
    return worker;
  };

  return {
    lift(name, bytes) {
      if (closed) return Promise.reject(new Error("lift pool is closed"));
      return new Promise<CachedLift>((resolve, reject) => {
        const job: LiftJob = {
          id: nextId++,
          name,
          bytes,
          optimize: options.optimize,
          cacheDir: options.cacheDir,
        };
        queue.push({
          job,
          settle: (r) => {
            if (r.ok) resolve(r.lifted);
            else if (r.code !== undefined)
              reject(new MegaliftError(r.code as ErrorCode, r.message));
            else reject(new Error(r.message));
          },
          fail: reject,
        });
        pump();
      });
    },
    async close() {
      closed = true;
      await Promise.all(all.map((w) => w.terminate()));
    },
  };
}
