// A blob download that survives broken connections: when the body breaks
// mid-way, the rest is asked for again with `Range: bytes=N-` (RFC 9110
// §14.2; distribution-spec "Pulling blobs" lets registries answer 206) and
// the stream the caller holds simply goes on. A registry that ignores Range
// answers 200 from byte 0; the bytes already delivered are skipped.
import { Readable, Transform, type TransformCallback } from "node:stream";
import { isMegaliftError, MegaliftError } from "../errors.js";
import { headerValue, type UpstreamResponse } from "./dispatch.js";
import { describeNetworkError, isAbortError, isRetryableNetworkError } from "./network-errors.js";

/** One answer to a blob GET, placed in the blob. */
export interface BlobPart {
  readonly body: Readable;
  /** Offset in the blob of the body's first byte (0 for a 200). */
  readonly start: number;
  /** The blob's total size, when the answer says it. */
  readonly total: number | undefined;
}

/** Opens the blob again asking for the bytes from `position` on. */
export type OpenBlobAt = (position: number) => Promise<BlobPart>;

/** RFC 9110 §14.4 Content-Range: "bytes first-last/complete-length" (complete-length may be "*"). */
export function parseContentRange(
  value: string | undefined,
): { start: number; end: number; total: number | undefined } | undefined {
  const match = /^\s*bytes\s+([0-9]+)-([0-9]+)\/([0-9]+|\*)\s*$/i.exec(value ?? "");
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = Number(match[2]);
  const total = match[3] === "*" ? undefined : Number(match[3]);
  if (end < start || (total !== undefined && end >= total)) return undefined;
  return { start, end, total };
}

/** Places a 200 or 206 answer in the blob; UPSTREAM_UNAVAILABLE for a 206 without a usable Content-Range. */
export function blobPartOf(response: UpstreamResponse, what: string): BlobPart {
  if (response.status === 206) {
    const header = headerValue(response.headers, "content-range");
    const range = parseContentRange(header);
    if (!range) {
      response.body.destroy();
      throw new MegaliftError(
        "UPSTREAM_UNAVAILABLE",
        `${what}: the registry answered 206 with an unusable Content-Range "${header ?? ""}"`,
      );
    }
    return { body: response.body, start: range.start, total: range.total };
  }
  const length = Number(headerValue(response.headers, "content-length") ?? NaN);
  return { body: response.body, start: 0, total: Number.isFinite(length) ? length : undefined };
}

export interface ResumableOptions {
  readonly first: BlobPart;
  /** The blob offset the stream starts at (first.start may be lower: those bytes are skipped). */
  readonly position: number;
  readonly total: number;
  readonly open: OpenBlobAt;
  /** Breaks in a row, with no byte delivered in between, before giving up. */
  readonly maxResumes: number;
  readonly what: string;
  readonly signal?: AbortSignal;
}

/** Resumes at most this many times in all, however much progress each attempt makes. */
const MAX_TOTAL_RESUMES = 100;

/** The bytes from `position` to the end of the blob, resumed with Range across broken connections. */
export function resumableBlobStream(options: ResumableOptions): Readable {
  return Readable.from(resumableChunks(options), { objectMode: false });
}

async function* resumableChunks(options: ResumableOptions): AsyncGenerator<Buffer> {
  const { total, what } = options;
  let part = options.first;
  let position = options.position;
  let stalled = 0;
  let resumes = 0;
  try {
    for (;;) {
      let skip = position - part.start;
      if (skip < 0) {
        throw new MegaliftError(
          "UPSTREAM_UNAVAILABLE",
          `${what}: asked for bytes from ${position}, the registry sent them from ${part.start}`,
        );
      }
      if (part.total !== undefined && part.total !== total) {
        throw new MegaliftError(
          "DIGEST_MISMATCH",
          `${what}: the registry first said the blob is ${total} bytes, then ${part.total}`,
        );
      }
      const before = position;
      let broke: unknown;
      try {
        for await (const chunk of part.body) {
          let bytes = chunk as Buffer;
          if (skip > 0) {
            if (bytes.length <= skip) {
              skip -= bytes.length;
              continue;
            }
            bytes = bytes.subarray(skip);
            skip = 0;
          }
          if (position + bytes.length > total) {
            throw new MegaliftError(
              "DIGEST_MISMATCH",
              `${what}: the registry sent more than the blob's ${total} bytes`,
            );
          }
          position += bytes.length;
          yield bytes;
        }
        if (position === total) return;
        broke = new Error(`the body ended at byte ${position} of ${total}`);
      } catch (err) {
        if (isMegaliftError(err) || isAbortError(err) || options.signal?.aborted) throw err;
        if (!isRetryableNetworkError(err)) {
          throw new MegaliftError(
            "UPSTREAM_UNAVAILABLE",
            `${what}: the download failed at byte ${position} of ${total}: ${describeNetworkError(err)}`,
            { cause: err },
          );
        }
        broke = err;
      }
      stalled = position > before ? 0 : stalled + 1;
      resumes++;
      if (stalled > options.maxResumes || resumes > MAX_TOTAL_RESUMES) {
        throw new MegaliftError(
          "UPSTREAM_UNAVAILABLE",
          `${what}: the download broke at byte ${position} of ${total} and resuming did not finish it: ${describeNetworkError(broke)}`,
          { cause: broke },
        );
      }
      part.body.destroy();
      part = await options.open(position);
    }
  } finally {
    part.body.destroy();
  }
}

/** Drops the first `count` bytes of a stream. */
export function skipBytes(count: number): Transform {
  let remaining = count;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
      if (remaining >= chunk.length) {
        remaining -= chunk.length;
        done();
        return;
      }
      const rest = remaining > 0 ? chunk.subarray(remaining) : chunk;
      remaining = 0;
      done(null, rest);
    },
  });
}
