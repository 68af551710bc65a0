// Lifting in parallel worker threads (ARCHITECTURE.md "Measured facts":
// binaryen is single-threaded, so parallelism comes from threads). A small
// ELF is one task: a worker lifts it whole through the lift cache. A big one
// (lift-shard-plan.ts shardCountFor) is split into shard tasks, one per
// worker at most, and this thread assembles their modules (issue 4 item 7).
//
// This thread plans a sharded lift (parse, decode, discover: once, not in
// every worker) and sends each shard task its functions (lift-shard-plan.ts
// ShardWork). Shard tasks and whole-ELF tasks share the one FIFO queue and
// the one set of workers, so lifting a big ELF among many small ones
// (transform) never runs more than `workers` lifting threads; the planning
// and assembly of a sharded ELF run here, beside them. A shard waits (after
// lifting, before its passes) for the outlines of the other shards of its
// ELF; they were queued with it and are at most as many as the workers, so
// the queue cannot deadlock.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { packageRoot } from "../package-root.js";
import { DEFAULT_OPTIMIZE } from "./abi.js";
import { liftWithCache, type CachedLift } from "./lift-cache.js";
import type { LiftLayout, LiftResult, PlanFacts } from "./lift-elf.js";
import { failureError, type FromWorker, type ToWorker } from "./lift-pool-messages.js";
import {
  codeBytesOf,
  guestImageOf,
  shardCountFor,
  shardWork,
  type ShardWork,
} from "./lift-shard-plan.js";
import type { ShardOutline } from "./lift-shard.js";

/**
 * The compiled worker script: beside this module in dist/src/lift/, or found
 * from the package root when this runs from the sources (tests) or from the
 * bundled CLI (dist/bundle/, scripts/bundle.mjs), whose chunks end in .mjs.
 */
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
  /** Code bytes per shard (default SHARD_CODE_BYTES; tests shard small fixtures). */
  readonly shardCodeBytes?: number;
}

export interface LiftPool {
  /** Lifts one ELF through the cache; rejects with the lifter's error (code kept) when it cannot. */
  lift(name: string, bytes: Uint8Array): Promise<CachedLift>;
  /** Lifts one ELF now, sharded across the workers when it is big enough (no cache). */
  liftNow(name: string, bytes: Uint8Array): Promise<LiftResult>;
  close(): Promise<void>;
}

/** Work for one worker: `onMessage` answers true when the worker is free again. */
interface Task {
  readonly message: ToWorker;
  onMessage(message: FromWorker, worker: Worker): boolean;
  fail(err: Error): void;
}

