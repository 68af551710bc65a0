// Size accounting and least-recently-used order for cache entries. The order
// lives in memory (a Map's insertion order: oldest first) and is persisted as
// each file's modification time, set on every access, so it survives
// restarts without an index file that could disagree with the directory.
import { readdir, rm, stat, utimes } from "node:fs/promises";
import { join, relative } from "node:path";

export interface LruEntry {
  readonly size: number;
}

export class LruIndex {
  private readonly entries = new Map<string, LruEntry>();
  private total = 0;

  /**
   * @param root the cache directory; keys are paths relative to it
   * @param maxBytes the size limit above which old entries are evicted
   * @param now the clock used for persisted access times (ms)
   */
  constructor(
    private readonly root: string,
    private readonly maxBytes: number,
    private readonly now: () => number,
  ) {}

  /** Rebuilds the index from the files under `dirs` (relative to root), oldest access first. */
  async load(dirs: readonly string[]): Promise<void> {
    const found: { key: string; size: number; mtime: number }[] = [];
    for (const dir of dirs) {
      for (const path of await listFiles(join(this.root, dir))) {
        const info = await stat(path);
        found.push({ key: relative(this.root, path), size: info.size, mtime: info.mtimeMs });
      }
    }
    found.sort((a, b) => a.mtime - b.mtime || a.key.localeCompare(b.key));
    this.entries.clear();
    this.total = 0;
    for (const entry of found) this.insert(entry.key, entry.size);
  }

  get sizeBytes(): number {
    return this.total;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Records a new (or rewritten) entry as the most recently used, then evicts above the limit. */
  async add(key: string, size: number): Promise<void> {
    this.remove(key);
    this.insert(key, size);
    await this.persistAccess(key);
    await this.evict(key);
  }

  /** Marks an entry as just used. */
  async touch(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.entries.set(key, entry);
    await this.persistAccess(key);
  }

  /** Forgets an entry whose file is gone. */
  remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.total -= entry.size;
  }

  /** Keys from least to most recently used (for tests and diagnostics). */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  private insert(key: string, size: number): void {
    this.entries.set(key, { size });
    this.total += size;
  }

  /**
   * Deletes least recently used files until the total fits. `keep` (the entry
   * just written) is never evicted, so one entry larger than the limit stays
   * until the next write. Readers holding a file open keep reading it: an
   * unlinked file lives until its last descriptor closes.
   */
  private async evict(keep: string): Promise<void> {
    for (const key of [...this.entries.keys()]) {
      if (this.total <= this.maxBytes) return;
      if (key === keep) continue;
      this.remove(key);
      await rm(join(this.root, key), { force: true });
    }
  }

  private async persistAccess(key: string): Promise<void> {
    const when = new Date(this.now());
    await utimes(join(this.root, key), when, when).catch(() => undefined);
  }
}

async function listFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const files: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if ((await stat(path)).isFile()) files.push(path);
  }
  return files;
}
