// Writes to regular files, counted per inode. A file rewritten with the same
// size within one tick of the filesystem clock keeps its (dev, ino, size,
// mtime), so caches keyed by that version — execve's hashes and file heads
// (process/exec.ts) — add this count and never serve the old content.
const writes = new Map<string, number>();

const key = (dev: number, ino: number): string => `${dev}:${ino}`;

/** Counts a change of the content of inode (`dev`, `ino`). */
export function noteWrite(dev: number, ino: number): void {
  const k = key(dev, ino);
  writes.set(k, (writes.get(k) ?? 0) + 1);
}

/** How many content changes of (`dev`, `ino`) this process has seen. */
export function writeCount(dev: number, ino: number): number {
  return writes.get(key(dev, ino)) ?? 0;
}
