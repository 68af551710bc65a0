// A seeded 64-bit xorshift generator (Marsaglia 2003, shifts 13, 7, 17) for
// tests that sweep random operands: the same seed gives the same cases on
// every run, so a failure names operands that fail again.
export function xorshift64(seed: bigint): () => bigint {
  let state = seed;
  return () => {
    state ^= (state << 13n) & 0xffffffffffffffffn;
    state ^= state >> 7n;
    state ^= (state << 17n) & 0xffffffffffffffffn;
    return state;
  };
}
