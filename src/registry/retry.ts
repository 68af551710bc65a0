// The retry layer: another attempt, after an exponential backoff with jitter,
// when the registry answers 5xx or the connection fails; a 429 waits as long
// as its Retry-After says (RFC 9110 §10.2.3: delay-seconds or an HTTP-date,
// RFC 6585 §4). Bounded in attempts and in total time, after which the caller
// gets UPSTREAM_UNAVAILABLE (or TOO_MANY_REQUESTS) naming the registry.
import { MegaliftError } from "../errors.js";
import { discardBody, headerValue, type DispatchLayer, type ResponseHeaders } from "./dispatch.js";
import { describeNetworkError, isRetryableNetworkError } from "./network-errors.js";

export interface RetryPolicy {
  /** Attempts in all, the first included (1 = never retry). */
  readonly attempts: number;
  /** The first backoff; each later one doubles, up to maxDelayMs. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** No new attempt starts when it would end its wait past this much time since the first. */
  readonly maxElapsedMs: number;
  /** A Retry-After longer than this is not waited for: TOO_MANY_REQUESTS at once. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  maxElapsedMs: 60_000,
  maxRetryAfterMs: 60_000,
};

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

/** The wait before attempt `attempt + 1`: exponential, with "equal jitter" (half fixed, half random). */
export function backoffDelay(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

/** Retry-After in milliseconds (delay-seconds or HTTP-date), undefined if absent or unparsable. */
export function parseRetryAfter(headers: ResponseHeaders, now: number): number | undefined {
  const value = headerValue(headers, "retry-after")?.trim();
  if (value === undefined || value === "") return undefined;
  if (/^[0-9]+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function isRetryableStatus(status: number): boolean {
  // 501 Not Implemented and 505 HTTP Version Not Supported will not change.
  return status >= 500 && status !== 501 && status !== 505;
}

export function retryLayer(policy: RetryPolicy, clock: Clock = systemClock): DispatchLayer {
  return (next) => async (req) => {
    const started = clock.now();
    const registry = req.url.host;
    const giveUp = (attempt: number, delay: number): boolean =>
      attempt >= policy.attempts || clock.now() - started + delay > policy.maxElapsedMs;
    for (let attempt = 1; ; attempt++) {
      let response;
      try {
        response = await next(req);
      } catch (err) {
        if (!isRetryableNetworkError(err) || req.signal?.aborted) {
          if (err instanceof MegaliftError || req.signal?.aborted) throw err;
          throw new MegaliftError(
            "UPSTREAM_UNAVAILABLE",
            `${req.what}: registry ${registry} could not be reached: ${describeNetworkError(err)}`,
            { cause: err },
          );
        }
        const delay = backoffDelay(policy, attempt);
        if (giveUp(attempt, delay)) {
          throw new MegaliftError(
            "UPSTREAM_UNAVAILABLE",
            `${req.what}: registry ${registry} unreachable after ${attempt} attempts: ${describeNetworkError(err)}`,
            { cause: err },
          );
        }
        await clock.sleep(delay, req.signal);
        continue;
      }
      if (response.status === 429) {
        await discardBody(response);
        const retryAfter = parseRetryAfter(response.headers, clock.now());
        const delay = retryAfter ?? backoffDelay(policy, attempt);
        if (delay > policy.maxRetryAfterMs || giveUp(attempt, delay)) {
          throw new MegaliftError(
            "TOO_MANY_REQUESTS",
            `${req.what}: registry ${registry} kept answering 429 Too Many Requests (${attempt} attempts${retryAfter !== undefined ? `, Retry-After ${Math.ceil(retryAfter / 1000)} s` : ""})`,
          );
        }
        await clock.sleep(delay, req.signal);
        continue;
      }
      if (isRetryableStatus(response.status)) {
        await discardBody(response);
        const delay = backoffDelay(policy, attempt);
        if (giveUp(attempt, delay)) {
          throw new MegaliftError(
            "UPSTREAM_UNAVAILABLE",
            `${req.what}: registry ${registry} kept failing with HTTP ${response.status} (${attempt} attempts)`,
          );
        }
        await clock.sleep(delay, req.signal);
        continue;
      }
      return response;
    }
  };
}
