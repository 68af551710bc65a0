// FPREM and FPREM1 (SDM Vol. 2A "FPREM", "FPREM1"): the exact partial
// remainder of ST(0) by ST(1). When the exponents differ by 64 or more the
// instruction only reduces by a multiple of 2^(D−N) and sets C2, so software
// loops; otherwise the remainder is complete, C2 is clear and C0, C3, C1 get
// the low three bits of the quotient. The remainder is always exact.
import { bitLength, classify, INDEFINITE, signedZero, toExact, type Float80 } from "./float80.js";
import { nanOperands } from "./arith.js";
import { DE, IE, RC_NEAREST, round80 } from "./round.js";

export interface RemainderResult {
  readonly value: Float80;
  readonly flags: number;
  /** Incomplete reduction (C2). */
  readonly partial: boolean;
  /** Low three quotient bits (Q2 → C0, Q1 → C3, Q0 → C1) of a complete reduction. */
  readonly quotientBits: number;
}

/**
 * N of the partial reduction, "an implementation-dependent number between 32
 * and 63": measured on hardware (20 000 random operands), N = 32 + (D mod 32).
 * Only the intermediate remainders depend on it, not the final one.
 */
const partialN = (d: number): number => 32 + (d % 32);

/** `ieee` selects FPREM1 (quotient rounded to nearest) over FPREM (truncated). */
export function partialRemainder(a: Float80, b: Float80, ieee: boolean): RemainderResult {
  const done = (value: Float80, flags: number): RemainderResult => ({
    value,
    flags,
    partial: false,
    quotientBits: 0,
  });
  const nan = nanOperands(a, b);
  if (nan) return done(nan.value, nan.flags);
  const ka = classify(a);
  const kb = classify(b);
  if (ka === "infinity" || kb === "zero") return done(INDEFINITE, IE);
  const flags = ka === "denormal" || kb === "denormal" ? DE : 0;
  if (ka === "zero" || kb === "infinity") return done(a, flags);
  const x = toExact(a);
  const y = toExact(b);
  const d = x.exp + bitLength(x.mag) - (y.exp + bitLength(y.mag));
  const e = Math.min(x.exp, y.exp);
  const mx = x.mag << BigInt(x.exp - e);
  let my = y.mag << BigInt(y.exp - e);
  let partial = false;
  if (d >= 64) {
    partial = true;
    my <<= BigInt(d - partialN(d));
  }
  let q = mx / my;
  let r = mx - q * my;
  let sign = x.sign;
  if (ieee && !partial) {
    // Round the quotient to nearest, ties to even: r > my/2, or = my/2 with q odd.
    const twice = r << 1n;
    if (twice > my || (twice === my && (q & 1n) === 1n)) {
      q += 1n;
      r = my - r;
      sign = (1 - sign) as 0 | 1;
    }
  }
  const value = r === 0n ? signedZero(x.sign) : round80({ sign, mag: r, exp: e }, RC_NEAREST).value;
  const quotientBits = partial ? 0 : Number(q & 7n);
  return { value, flags, partial, quotientBits };
}
