// The file-hash memo: a file's BLAKE3 comes from the memo only for the
// version of the file it was computed for (device, inode, size, mtime,
// ctime); any other version, a damaged memo or a file changed too recently
// to trust its timestamps is hashed again.
import { mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { blake3Hex } from "../../src/hash/blake3.js";
import { readFileHashed } from "../../src/hash/file-hash-memo.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-file-hash-memo-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Settled at once (a ctime up to a second past the millisecond clock
 * counts): the tests need not wait for the timestamps to age.
 */
const NOW = { settledNs: -1_000_000_000n };

function fresh(name: string, content: string): { file: string; memo: string } {
  const file = join(dir, `${name}.bin`);
  writeFileSync(file, content);
  return { file, memo: join(dir, `${name}-memo`) };
}

function memoFileOf(file: string, memo: string): string {
  const st = statSync(file, { bigint: true });
  return join(memo, `${st.dev}-${st.ino}`);
}

describe("readFileHashed", () => {
  it("hashes a file once and then answers from the memo, with the file's bytes", () => {
    const { file, memo } = fresh("once", "first version");
    const first = readFileHashed(file, memo, NOW);
    expect(first).toMatchObject({
      hash: blake3Hex(Buffer.from("first version")),
      remembered: false,
    });
    const second = readFileHashed(file, memo, NOW);
    expect(second.remembered).toBe(true);
    expect(second.hash).toBe(first.hash);
    expect(second.bytes.toString()).toBe("first version");
  });

  it("hashes a changed file again, even when its size stays the same", () => {
    const { file, memo } = fresh("changed", "version A");
    readFileHashed(file, memo, NOW);
    writeFileSync(file, "version B");
    // Another mtime, whatever the clock's tick: the version must differ.
    utimesSync(file, new Date(1_000_000_000_000), new Date(1_000_000_000_000));
    const after = readFileHashed(file, memo, NOW);
    expect(after).toMatchObject({ hash: blake3Hex(Buffer.from("version B")), remembered: false });
    expect(readFileHashed(file, memo, NOW).remembered).toBe(true);
  });

  it("does not trust a memo for another version or a damaged one", () => {
    const { file, memo } = fresh("forged", "the real bytes");
    readFileHashed(file, memo, NOW);
    const entry = memoFileOf(file, memo);
    const wrongHash = "0".repeat(64);
    const st = statSync(file, { bigint: true });
    writeFileSync(entry, `${st.size + 1n} ${st.mtimeNs} ${st.ctimeNs}\n${wrongHash}\n`);
    expect(readFileHashed(file, memo, NOW)).toMatchObject({
      hash: blake3Hex(Buffer.from("the real bytes")),
      remembered: false,
    });
    writeFileSync(entry, `${st.size} ${st.mtimeNs} ${st.ctimeNs}\nnot a hash\n`);
    expect(readFileHashed(file, memo, NOW).remembered).toBe(false);
  });

  it("does not remember a file changed within the settling time", () => {
    const { file, memo } = fresh("racy", "just written");
    const result = readFileHashed(file, memo);
    expect(result).toMatchObject({
      hash: blake3Hex(Buffer.from("just written")),
      remembered: false,
    });
    expect(readdirSync(dir)).not.toContain("racy-memo");
    expect(readFileHashed(file, memo).remembered).toBe(false);
  });

  it("still hashes when the memo directory cannot be written", () => {
    const { file } = fresh("readonly", "bytes");
    const blocked = join(dir, "a-file-not-a-directory");
    writeFileSync(blocked, "");
    const result = readFileHashed(file, join(blocked, "memo"), NOW);
    expect(result).toMatchObject({ hash: blake3Hex(Buffer.from("bytes")), remembered: false });
  });
});
