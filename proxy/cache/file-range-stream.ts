// A web ReadableStream over a byte range of a file, pulled on demand (so the
// HTTP response's backpressure paces the reads). With a GrowingSource it
// tails a file that a download is still writing: it waits for bytes the
// download has not written yet and fails when the download fails.
import type { FileHandle } from "node:fs/promises";

const CHUNK_BYTES = 256 * 1024;

/** A file that is still being written. */
export interface GrowingSource {
  /** How many bytes from the start of the file may be read now. */
  readable(): number;
  /** Resolves when readable() may have grown; rejects when the source failed. */
  changed(): Promise<void>;
}

/**
 * Streams bytes [start, end] (inclusive) of the file `open` yields, which the
 * stream owns and closes when it ends, fails or is cancelled. The file is
 * opened by the first pull, which the read-ahead makes as the stream is made.
 */
export function fileRangeStream(
  open: () => Promise<FileHandle>,
  start: number,
  end: number,
  source?: GrowingSource,
): ReadableStream<Uint8Array> {
  let handle: FileHandle | undefined;
  let position = start;
  const release = async (): Promise<void> => {
    const h = handle;
    handle = undefined;
    await h?.close().catch(() => undefined);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (position > end) {
            await release();
            controller.close();
            return;
          }
          handle ??= await open();
          let limit = source ? source.readable() : end + 1;
          while (limit <= position) {
            if (!source) throw new Error(`file ended at byte ${position}, expected ${end + 1}`);
            await source.changed();
            limit = source.readable();
          }
          const length = Math.min(CHUNK_BYTES, end + 1 - position, limit - position);
          const buffer = new Uint8Array(length);
          const { bytesRead } = await handle.read(buffer, 0, length, position);
          if (bytesRead === 0)
            throw new Error(`file ended at byte ${position}, expected ${end + 1}`);
          position += bytesRead;
          controller.enqueue(bytesRead === length ? buffer : buffer.subarray(0, bytesRead));
          if (position > end) {
            await release();
            controller.close();
          }
        } catch (err) {
          await release();
          controller.error(err);
        }
      },
      async cancel() {
        await release();
      },
    },
    // Two chunks of read-ahead: the next disk read overlaps the socket write
    // of the previous chunk, while backpressure still bounds memory per client.
    { highWaterMark: 2 },
  );
}
