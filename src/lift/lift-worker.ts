// A worker thread of the lift pool (lift-pool.ts sends the tasks): a whole
// ELF through the lift cache, or one shard of a big ELF — its functions,
// planned by the pool, lifted and outlined, then, once the pool has laid
// out the final module, emitted in that layout for the pool to splice. One
// binaryen module lives in one thread, so each shard is a module of its own.
import { parentPort } from "node:worker_threads";
import { liftWithCache } from "./lift-cache.js";
import {
  describeFailure,
  type FromWorker,
  type LiftJob,
  type ShardJob,
  type ShardLayoutMessage,
  type ToWorker,
} from "./lift-pool-messages.js";
import type { ShardLift } from "./lift-shard.js";

if (parentPort === null) throw new Error("lift-worker.js runs as a worker thread only");
const port = parentPort;
const post = (message: FromWorker): void => port.postMessage(message);

/** Shards waiting for their layout, by task id. */
const layouts = new Map<number, Deferred>();

interface Deferred {
  resolve(message: ShardLayoutMessage): void;
  reject(err: Error): void;
}

function liftElfJob(job: LiftJob): void {
  liftWithCache(job.name, job.bytes, {
    optimize: job.optimize,
    ...(job.cacheDir !== undefined ? { cacheDir: job.cacheDir } : {}),
  }).then(
    (lifted) => post({ kind: "elf-done", result: { id: job.id, ok: true, lifted } }),
    (err: unknown) => post({ kind: "elf-done", result: { id: job.id, ...describeFailure(err) } }),
  );
}

/** The job's functions, unpacked (lift-shard-work.ts) and lifted. */
async function liftShard({ name, bytes, work }: ShardJob): Promise<ShardLift> {
  // Loaded on the first shard: a pool that only meets cached files never loads binaryen.
  const { ShardLift } = await import("./lift-shard.js");
  const { decodeShard } = await import("./lift-shard-work.js");
  const decoded = decodeShard(name, bytes, work);
  try {
    const callees = new Map(work.entries.map((entry, k) => [entry, work.touched[k] as number]));
    return new ShardLift(
      name,
      work.index,
      decoded.functions,
      callees,
      new Map(work.stubs),
      decoded.inlinable,
    );
  } finally {
    decoded.dispose();
  }
}

async function liftShardJob(job: ShardJob): Promise<void> {
  const shard = await liftShard(job);
  try {
    const layout = new Promise<ShardLayoutMessage>((resolve, reject) =>
      layouts.set(job.id, { resolve, reject }),
    );
    post({ kind: "outline", id: job.id, outline: shard.outline() });
    const { layout: slots, trapOffset } = await layout;
    const wasm = shard.emitInLayout(slots, trapOffset, job.optimize);
    // Moved, not copied, when the binary owns its whole buffer (never binaryen's heap).
    const own = wasm.byteOffset === 0 && wasm.byteLength === wasm.buffer.byteLength;
    const message: FromWorker = { kind: "shard-done", id: job.id, ok: true, wasm };
    port.postMessage(message, own ? [wasm.buffer as ArrayBuffer] : []);
  } finally {
    layouts.delete(job.id);
    shard.dispose();
  }
}

port.on("message", (message: ToWorker) => {
  switch (message.kind) {
    case "elf":
      liftElfJob(message);
      break;
    case "shard":
      liftShardJob(message).catch((err: unknown) =>
        post({ kind: "shard-done", id: message.id, ...describeFailure(err) }),
      );
      break;
    case "layout":
      layouts.get(message.id)?.resolve(message);
      break;
    case "abort":
      layouts.get(message.id)?.reject(new Error("another shard of this ELF failed"));
      break;
    case "warm":
      // Failures surface where the shard imports these again.
      import("./lift-shard-work.js").then(() => import("./lift-shard.js")).catch(() => undefined);
      break;
  }
});
