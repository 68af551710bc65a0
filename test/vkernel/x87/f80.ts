// Test helper: an 80-bit value from its "sEEEE:SSSSSSSSSSSSSSSS" hex form
// (sign and exponent word, then the 64-bit significand), as hex80 prints it.
import { float80, type Float80 } from "../../../src/vkernel/x87/float80.js";

export function f80(text: string): Float80 {
  const [se, sig] = text.split(":") as [string, string];
  const n = parseInt(se, 16);
  return float80((n >> 15) as 0 | 1, n & 0x7fff, BigInt(`0x${sig}`));
}
