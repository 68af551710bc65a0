// Rounding an exact value once to a floating-point format (SDM Vol. 1 §4.8.4
// "Rounding", §4.9.1.4–5 overflow and underflow, §8.1.5.2 precision
// control): the four rounding modes, gradual underflow to denormals, and the
// masked responses to overflow (∞ or the largest finite value, depending on
// the mode) — with the exception flags it raises and whether it rounded up
// (C1, §8.1.3.3).
import {
  bitLength,
  EXP_BIAS,
  float80,
  signedInfinity,
  signedZero,
  type Exact,
  type Float80,
} from "./float80.js";

/** The RC field of the control word (SDM Vol. 1 Table 4-8). */
export type RoundingMode = 0 | 1 | 2 | 3;
export const RC_NEAREST = 0;
export const RC_DOWN = 1;
export const RC_UP = 2;
export const RC_ZERO = 3;

/** Exception flags, in the bit positions of the status word (SDM Vol. 1 §8.1.3). */
export const IE = 0x01;
export const DE = 0x02;
export const ZE = 0x04;
export const OE = 0x08;
export const UE = 0x10;
export const PE = 0x20;

/** A binary format: significand bits (integer bit included) and normal exponent range. */
export interface Format {
  readonly precision: number;
  readonly emin: number;
  readonly emax: number;
}

export const EXTENDED: Format = { precision: 64, emin: -16382, emax: 16383 };
export const DOUBLE: Format = { precision: 53, emin: -1022, emax: 1023 };
export const SINGLE: Format = { precision: 24, emin: -126, emax: 127 };

/** The extended exponent range with a narrower significand (precision control, §8.1.5.2). */
export const extendedWithPrecision = (precision: number): Format =>
  precision === 64 ? EXTENDED : { precision, emin: EXTENDED.emin, emax: EXTENDED.emax };

export interface Rounded {
  /** The representable result, or "infinity" after a rounded-to-∞ overflow. */
  readonly value: Exact | "infinity";
  /** Exception flags (IE…PE bits) the rounding raised. */
  readonly flags: number;
  /** The magnitude was increased (C1 for an inexact result). */
  readonly roundedUp: boolean;
}

function increment(rc: RoundingMode, sign: 0 | 1, cmpHalf: number, odd: boolean): boolean {
  switch (rc) {
    case RC_NEAREST:
      return cmpHalf > 0 || (cmpHalf === 0 && odd);
    case RC_DOWN:
      return sign === 1;
    case RC_UP:
      return sign === 0;
    default:
      return false;
  }
}

/** Rounds `x` to `fmt` with the mode `rc`, with gradual underflow. */
export function round(x: Exact, fmt: Format, rc: RoundingMode): Rounded {
  const p = fmt.precision;
  if (x.mag === 0n) return { value: x, flags: 0, roundedUp: false };
  const top = x.exp + bitLength(x.mag) - 1;
  let q = Math.max(top - (p - 1), fmt.emin - (p - 1));
  const shift = q - x.exp;
  let keep: bigint;
  let inexact = false;
  let up = false;
  if (shift <= 0) keep = x.mag << BigInt(-shift);
  else {
    const s = BigInt(shift);
    keep = x.mag >> s;
    const rem = x.mag - (keep << s);
    inexact = rem !== 0n;
    const half = 1n << (s - 1n);
    if (inexact) {
      const cmp = rem > half ? 1 : rem === half ? 0 : -1;
      up = increment(rc, x.sign, cmp, (keep & 1n) === 1n);
    }
  }
  if (up) keep += 1n;
  if (keep >> BigInt(p) !== 0n) {
    keep >>= 1n;
    q += 1;
  }
  let flags = inexact ? PE : 0;
  if (keep !== 0n && q + bitLength(keep) - 1 > fmt.emax) {
    const toInfinity =
      rc === RC_NEAREST || (rc === RC_UP && x.sign === 0) || (rc === RC_DOWN && x.sign === 1);
    flags = OE | PE;
    if (toInfinity) return { value: "infinity", flags, roundedUp: true };
    const max = (1n << BigInt(p)) - 1n;
    return { value: { sign: x.sign, mag: max, exp: fmt.emax - (p - 1) }, flags, roundedUp: false };
  }
  // Tininess after rounding with an unbounded exponent (§4.9.1.5); masked
  // underflow is only signalled together with inexact.
  if (inexact && top < fmt.emin) {
    let tiny = true;
    if (top === fmt.emin - 1) {
      const unbounded = round(x, { precision: p, emin: top, emax: fmt.emax }, rc);
      const v = unbounded.value;
      tiny = v === "infinity" || v.exp + bitLength(v.mag) - 1 < fmt.emin;
    }
    if (tiny) flags |= UE;
  }
  return { value: { sign: x.sign, mag: keep, exp: q }, flags, roundedUp: up };
}

/** A representable exact value (or ∞) as its 80-bit encoding. */
export function encode80(value: Exact | "infinity", sign: 0 | 1): Float80 {
  if (value === "infinity") return signedInfinity(sign);
  if (value.mag === 0n) return signedZero(sign);
  const n = bitLength(value.mag);
  const top = value.exp + n - 1;
  if (top >= EXTENDED.emin) {
    return float80(sign, top + EXP_BIAS, value.mag << BigInt(64 - n));
  }
  return float80(sign, 0, value.mag << BigInt(value.exp - (EXTENDED.emin - 63)));
}

/** Encodes into an IEEE binary interchange format with a hidden bit (m32fp, m64fp). */
function encodeIeee(value: Exact | "infinity", sign: 0 | 1, fmt: Format, expBits: number): bigint {
  const fracBits = fmt.precision - 1;
  const signBit = BigInt(sign) << BigInt(expBits + fracBits);
  const maxExp = (1n << BigInt(expBits)) - 1n;
  if (value === "infinity") return signBit | (maxExp << BigInt(fracBits));
  if (value.mag === 0n) return signBit;
  const n = bitLength(value.mag);
  const top = value.exp + n - 1;
  if (top >= fmt.emin) {
    const frac = (value.mag << BigInt(fmt.precision - n)) - (1n << BigInt(fracBits));
    return signBit | (BigInt(top + fmt.emax) << BigInt(fracBits)) | frac;
  }
  return signBit | (value.mag << BigInt(value.exp - (fmt.emin - fracBits)));
}

export const encodeDouble = (value: Exact | "infinity", sign: 0 | 1): bigint =>
  encodeIeee(value, sign, DOUBLE, 11);
export const encodeSingle = (value: Exact | "infinity", sign: 0 | 1): bigint =>
  encodeIeee(value, sign, SINGLE, 8);

/** Rounds to the extended format (precision-controlled) and encodes it. */
export function round80(
  x: Exact,
  rc: RoundingMode,
  fmt: Format = EXTENDED,
): { value: Float80; flags: number; roundedUp: boolean } {
  const r = round(x, fmt, rc);
  return { value: encode80(r.value, x.sign), flags: r.flags, roundedUp: r.roundedUp };
}
