// Instructions that work on the exponent or the integral part of a value
// (SDM Vol. 2A "FRNDINT", "FSCALE", "FXTRACT"): all three are exact except
// for the rounding FRNDINT does by the RC field and FSCALE's over- and
// underflow, which round like any other result.
import {
  bitLength,
  classify,
  EXP_BIAS,
  float80,
  INDEFINITE,
  signedInfinity,
  signedZero,
  toExact,
  type Float80,
} from "./float80.js";
import { nanOperands, type Result } from "./arith.js";
import { loadInteger, roundToInteger } from "./convert.js";
import { DE, IE, PE, round80, ZE, type RoundingMode } from "./round.js";

/** FRNDINT: round to an integral value by RC, keeping the sign of zero. */
export function roundToIntegral(a: Float80, rc: RoundingMode): Result {
  const nan = nanOperands(a);
  if (nan) return nan;
  const k = classify(a);
  if (k === "zero" || k === "infinity") return { value: a, flags: 0 };
  const { int, inexact } = roundToInteger(toExact(a), rc);
  const flags = (inexact ? PE : 0) | (k === "denormal" ? DE : 0);
  if (int === 0n) return { value: signedZero(a.sign), flags };
  const v = loadInteger(int);
  return { value: float80(a.sign, v.exp, v.sig), flags, roundedUp: inexact && int !== 0n };
}

/** FSCALE: ST(0) × 2^trunc(ST(1)), exact unless it leaves the extended range. */
export function scale(a: Float80, b: Float80, rc: RoundingMode): Result {
  const nan = nanOperands(a, b);
  if (nan) return nan;
  const ka = classify(a);
  const kb = classify(b);
  if (kb === "infinity") {
    // 0 × 2^+∞ and ∞ × 2^−∞ are invalid; otherwise ±∞ or ±0.
    if (b.sign === 0) {
      if (ka === "zero") return { value: INDEFINITE, flags: IE };
      return { value: signedInfinity(a.sign), flags: 0 };
    }
    if (ka === "infinity") return { value: INDEFINITE, flags: IE };
    return { value: signedZero(a.sign), flags: 0 };
  }
  if (ka === "zero" || ka === "infinity") return { value: a, flags: 0 };
  const { int } = roundToInteger(toExact(b), 3);
  const n = b.sign === 1 ? -int : int;
  // Beyond ±2^17 every result over- or underflows the same way.
  const clamped = n > 70000n ? 70000 : n < -70000n ? -70000 : Number(n);
  const x = toExact(a);
  const r = round80({ ...x, exp: x.exp + clamped }, rc);
  const flags = r.flags | (ka === "denormal" || kb === "denormal" ? DE : 0);
  return { value: r.value, flags, roundedUp: r.roundedUp };
}

/**
 * FXTRACT: [exponent, significand] — the exponent as a value (ST(1) after the
 * push) and the significand with exponent 0 (ST(0)). Zero gives −∞ and
 * signals divide-by-zero; ∞ gives +∞ and ±∞ (Vol. 2A "FXTRACT").
 */
export function extract(a: Float80): { exponent: Float80; significand: Float80; flags: number } {
  const nan = nanOperands(a);
  if (nan) return { exponent: nan.value, significand: nan.value, flags: nan.flags };
  const k = classify(a);
  if (k === "zero") return { exponent: signedInfinity(1), significand: a, flags: ZE };
  if (k === "infinity") return { exponent: signedInfinity(0), significand: a, flags: 0 };
  const x = toExact(a);
  const n = bitLength(x.mag);
  const exponent = loadInteger(BigInt(x.exp + n - 1));
  const significand = float80(a.sign, EXP_BIAS, x.mag << BigInt(64 - n));
  return { exponent, significand, flags: k === "denormal" ? DE : 0 };
}
