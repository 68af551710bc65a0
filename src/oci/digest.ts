// A content digest as a parsed value (OCI image-spec "Digests": algorithm ":" encoded).
// Registered algorithms sha256 and sha512 are verified; the grammar is checked for all.
import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { MegaliftError } from "../errors.js";

export type DigestAlgorithm = "sha256" | "sha512";

const ENCODED_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
// image-spec: algorithm-component ::= [a-z0-9]+ ; separators [+._-]
const ALGORITHM_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*$/;

export class Digest {
  private constructor(
    readonly algorithm: DigestAlgorithm,
    readonly hex: string,
  ) {}

  /** Parses `sha256:<64 lowercase hex>` (or sha512); throws DIGEST_INVALID otherwise. */
  static parse(text: string): Digest {
    const colon = text.indexOf(":");
    const algorithm = colon > 0 ? text.slice(0, colon) : "";
    const hex = colon > 0 ? text.slice(colon + 1) : "";
    if (!ALGORITHM_RE.test(algorithm)) {
      throw new MegaliftError("DIGEST_INVALID", `invalid digest "${text}": expected algorithm:hex`);
    }
    if (algorithm !== "sha256" && algorithm !== "sha512") {
      throw new MegaliftError(
        "DIGEST_INVALID",
        `unsupported digest algorithm "${algorithm}" in "${text}"`,
      );
    }
    if (hex.length !== ENCODED_LENGTH[algorithm] || !/^[0-9a-f]+$/.test(hex)) {
      throw new MegaliftError(
        "DIGEST_INVALID",
        `invalid ${algorithm} digest "${text}": expected ${ENCODED_LENGTH[algorithm]} lowercase hex digits`,
      );
    }
    return new Digest(algorithm, hex);
  }

  /** True when `text` parses as a digest. */
  static isValid(text: string): boolean {
    try {
      Digest.parse(text);
      return true;
    } catch {
      return false;
    }
  }

  /** The digest of `data` (sha256 unless told otherwise). */
  static of(data: Uint8Array | string, algorithm: DigestAlgorithm = "sha256"): Digest {
    return new Digest(algorithm, createHash(algorithm).update(data).digest("hex"));
  }

  toString(): string {
    return `${this.algorithm}:${this.hex}`;
  }

  toJSON(): string {
    return this.toString();
  }

  equals(other: Digest): boolean {
    return this.algorithm === other.algorithm && this.hex === other.hex;
  }

  /** Throws DIGEST_MISMATCH naming `what` unless `data` hashes to this digest. */
  verifyBytes(data: Uint8Array, what = "content"): void {
    const actual = Digest.of(data, this.algorithm);
    if (!actual.equals(this)) {
      throw new MegaliftError(
        "DIGEST_MISMATCH",
        `digest mismatch for ${what}: expected ${this.toString()}, got ${actual.toString()}`,
      );
    }
  }

  /**
   * A pass-through stream that hashes what flows through it and fails with
   * DIGEST_MISMATCH at the end if the bytes do not match (or if `size` is
   * given and the byte count differs). Consumers see the error before the
   * stream ends, so nothing unverified is ever taken as complete.
   */
  verifier(what = "content", size?: number): Transform {
    return new DigestVerifier(this, what, size);
  }
}

class DigestVerifier extends Transform {
  private readonly hash: Hash;
  private count = 0;
  constructor(
    private readonly expected: Digest,
    private readonly what: string,
    private readonly size: number | undefined,
  ) {
    super();
    this.hash = createHash(expected.algorithm);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.count += chunk.length;
    done(null, chunk);
  }
  override _flush(done: TransformCallback): void {
    if (this.size !== undefined && this.count !== this.size) {
      done(
        new MegaliftError(
          "DIGEST_MISMATCH",
          `size mismatch for ${this.what} ${this.expected.toString()}: expected ${this.size} bytes, got ${this.count}`,
        ),
      );
      return;
    }
    const hex = this.hash.digest("hex");
    if (hex !== this.expected.hex) {
      done(
        new MegaliftError(
          "DIGEST_MISMATCH",
          `digest mismatch for ${this.what}: expected ${this.expected.toString()}, got ${this.expected.algorithm}:${hex}`,
        ),
      );
      return;
    }
    done();
  }
}
