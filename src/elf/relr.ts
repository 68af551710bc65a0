// RELR: the packed encoding of relative relocations (the "RELR relative
// relocation format" proposal on the generic-abi list, 2017, adopted into
// the gABI as SHT_RELR / DT_RELR; binutils ld `-z pack-relative-relocs`).
// Each 64-bit word is either an address (bit 0 clear): relocate the word
// there and continue at address + 8; or a bitmap (bit 0 set): bit i (1..63)
// relocates the word at base + (i - 1) * 8, after which base moves on by
// 63 words. Every relocated word holds its own addend (REL-style): at run
// time it becomes load base + stored value, exactly R_X86_64_RELATIVE.
import { elfMalformed } from "./byte-reader.js";

const WORD = 8n;
const BITMAP_SPAN = 63n * WORD;

/**
 * The addresses a RELR table relocates, in table order. `errorOffset` is the
 * file offset of the table, for the one malformation the encoding has: a
 * bitmap before any address entry.
 */
export function decodeRelr(words: readonly bigint[], errorOffset = 0): bigint[] {
  const addresses: bigint[] = [];
  let base: bigint | undefined;
  for (const [i, word] of words.entries()) {
    if ((word & 1n) === 0n) {
      addresses.push(word);
      base = word + WORD;
      continue;
    }
    if (base === undefined) {
      elfMalformed("RELR bitmap entry before any address entry", errorOffset + i * 8);
    }
    for (let bit = 1n, bits = word >> 1n; bits !== 0n; bit++, bits >>= 1n) {
      if ((bits & 1n) !== 0n) addresses.push(base + (bit - 1n) * WORD);
    }
    base += BITMAP_SPAN;
  }
  return addresses;
}

/** The inverse of decodeRelr, for tests and tools: sorted, 8-aligned addresses → RELR words. */
export function encodeRelr(addresses: readonly bigint[]): bigint[] {
  const words: bigint[] = [];
  let i = 0;
  while (i < addresses.length) {
    const first = addresses[i++] as bigint;
    words.push(first);
    let base = first + WORD;
    while (i < addresses.length) {
      let bitmap = 0n;
      while (i < addresses.length) {
        const delta = (addresses[i] as bigint) - base;
        if (delta < 0n || delta >= BITMAP_SPAN || delta % WORD !== 0n) break;
        bitmap |= 1n << (delta / WORD + 1n);
        i++;
      }
      if (bitmap === 0n) break;
      words.push(bitmap | 1n);
      base += BITMAP_SPAN;
    }
  }
  return words;
}
