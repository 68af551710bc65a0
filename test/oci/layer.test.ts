// Layers: decompression (tar, gzip, zstd), magic-byte checks, digest and
// diff_id verification, and corruption surfacing as stream errors.
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { isMegaliftError } from "../../src/errors.js";
import { Digest } from "../../src/oci/digest.js";
import { createBlobLayer, sniffCompression } from "../../src/oci/layer.js";
import { MediaType } from "../../src/oci/media-types.js";
import { buildTar } from "../helpers/tar.js";
import { descriptorOf, readAll, SAMPLE_ENTRIES, zstdCompress } from "./build-image.js";

function chunks(bytes: Buffer, size = 500): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
}

function layerOf(blob: Buffer, mediaType: string, diffId: Digest, descriptorBytes: Buffer = blob) {
  return createBlobLayer({
    descriptor: descriptorOf(mediaType, descriptorBytes),
    diffId,
    open: async () => chunks(blob),
  });
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected the stream to fail");
    },
    (err: unknown) => err,
  );
}

/** Deterministic incompressible bytes (a linear congruential generator). */
function noise(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = 12345;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

// A tar large enough to span many chunks and zstd blocks, and to stay large when compressed.
const bigTar = buildTar([...SAMPLE_ENTRIES, { name: "data/noise", content: noise(300_000) }]);

describe("uncompressed()", () => {
  it.each([
    ["plain tar", MediaType.OciLayerTar, (t: Buffer) => t],
    ["tar+gzip", MediaType.OciLayerGzip, (t: Buffer) => gzipSync(t)],
    ["Docker tar.gzip", MediaType.DockerLayerGzip, (t: Buffer) => gzipSync(t)],
    ["tar+zstd", MediaType.OciLayerZstd, (t: Buffer) => zstdCompress(t)],
  ])("yields the tar of a %s layer", async (_label, mediaType, encode) => {
    const tar = await bigTar;
    const layer = layerOf(encode(tar), mediaType, Digest.of(tar));
    const out = await readAll(await layer.uncompressed());
    expect(out.length).toBe(tar.length);
    expect(out.equals(tar)).toBe(true);
  });

  it("reports the layer's compression from its media type", async () => {
    const tar = await bigTar;
    expect(layerOf(tar, MediaType.OciLayerTar, Digest.of(tar)).compression).toBe("none");
    expect(layerOf(tar, MediaType.OciLayerNondistZstd, Digest.of(tar)).compression).toBe("zstd");
  });

  it("fails with LAYER_CORRUPT on a truncated gzip stream", async () => {
    const tar = await bigTar;
    const compressed = gzipSync(tar);
    const truncated = compressed.subarray(0, compressed.length - 1000);
    // the stored blob is the truncated one, so its digest matches: only decompression can tell
    const error = await failure(
      readAll(await layerOf(truncated, MediaType.OciLayerGzip, Digest.of(tar)).uncompressed()),
    );
    expect(isMegaliftError(error, "LAYER_CORRUPT")).toBe(true);
    expect(String(error)).toMatch(/^MegaliftError: layer sha256:[0-9a-f]{64} is corrupt: /);
  });

  it("fails with LAYER_CORRUPT on corrupt and on truncated zstd data", async () => {
    const tar = await bigTar;
    const good = zstdCompress(tar);
    const corrupt = Buffer.from(good);
    corrupt[4] = (corrupt[4] ?? 0) | 0x08; // RFC 8878 3.1.1.1.1: the frame header's reserved bit must be 0
    const truncated = good.subarray(0, Math.floor(good.length / 2));
    for (const blob of [corrupt, truncated]) {
      const error = await failure(
        readAll(await layerOf(blob, MediaType.OciLayerZstd, Digest.of(tar)).uncompressed()),
      );
      expect(isMegaliftError(error, "LAYER_CORRUPT")).toBe(true);
      expect(String(error)).toContain(`layer ${Digest.of(blob).toString()} is corrupt`);
    }
  });

  it("fails with LAYER_CORRUPT when the magic bytes contradict the media type", async () => {
    const tar = await bigTar;
    const cases: [Buffer, string, RegExp][] = [
      [tar, MediaType.OciLayerGzip, /declares gzip compression but the bytes are not compressed/],
      [
        gzipSync(tar),
        MediaType.OciLayerTar,
        /declares an uncompressed tar but the bytes are gzip-compressed/,
      ],
      [
        gzipSync(tar),
        MediaType.OciLayerZstd,
        /declares zstd compression but the bytes are gzip-compressed/,
      ],
      [Buffer.alloc(0), MediaType.OciLayerZstd, /is empty/],
    ];
    for (const [blob, mediaType, message] of cases) {
      const error = await failure(
        readAll(await layerOf(blob, mediaType, Digest.of(tar)).uncompressed()),
      );
      expect(isMegaliftError(error, "LAYER_CORRUPT")).toBe(true);
      expect(String(error)).toMatch(message);
    }
  });

  it("fails with DIGEST_MISMATCH when the uncompressed bytes do not match the diff_id", async () => {
    const tar = await bigTar;
    const wrongDiffId = Digest.of("another tar");
    const error = await failure(
      readAll(await layerOf(gzipSync(tar), MediaType.OciLayerGzip, wrongDiffId).uncompressed()),
    );
    expect(isMegaliftError(error, "DIGEST_MISMATCH")).toBe(true);
    expect(String(error)).toContain("uncompressed layer");
  });

  it("fails with DIGEST_MISMATCH when the stored blob does not match its digest", async () => {
    const tar = await bigTar;
    const stored = gzipSync(tar);
    const tampered = Buffer.from(stored);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 1) ^ 1, tampered.length - 1); // gzip ISIZE byte: decompression may not notice
    const layer = layerOf(tampered, MediaType.OciLayerGzip, Digest.of(tar), stored);
    for (const open of [() => layer.compressed(), () => layer.uncompressed()]) {
      const error = await failure(readAll(await open()));
      expect(["DIGEST_MISMATCH", "LAYER_CORRUPT"]).toContain((error as { code?: string }).code);
    }
    const compressedError = await failure(readAll(await layer.compressed()));
    expect(isMegaliftError(compressedError, "DIGEST_MISMATCH")).toBe(true);
    expect(String(compressedError)).toContain(`layer ${Digest.of(stored).toString()}`);
  });

  it("maps a failing source to IO and frees it when the consumer stops early", async () => {
    const tar = await bigTar;
    const broken = createBlobLayer({
      descriptor: descriptorOf(MediaType.OciLayerTar, tar),
      diffId: Digest.of(tar),
      open: async () =>
        new Readable({
          read() {
            this.destroy(new Error("disk on fire"));
          },
        }),
    });
    const error = await failure(readAll(await broken.uncompressed()));
    expect(isMegaliftError(error, "IO")).toBe(true);
    expect(String(error)).toContain("disk on fire");

    const source = chunks(tar, 100);
    const layer = createBlobLayer({
      descriptor: descriptorOf(MediaType.OciLayerTar, tar),
      diffId: Digest.of(tar),
      open: async () => source,
    });
    const stream = await layer.uncompressed();
    for await (const _ of stream) break;
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.destroyed).toBe(true);
  });
});

