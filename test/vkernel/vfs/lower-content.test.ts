// Where image file bytes come from: the content store's blob files, read
// synchronously and only for the range asked; small files cached whole,
// within a byte budget that evicts the least recently used.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ContentStore } from "../../../src/oci/rootfs/content-store.js";
import type { ContentRef } from "../../../src/oci/rootfs/types.js";
import {
  CachedContent,
  contentStoreReader,
  type LowerContent,
} from "../../../src/vkernel/vfs/index.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-lower-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

describe("lower content", () => {
  it("reads ranges of content-store blobs synchronously", async () => {
    const store = ContentStore.at(dir);
    const ref = await store.write(once(new TextEncoder().encode("0123456789")));
    const reader = contentStoreReader(store);
    expect(Buffer.from(reader.read(ref, 2, 5)).toString()).toBe("234");
    expect(Buffer.from(reader.read(ref, 8, 100)).toString()).toBe("89");
    expect(() => reader.read({ blake3: "0".repeat(64), size: 3 }, 0, 3)).toThrow();
  });

  it("caches small files whole and evicts the least recently used beyond the budget", () => {
    const reads: string[] = [];
    const source: LowerContent = {
      read: (ref, start, end) => {
        reads.push(ref.blake3);
        return new Uint8Array(ref.size).fill(ref.blake3.charCodeAt(0)).subarray(start, end);
      },
    };
    const ref = (key: string, size: number): ContentRef => ({ blake3: key, size });
    const cache = new CachedContent(source, { fileBytes: 8, totalBytes: 16 });
    cache.read(ref("a", 8), 0, 2);
    cache.read(ref("a", 8), 4, 8);
    cache.read(ref("b", 8), 0, 8);
    cache.read(ref("a", 8), 0, 8); // a is now the most recently used
    cache.read(ref("c", 8), 0, 8); // evicts b
    cache.read(ref("a", 8), 0, 1);
    cache.read(ref("b", 8), 0, 1);
    // Larger than fileBytes: never cached, read by range each time.
    cache.read(ref("d", 9), 0, 1);
    cache.read(ref("d", 9), 1, 2);
    expect(reads).toEqual(["a", "b", "c", "b", "d", "d"]);
    expect(cache.sourceReads).toBe(6);
  });
});
