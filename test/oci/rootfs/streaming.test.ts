// The flattener streams: a layer holding a 20 MB file is produced lazily,
// and the bytes reach the content store in small chunks while the layer is
// still being read — the file is never held in memory whole.
import { Readable } from "node:stream";
import { expect, test } from "vitest";
import { Digest } from "../../../src/oci/digest.js";
import type { Layer } from "../../../src/oci/image.js";
import { MediaType } from "../../../src/oci/media-types.js";
import { createBlake3 } from "../../../src/hash/blake3.js";
import { ContentStore } from "../../../src/oci/rootfs/content-store.js";
import { buildRootfs } from "../../../src/oci/rootfs/flatten.js";
import type { ContentRef } from "../../../src/oci/rootfs/types.js";
import { END_OF_ARCHIVE, rawHeader } from "../../helpers/raw-tar.js";
import { tempDir } from "./rootfs-test-kit.js";

const FILE_SIZE = 20 * 1024 * 1024;
const CHUNK = 64 * 1024;

/** A content store that records how its writes arrive relative to the layer being produced. */
class WatchingStore extends ContentStore {
  maxChunk = 0;
  chunks = 0;
  /** Largest gap between bytes the layer has produced and bytes the store has received. */
  maxInFlight = 0;
  constructor(
    directory: string,
    private readonly produced: () => number,
  ) {
    super(directory);
  }
  override write(source: AsyncIterable<Uint8Array>): Promise<ContentRef> {
    const watch = async function* (this: WatchingStore): AsyncGenerator<Uint8Array> {
      let received = 0;
      for await (const chunk of source) {
        received += chunk.byteLength;
        this.chunks++;
        this.maxChunk = Math.max(this.maxChunk, chunk.byteLength);
        this.maxInFlight = Math.max(this.maxInFlight, this.produced() - 512 - received);
        yield chunk;
      }
    };
    return super.write(watch.call(this));
  }
}

test("a 20 MB file streams into the store chunk by chunk", async () => {
  let produced = 0;
  const expected = createBlake3();
  async function* layerBytes(): AsyncGenerator<Buffer> {
    const header = rawHeader({ name: "opt/big.bin", typeflag: "0", size: FILE_SIZE });
    produced += header.length;
    yield header;
    for (let at = 0; at < FILE_SIZE; at += CHUNK) {
      const chunk = Buffer.alloc(Math.min(CHUNK, FILE_SIZE - at), (at / CHUNK) & 0xff);
      expected.update(chunk);
      produced += chunk.length;
      yield chunk;
    }
    produced += END_OF_ARCHIVE.length;
    yield END_OF_ARCHIVE; // FILE_SIZE is a multiple of 512: no padding
  }
  const digest = Digest.of("a layer too big to build in memory");
  const layer: Layer = {
    descriptor: { mediaType: MediaType.OciLayerTar, digest: digest.toString(), size: 0 },
    digest,
    diffId: digest,
    mediaType: MediaType.OciLayerTar,
    compression: "none",
    size: 0,
    compressed: () => Promise.resolve(Readable.from(layerBytes())),
    uncompressed: () => Promise.resolve(Readable.from(layerBytes())),
  };

  const store = new WatchingStore(await tempDir(), () => produced);
  const view = await buildRootfs([layer], { store });

  const entry = view.lstat("/opt/big.bin");
  expect(entry?.content).toEqual({ blake3: expected.digestHex(), size: FILE_SIZE });
  expect(store.chunks).toBeGreaterThanOrEqual(FILE_SIZE / CHUNK);
  expect(store.maxChunk).toBeLessThanOrEqual(CHUNK);
  // The layer is read only a little ahead of the store: a few chunks, not the file.
  expect(store.maxInFlight).toBeLessThan(2 * 1024 * 1024);
  expect(view.totalBytes).toBe(FILE_SIZE);
  if (entry === undefined) throw new Error("missing entry");
  const tail = await view.readRange(entry, FILE_SIZE - 3);
  expect([...tail]).toEqual([0x3f, 0x3f, 0x3f]); // last chunk index 319 & 0xff
});
