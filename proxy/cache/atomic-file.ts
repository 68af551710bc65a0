// Crash-safe file writes: write a temporary file, fsync it, rename it over
// the destination, fsync the directory. A reader sees the old file or the
// complete new one, never a prefix — after a crash too, because temporary
// files live in one directory that startup empties (cleanTempDir).
import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";

/** A fresh temporary file name in `tempDir`, with `hint` for people reading the directory. */
export function tempFileName(tempDir: string, hint: string): string {
  return join(tempDir, `${hint}.${randomBytes(6).toString("hex")}.tmp`);
}

/** Writes `data` to `path` atomically, its temporary file in `tempDir` (same filesystem). */
export async function writeFileAtomic(
  tempDir: string,
  path: string,
  data: Uint8Array | string,
  signal?: AbortSignal,
): Promise<void> {
  const temp = tempFileName(tempDir, "write");
  try {
    const handle = await open(temp, "wx");
    try {
      await handle.writeFile(data, { signal });
      await handle.sync();
    } finally {
      await handle.close();
    }
    await moveIntoPlace(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** Renames a complete, synced temporary file to `path` and makes the rename durable. */
export async function moveIntoPlace(temp: string, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await rename(temp, path);
  await syncDirectory(dirname(path));
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  } finally {
    await handle.close();
  }
}

/** Empties the temporary directory: leftovers of a crash are never complete entries. */
export async function cleanTempDir(tempDir: string): Promise<void> {
  await rm(tempDir, { recursive: true, force: true });
  await mkdir(tempDir, { recursive: true });
}
