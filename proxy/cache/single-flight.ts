// Collapses concurrent calls with the same key into one: the first caller
// runs the work, the others await its promise. Used for manifest and tag
// fetches (blobs have their own, streaming, single flight in blob-fetcher.ts).

export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  /** The result of `work`, shared with every concurrent caller using `key`. */
  run(key: string, work: () => Promise<T>): Promise<T> {
    const existing = this.running.get(key);
    if (existing) return existing;
    const promise = work().finally(() => {
      if (this.running.get(key) === promise) this.running.delete(key);
    });
    this.running.set(key, promise);
    return promise;
  }
}
