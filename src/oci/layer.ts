// A Layer backed by a function that opens its stored blob. Every byte is
// checked: the stored bytes against the layer digest, the decompressed tar
// against the config's diff_id (image-spec config.md "rootfs"), and the
// compression magic against the media type (image-spec layer.md). Failures
// surface as errors on the returned stream, never as unhandled rejections.
import {
  finished,
  PassThrough,
  Transform,
  type Readable,
  type TransformCallback,
} from "node:stream";
import { createGunzip } from "node:zlib";
import { Decompress } from "fzstd";
import { isMegaliftError, MegaliftError } from "../errors.js";
import { Digest } from "./digest.js";
import type { Layer } from "./image.js";
import { layerCompression, type LayerCompression } from "./media-types.js";
import type { Descriptor } from "./types.js";

/** Opens the stored (maybe compressed) bytes of a blob, unverified. */
export type OpenBlob = () => Promise<Readable>;

export interface BlobLayerOptions {
  readonly descriptor: Descriptor;
  /** The diff_id the image config gives for this layer. */
  readonly diffId: Digest;
  readonly open: OpenBlob;
}

/** Creates a Layer; MEDIA_TYPE_UNKNOWN if the descriptor's media type is not a layer type. */
export function createBlobLayer(options: BlobLayerOptions): Layer {
  return new BlobLayer(options);
}

class BlobLayer implements Layer {
  readonly descriptor: Descriptor;
  readonly digest: Digest;
  readonly diffId: Digest;
  readonly mediaType: string;
  readonly compression: LayerCompression;
  readonly size: number;
  private readonly open: OpenBlob;

  constructor(options: BlobLayerOptions) {
    this.descriptor = options.descriptor;
    this.digest = Digest.parse(options.descriptor.digest);
    this.diffId = options.diffId;
    this.mediaType = options.descriptor.mediaType;
    this.size = options.descriptor.size;
    this.open = options.open;
    const compression = layerCompression(this.mediaType);
    if (compression === undefined) {
      throw new MegaliftError(
        "MEDIA_TYPE_UNKNOWN",
        `layer ${this.digest.toString()} has media type ${this.mediaType}, which is not a layer type megalift reads`,
      );
    }
    this.compression = compression;
  }

  async compressed(): Promise<Readable> {
    const source = await this.open();
    return linkStages(
      [
        { stream: source, role: "source" },
        { stream: this.blobVerifier(), role: "verify" },
      ],
      this.digest,
    );
  }

  async uncompressed(): Promise<Readable> {
    const source = await this.open();
    const name = this.digest.toString();
    const stages: Stage[] = [
      { stream: source, role: "source" },
      { stream: this.blobVerifier(), role: "verify" },
      { stream: new CompressionSniffer(name, this.mediaType, this.compression), role: "decode" },
    ];
    if (this.compression === "gzip") stages.push({ stream: createGunzip(), role: "decode" });
    if (this.compression === "zstd") stages.push({ stream: new ZstdDecoder(), role: "decode" });
    stages.push({ stream: this.diffId.verifier(`uncompressed layer ${name}`), role: "verify" });
    return linkStages(stages, this.digest);
  }

  private blobVerifier(): Transform {
    return this.digest.verifier(`layer ${this.digest.toString()}`, this.size);
  }
}

interface Stage {
  readonly stream: Readable;
  /** Where the stage sits, which decides how its errors are reported. */
  readonly role: "source" | "verify" | "decode";
}

/** The error a consumer sees for a failure in one stage. */
function layerError(err: unknown, role: Stage["role"], layer: Digest): MegaliftError {
  if (isMegaliftError(err)) return err;
  const reason = err instanceof Error ? err.message : String(err);
  if (role === "source") {
    return new MegaliftError("IO", `reading layer ${layer.toString()} failed: ${reason}`, {
      cause: err,
    });
  }
  return new MegaliftError("LAYER_CORRUPT", `layer ${layer.toString()} is corrupt: ${reason}`, {
    cause: err,
  });
}

/**
 * Pipes the stages into one output stream. The first failure in any stage
 * tears all stages down and becomes the output's error (mapped to a
 * MegaliftError); destroying the output early releases the source.
 */
