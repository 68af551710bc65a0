// Remembers which upstreams just failed to answer, so that for a while the
// proxy serves what it has cached at once instead of waiting through the
// client's retries on every request (verdaccio's "offline after failures").
// A successful answer marks the upstream up again.

export class UpstreamHealth {
  private readonly downUntil = new Map<string, number>();

  /**
   * @param now the proxy's clock (ms)
   * @param offlineMs how long an upstream counts as down after a failure
   */
  constructor(
    private readonly now: () => number,
    private readonly offlineMs = 30_000,
  ) {}

  markDown(host: string): void {
    this.downUntil.set(host, this.now() + this.offlineMs);
  }

  markUp(host: string): void {
    this.downUntil.delete(host);
  }

  /** True while `host` failed recently: skip revalidation and serve the cache. */
  isDown(host: string): boolean {
    const until = this.downUntil.get(host);
    if (until === undefined) return false;
    if (this.now() < until) return true;
    this.downUntil.delete(host);
    return false;
  }
}
