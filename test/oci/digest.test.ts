// Digest: parsing, formatting, hashing and the verifying stream (image-spec descriptor.md "Digests").
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { Digest } from "../../src/oci/digest.js";
import { isMegaliftError } from "../../src/errors.js";
import { readAll } from "./build-image.js";

const HELLO_SHA256 = createHash("sha256").update("hello").digest("hex");

describe("Digest.parse and toString", () => {
  it("round-trips sha256 and sha512 digests", () => {
    const sha256 = `sha256:${HELLO_SHA256}`;
    expect(Digest.parse(sha256).toString()).toBe(sha256);
    expect(Digest.parse(sha256).algorithm).toBe("sha256");
    expect(Digest.parse(sha256).hex).toBe(HELLO_SHA256);
    const sha512 = `sha512:${createHash("sha512").update("x").digest("hex")}`;
    expect(Digest.parse(sha512).toString()).toBe(sha512);
    expect(JSON.stringify({ d: Digest.parse(sha256) })).toBe(JSON.stringify({ d: sha256 }));
  });

  it.each([
    ["no colon", HELLO_SHA256],
    ["empty", ""],
    ["uppercase hex", `sha256:${HELLO_SHA256.toUpperCase()}`],
    ["short hex", `sha256:${HELLO_SHA256.slice(1)}`],
    ["unknown algorithm", `md5:${HELLO_SHA256}`],
    ["bad algorithm grammar", `SHA256:${HELLO_SHA256}`],
    ["trailing junk", `sha256:${HELLO_SHA256}x`],
  ])("rejects %s with DIGEST_INVALID", (_label, text) => {
    expect(() => Digest.parse(text)).toThrow(expect.objectContaining({ code: "DIGEST_INVALID" }));
    expect(Digest.isValid(text)).toBe(false);
  });

  it("hashes bytes and strings alike and compares by value", () => {
    expect(Digest.of("hello").toString()).toBe(`sha256:${HELLO_SHA256}`);
    expect(Digest.of(Buffer.from("hello")).equals(Digest.parse(`sha256:${HELLO_SHA256}`))).toBe(
      true,
    );
    expect(Digest.of("hello").equals(Digest.of("hello!"))).toBe(false);
    expect(Digest.of("hello", "sha512").algorithm).toBe("sha512");
  });
});

describe("Digest.verifyBytes", () => {
  it("accepts matching bytes and names the content on a mismatch", () => {
    const digest = Digest.of("payload");
    expect(() => digest.verifyBytes(Buffer.from("payload"))).not.toThrow();
    expect(() => digest.verifyBytes(Buffer.from("payloaD"), "config X")).toThrow(/config X/);
  });
});

describe("Digest.verifier stream", () => {
  const data = Buffer.alloc(100_000, 7);
  const source = (): Readable =>
    Readable.from([data.subarray(0, 33_333), data.subarray(33_333, 70_001), data.subarray(70_001)]);

  it("passes matching bytes through unchanged", async () => {
    const out = await readAll(source().pipe(Digest.of(data).verifier("blob", data.length)));
    expect(out.equals(data)).toBe(true);
  });

  it("fails with DIGEST_MISMATCH when the bytes differ", async () => {
    const wrong = Digest.of("something else");
    const error = await pipeline(source(), wrong.verifier("layer L"), async (s) => {
      for await (const _ of s) void _;
    }).catch((e: unknown) => e);
    expect(isMegaliftError(error, "DIGEST_MISMATCH")).toBe(true);
    expect(String(error)).toContain("layer L");
    expect(String(error)).toContain(Digest.of(data).toString());
  });

  it("fails with DIGEST_MISMATCH when the size differs even if the hash matches", async () => {
    const error = await readAll(
      source().pipe(Digest.of(data).verifier("blob", data.length + 1)),
    ).catch((e: unknown) => e);
    expect(isMegaliftError(error, "DIGEST_MISMATCH")).toBe(true);
    expect(String(error)).toMatch(/size mismatch.*expected 100001 bytes, got 100000/);
  });
});