function linkStages(stages: readonly Stage[], layer: Digest): Readable {
  const output = new PassThrough();
  let failed = false;
  const teardown = (): void => {
    for (const { stream } of stages) stream.destroy();
  };
  for (const { stream, role } of stages) {
    finished(stream, (err) => {
      if (!err || failed) return;
      failed = true;
      teardown();
      output.destroy(layerError(err, role, layer));
    });
  }
  finished(output, () => {
    if (output.readableEnded) return;
    failed = true; // the consumer stopped early: release the stages quietly
    teardown();
  });
  let previous: Readable | undefined;
  for (const { stream } of stages) {
    if (previous) previous.pipe(stream as Transform);
    previous = stream;
  }
  previous?.pipe(output);
  return output;
}

/** Compression identified by magic bytes: RFC 1952 (gzip), RFC 8878 (zstd, incl. skippable frames). */
export function sniffCompression(head: Uint8Array): LayerCompression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (
    head.length >= 4 &&
    head[0] === 0x28 &&
    head[1] === 0xb5 &&
    head[2] === 0x2f &&
    head[3] === 0xfd
  ) {
    return "zstd";
  }
  const first = head[0] ?? 0;
  if (
    head.length >= 4 &&
    (first & 0xf0) === 0x50 &&
    head[1] === 0x2a &&
    head[2] === 0x4d &&
    head[3] === 0x18
  ) {
    return "zstd";
  }
  return "none";
}

const SNIFF_BYTES = 4;

/** Passes bytes through after checking that their magic matches the declared compression. */
class CompressionSniffer extends Transform {
  private head: Buffer[] = [];
  private headLength = 0;
  private checked = false;

  constructor(
    private readonly layer: string,
    private readonly mediaType: string,
    private readonly declared: LayerCompression,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.checked) {
      done(null, chunk);
      return;
    }
    this.head.push(chunk);
    this.headLength += chunk.length;
    if (this.headLength < SNIFF_BYTES) {
      done();
      return;
    }
    this.release(done);
  }

  override _flush(done: TransformCallback): void {
    if (this.checked) {
      done();
      return;
    }
    if (this.headLength === 0 && this.declared !== "none") {
      done(this.corrupt("it is empty"));
      return;
    }
    this.release(done);
  }

  private release(done: TransformCallback): void {
    const head = Buffer.concat(this.head);
    this.head = [];
    this.checked = true;
    const actual = sniffCompression(head);
    if (actual !== this.declared) {
      const bytes = actual === "none" ? "not compressed" : `${actual}-compressed`;
      const declared =
        this.declared === "none" ? "an uncompressed tar" : `${this.declared} compression`;
      done(
        this.corrupt(
          `its media type ${this.mediaType} declares ${declared} but the bytes are ${bytes}`,
        ),
      );
      return;
    }
    done(null, head);
  }

  private corrupt(reason: string): MegaliftError {
    return new MegaliftError("LAYER_CORRUPT", `layer ${this.layer} is corrupt: ${reason}`);
  }
}

/** Streaming zstd decompression with fzstd (Node 20's zlib has no zstd). */
class ZstdDecoder extends Transform {
  private readonly decoder: Decompress;

  constructor() {
    super();
    // fzstd may hand out views of its window buffer: copy before pushing downstream.
    this.decoder = new Decompress((data) => {
      if (data.length > 0) this.push(Buffer.from(data));
    });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.decoder.push(chunk);
      done();
    } catch (err) {
      done(zstdError(err));
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.decoder.push(new Uint8Array(0), true);
      done();
    } catch (err) {
      done(zstdError(err));
    }
  }
}

/** fzstd's error codes (ZstdErrorCode), in words. */
const ZSTD_ERRORS = [
  "invalid zstd data",
  "zstd window size too large",
  "invalid zstd block type",
  "zstd FSE accuracy too high",
  "zstd match distance too far back",
  "unexpected end of zstd data (truncated)",
];

function zstdError(err: unknown): Error {
  const code = (err as { code?: unknown }).code;
  const words = typeof code === "number" ? ZSTD_ERRORS[code] : undefined;
  if (words !== undefined) return new Error(words, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}
