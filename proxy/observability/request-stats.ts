// What one request did, filled in by the services and written by the request
// log: whether the cache answered, and how long the upstream took.

export interface RequestStats {
  cache?: "hit" | "miss";
  /** Milliseconds spent waiting for upstream answers (headers, not bodies). */
  upstreamMs: number;
}

export function newRequestStats(): RequestStats {
  return { upstreamMs: 0 };
}

/** Runs an upstream call, adding its duration to `stats`. */
export async function timeUpstream<T>(
  stats: RequestStats | undefined,
  call: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  try {
    return await call();
  } finally {
    if (stats) stats.upstreamMs += performance.now() - started;
  }
}
