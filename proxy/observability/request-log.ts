// Hono middleware: one structured log line per request (method, path,
// status, bytes, cache hit or miss, upstream and total milliseconds) and the
// request metrics. A streamed body is counted as it is sent, so the line is
// written when the body ends — or is cut off by the client ("aborted": true).
import type { MiddlewareHandler } from "hono";
import type { Logger } from "./logger.js";
import type { ProxyMetrics } from "./metrics.js";
import { newRequestStats, type RequestStats } from "./request-stats.js";

/** What the middleware shares with route handlers through hono's context. */
export interface RequestVariables {
  stats: RequestStats;
  /** A short route name for metrics ("manifest", "blob", …). */
  route: string;
}

export function requestLog(
  logger: Logger,
  metrics: ProxyMetrics,
): MiddlewareHandler<{ Variables: RequestVariables }> {
  return async (c, next) => {
    const started = performance.now();
    const stats = newRequestStats();
    c.set("stats", stats);
    c.set("route", "other");
    metrics.add("megalift_proxy_inflight_requests", {}, 1);
    let finished = false;
    const finish = (bytes: number, aborted: boolean): void => {
      if (finished) return;
      finished = true;
      metrics.add("megalift_proxy_inflight_requests", {}, -1);
      const status = c.res.status;
      metrics.add("megalift_proxy_requests_total", {
        route: c.get("route"),
        method: c.req.method,
        status: String(status),
      });
      const url = new URL(c.req.url);
      logger.log({
        level: "info",
        msg: "request",
        method: c.req.method,
        path: url.pathname + url.search,
        status,
        bytes,
        ...(stats.cache ? { cache: stats.cache } : {}),
        upstreamMs: round(stats.upstreamMs),
        durationMs: round(performance.now() - started),
        ...(aborted ? { aborted: true } : {}),
      });
    };
    try {
      await next();
    } catch (err) {
      finish(0, false);
      throw err;
    }
    const body = c.res.body;
    if (body === null) {
      finish(0, false);
      return;
    }
    c.res = new Response(countBytes(body, metrics, finish), c.res);
  };
}

/** Passes `body` through, counting bytes; `done(bytes, aborted)` when it ends or is cancelled. */
function countBytes(
  body: ReadableStream<Uint8Array>,
  metrics: ProxyMetrics,
  done: (bytes: number, aborted: boolean) => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let bytes = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done: ended, value } = await reader.read();
          if (ended) {
            controller.close();
            done(bytes, false);
            return;
          }
          bytes += value.byteLength;
          metrics.add("megalift_proxy_bytes_served_total", {}, value.byteLength);
          controller.enqueue(value);
        } catch (err) {
          controller.error(err);
          done(bytes, true);
        }
      },
      async cancel(reason) {
        done(bytes, true);
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
