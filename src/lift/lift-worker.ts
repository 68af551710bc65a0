// A worker thread that lifts ELF files through the lift cache (lift-pool.ts
// sends the jobs). One binaryen module lives in one thread at a time, so
// parallel lifting means one worker per ELF in flight.
import { parentPort } from "node:worker_threads";
import { liftWithCache } from "./lift-cache.js";
import type { LiftJob, LiftJobResult } from "./lift-pool.js";

if (parentPort === null) throw new Error("lift-worker.js runs as a worker thread only");
const port = parentPort;

port.on("message", (job: LiftJob) => {
  liftWithCache(job.name, job.bytes, { optimize: job.optimize, cacheDir: job.cacheDir }).then(
    (lifted) => {
      const result: LiftJobResult = { id: job.id, ok: true, lifted };
      port.postMessage(result);
    },
    (err: unknown) => {
      const e = err as { code?: unknown; message?: unknown };
      const result: LiftJobResult = {
        id: job.id,
        ok: false,
        code: typeof e.code === "string" ? e.code : undefined,
        message: typeof e.message === "string" ? e.message : String(err),
      };
      port.postMessage(result);
    },
  );
});
