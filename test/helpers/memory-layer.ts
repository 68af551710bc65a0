// A Layer held in memory for tests: wraps an uncompressed tar Buffer (media
// type tar, compression "none") and streams it back in small chunks, so
// consumers meet entry headers and bodies split across chunk boundaries.
import { Readable } from "node:stream";
import { Digest } from "../../src/oci/digest.js";
import type { Layer } from "../../src/oci/image.js";
import { MediaType } from "../../src/oci/media-types.js";

export interface MemoryLayerOptions {
  /** Size of the chunks the streams yield (default 1000 bytes: deliberately not a multiple of 512). */
  readonly chunkSize?: number;
}

/** A tar-typed layer whose blob is `tar`; digest and diffId are both its sha256. */
export function memoryLayer(tar: Uint8Array, options: MemoryLayerOptions = {}): Layer {
  const digest = Digest.of(tar);
  const chunkSize = options.chunkSize ?? 1000;
  const stream = (): Readable => Readable.from(chunked(tar, chunkSize), { objectMode: false });
  return {
    descriptor: { mediaType: MediaType.OciLayerTar, digest: digest.toString(), size: tar.length },
    digest,
    diffId: digest,
    mediaType: MediaType.OciLayerTar,
    compression: "none",
    size: tar.length,
    compressed: () => Promise.resolve(stream()),
    uncompressed: () => Promise.resolve(stream()),
  } satisfies Layer;
}

function* chunked(data: Uint8Array, size: number): Generator<Buffer> {
  for (let at = 0; at < data.length; at += size) {
    yield Buffer.from(data.subarray(at, Math.min(at + size, data.length)));
  }
}