describe("compressed()", () => {
  it("yields the stored bytes, verified", async () => {
    const tar = await bigTar;
    const blob = zstdCompress(tar);
    const layer = layerOf(blob, MediaType.OciLayerZstd, Digest.of(tar));
    expect((await readAll(await layer.compressed())).equals(blob)).toBe(true);
    expect(layer.size).toBe(blob.length);
    expect(layer.digest.equals(Digest.of(blob))).toBe(true);
  });
});

describe("media types and magic bytes", () => {
  it("rejects a descriptor that is not a layer type with MEDIA_TYPE_UNKNOWN", async () => {
    const tar = await bigTar;
    expect(() => layerOf(tar, "application/vnd.in-toto+json", Digest.of(tar))).toThrow(
      expect.objectContaining({
        code: "MEDIA_TYPE_UNKNOWN",
        message: expect.stringContaining("application/vnd.in-toto+json"),
      }),
    );
  });

  it("sniffs gzip, zstd (including skippable frames) and plain bytes", async () => {
    const tar = await bigTar;
    expect(sniffCompression(gzipSync(tar))).toBe("gzip");
    expect(sniffCompression(zstdCompress(tar))).toBe("zstd");
    expect(sniffCompression(Buffer.from([0x50, 0x2a, 0x4d, 0x18, 0, 0, 0, 0]))).toBe("zstd");
    expect(sniffCompression(tar)).toBe("none");
    expect(sniffCompression(Buffer.alloc(0))).toBe("none");
  });
});