/** A shard's first step, and the worker that waits for its layout. */
interface Outlined {
  readonly outline: ShardOutline;
  readonly worker: Worker;
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(err: Error): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A rejection is read where the step is awaited; do not report it as unhandled meanwhile.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** The plan of a sharded lift, made here once: what the report needs and each shard's work. */
async function planShards(
  name: string,
  bytes: Uint8Array,
  count: number,
): Promise<{ facts: PlanFacts; works: ShardWork[] }> {
  const { planFacts } = await import("./lift-elf.js");
  const { planLift } = await import("./lift-shard-discover.js");
  const plan = planLift(name, bytes);
  try {
    const works = Array.from({ length: count }, (_, i) =>
      shardWork(plan.functions, plan.touched, plan.stubs, plan.inlinable, i, count),
    );
    return { facts: planFacts(plan), works };
  } finally {
    plan.dispose();
  }
}

export function createLiftPool(options: LiftPoolOptions = {}): LiftPool {
  const size = Math.max(1, options.workers ?? availableParallelism());
  const optimize = options.optimize ?? DEFAULT_OPTIMIZE;
  const idle: Worker[] = [];
  const all: Worker[] = [];
  const queue: Task[] = [];
  const running = new Map<Worker, Task>();
  let nextId = 0;
  let closed = false;

  const pump = (): void => {
    while (queue.length > 0) {
      let worker = idle.pop();
      if (worker === undefined && all.length < size) worker = spawnWorker();
      if (worker === undefined) return;
      const task = queue.shift() as Task;
      running.set(worker, task);
      worker.postMessage(task.message);
    }
  };

  const spawnWorker = (): Worker => {
    const worker = new Worker(workerFile());
    all.push(worker);
    worker.on("message", (message: FromWorker) => {
      const task = running.get(worker);
      if (task?.onMessage(message, worker) !== true) return;
      running.delete(worker);
      idle.push(worker);
      pump();
    });
    worker.on("error", (err) => {
      const task = running.get(worker);
      running.delete(worker);
      all.splice(all.indexOf(worker), 1);
      task?.fail(err);
      pump();
    });
    return worker;
  };

  const submit = (task: Task): void => {
    queue.push(task);
    pump();
  };

  /** Starts workers for `count` shards, loading the lifter while this thread plans. */
  const warmUp = (count: number): void => {
    while (all.length < Math.min(size, count)) {
      const worker = spawnWorker();
      idle.push(worker);
      worker.postMessage({ kind: "warm" } satisfies ToWorker);
    }
  };

  /**
   * Lifts `name` in `count` shard tasks: this thread plans the lift, each
   * task lifts and outlines its shard, this thread lays out the final
   * module, each emits its code in that layout, and this thread splices it
   * together (lift-elf.ts: the same steps in one thread). Every shard waits for all the outlines: the shards of one
   * ELF are queued together and `count` is at most the pool's size, so they
   * all get a worker.
   */
  const liftSharded = async (
    name: string,
    bytes: Uint8Array,
    count: number,
  ): Promise<LiftResult> => {
    const started = performance.now();
    warmUp(count);
    const lifter = await import("./lift-elf.js");
    const { facts, works } = await planShards(name, bytes, count);
    const outlined: Deferred<Outlined>[] = [];
    const emitted: Deferred<Uint8Array>[] = [];
    const ids: number[] = [];
    for (let index = 0; index < count; index++) {
      const id = nextId++;
      const outline = deferred<Outlined>();
      const code = deferred<Uint8Array>();
      ids.push(id);
      outlined.push(outline);
      emitted.push(code);
      const fail = (err: Error): void => {
        outline.reject(err);
        code.reject(err);
      };
      submit({
        message: { kind: "shard", id, name, bytes, work: works[index] as ShardWork, optimize },
        onMessage(message, worker) {
          if (message.kind === "outline") {
            outline.resolve({ outline: message.outline, worker });
            return false;
          }
          if (message.kind !== "shard-done") return false;
          if (message.ok) code.resolve(message.wasm);
          else fail(failureError(message));
          return true;
        },
        fail,
      });
    }
    const outlines = await Promise.allSettled(outlined.map((d) => d.promise));
    // Stops the shards waiting for a layout that will not come, then reports `err`.
    const abort = async (err: unknown): Promise<never> => {
      outlines.forEach((o, j) => {
        if (o.status === "fulfilled")
          o.value.worker.postMessage({ kind: "abort", id: ids[j] as number } satisfies ToWorker);
      });
      await Promise.allSettled(emitted.map((d) => d.promise));
      throw err;
    };
    const failure = outlines.find((o) => o.status === "rejected");
    if (failure !== undefined) return abort(failure.reason);
    const done = outlines.map((o) => (o as PromiseFulfilledResult<Outlined>).value);
    let layout: LiftLayout;
    try {
      layout = lifter.layoutLift(
        name,
        facts,
        done.map((d) => d.outline),
        optimize,
      );
    } catch (err) {
      return abort(err);
    }
    done.forEach((d, j) => {
      d.worker.postMessage({
        kind: "layout",
        id: ids[j] as number,
        layout: layout.skeleton.layout,
        trapOffset: layout.trapOffsets[j] as number,
      } satisfies ToWorker);
    });
    const code = await Promise.all(emitted.map((d) => d.promise));
    return lifter.finishLift(
      name,
      facts,
      done.map((d) => d.outline),
      layout,
      code,
      { optimize, started },
    );
  };

  /** How many shards `bytes` gets here (1: lift it whole); throws for a file that is not an ELF. */
  const shardsFor = (name: string, bytes: Uint8Array): number =>
    optimize > 1
      ? 1
      : shardCountFor(codeBytesOf(guestImageOf(name, bytes)), size, options.shardCodeBytes);

  const liftWhole = (name: string, bytes: Uint8Array): Promise<CachedLift> =>
    new Promise<CachedLift>((resolve, reject) => {
      submit({
        message: { kind: "elf", id: nextId++, name, bytes, optimize, cacheDir: options.cacheDir },
        onMessage(message) {
          if (message.kind !== "elf-done") return false;
          const r = message.result;
          if (r.ok) resolve(r.lifted);
          else reject(failureError(r));
          return true;
        },
        fail: reject,
      });
    });

  return {
    async lift(name, bytes) {
      if (closed) throw new Error("lift pool is closed");
      let count: number;
      try {
        count = shardsFor(name, bytes);
      } catch {
        // Not an ELF (or a broken one): the worker's lift reports it as before.
        count = 1;
      }
      if (count === 1) return liftWhole(name, bytes);
      return liftWithCache(name, bytes, {
        optimize,
        ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
        lifter: () => liftSharded(name, bytes, count),
      });
    },
    async liftNow(name, bytes) {
      if (closed) throw new Error("lift pool is closed");
      if (optimize > 1)
        throw new Error("liftNow shards light lifts only; lift -O2/-O3 with liftElf");
      return liftSharded(name, bytes, shardsFor(name, bytes));
    },
    async close() {
      closed = true;
      await Promise.all(all.map((w) => w.terminate()));
    },
  };
}
