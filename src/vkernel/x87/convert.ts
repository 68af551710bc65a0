// Conversions between the x87 register format and memory formats (SDM Vol. 1
// §4.2, §8.5.6, Vol. 2A "FLD", "FST/FSTP", "FILD", "FIST/FISTP", "FISTTP"):
// m32fp and m64fp load exactly and store rounded by the RC field; integers
// load exactly and store rounded (or truncated by FISTTP), with the integer
// indefinite (the most negative value) as the masked invalid response.
import {
  classify,
  EXP_BIAS,
  float80,
  INTEGER_BIT,
  quiet,
  signedZero,
  toExact,
  type Exact,
  type Float80,
} from "./float80.js";
import {
  DE,
  DOUBLE,
  encode80,
  encodeDouble,
  encodeSingle,
  IE,
  PE,
  RC_DOWN,
  RC_NEAREST,
  RC_UP,
  round,
  SINGLE,
  type Format,
  type RoundingMode,
} from "./round.js";

export interface Converted<T> {
  readonly value: T;
  readonly flags: number;
  /** The stored magnitude was rounded up (C1, SDM Vol. 1 §8.1.3.3). */
  readonly roundedUp?: boolean;
}

/** Loads an IEEE binary format (hidden integer bit) exactly into the register format. */
function loadIeee(bits: bigint, fmt: Format, expBits: number): Converted<Float80> {
  const fracBits = fmt.precision - 1;
  const sign = Number(bits >> BigInt(expBits + fracBits)) as 0 | 1;
  const biased = Number((bits >> BigInt(fracBits)) & ((1n << BigInt(expBits)) - 1n));
  const frac = bits & ((1n << BigInt(fracBits)) - 1n);
  const maxExp = (1 << expBits) - 1;
  if (biased === maxExp) {
    const v = float80(sign, 0x7fff, INTEGER_BIT | (frac << BigInt(64 - fmt.precision)));
    // An SNaN load is an invalid operation; the masked response quiets it (§4.8.3.4).
    if (classify(v) === "snan") return { value: quiet(v), flags: IE };
    return { value: v, flags: 0 };
  }
  if (biased === 0) {
    if (frac === 0n) return { value: signedZero(sign), flags: 0 };
    return { value: encode80({ sign, mag: frac, exp: fmt.emin - fracBits }, sign), flags: DE };
  }
  const sig = (frac | (1n << BigInt(fracBits))) << BigInt(64 - fmt.precision);
  return { value: float80(sign, biased - fmt.emax + EXP_BIAS, sig), flags: 0 };
}

export const loadDouble = (bits: bigint): Converted<Float80> => loadIeee(bits, DOUBLE, 11);
export const loadSingle = (bits: number): Converted<Float80> =>
  loadIeee(BigInt(bits >>> 0), SINGLE, 8);

/** Stores to m32fp/m64fp, rounding with the RC field (not precision control). */
function storeIeee(
  v: Float80,
  rc: RoundingMode,
  fmt: Format,
  expBits: number,
  encode: (value: Exact | "infinity", sign: 0 | 1) => bigint,
): Converted<bigint> {
  const fracBits = fmt.precision - 1;
  const signBit = BigInt(v.sign) << BigInt(expBits + fracBits);
  const nanExp = ((1n << BigInt(expBits)) - 1n) << BigInt(fracBits);
  switch (classify(v)) {
    case "infinity":
      return { value: encode("infinity", v.sign), flags: 0 };
    case "qnan":
    case "snan": {
      const frac = (v.sig & ~INTEGER_BIT) >> BigInt(64 - fmt.precision);
      const quietBit = 1n << BigInt(fracBits - 1);
      const flags = classify(v) === "snan" ? IE : 0;
      return { value: signBit | nanExp | frac | quietBit, flags };
    }
    case "unsupported":
      return {
        value: (1n << BigInt(expBits + fracBits)) | nanExp | (1n << BigInt(fracBits - 1)),
        flags: IE,
      };
    default: {
      // Storing an extended denormal signals no DE (measured), only UE/PE.
      const r = round(toExact(v), fmt, rc);
      return { value: encode(r.value, v.sign), flags: r.flags, roundedUp: r.roundedUp };
    }
  }
}

export const storeDouble = (v: Float80, rc: RoundingMode): Converted<bigint> =>
  storeIeee(v, rc, DOUBLE, 11, encodeDouble);
export const storeSingle = (v: Float80, rc: RoundingMode): Converted<number> => {
  const r = storeIeee(v, rc, SINGLE, 8, encodeSingle);
  return { value: Number(r.value), flags: r.flags, roundedUp: r.roundedUp };
};

/** A signed integer, exactly (every int64 fits the 64-bit significand). */
export function loadInteger(n: bigint): Float80 {
  if (n === 0n) return signedZero(0);
  const sign: 0 | 1 = n < 0n ? 1 : 0;
  return encode80({ sign, mag: sign === 1 ? -n : n, exp: 0 }, sign);
}

/**
 * Rounds a finite value to an integral value by `rc` (frndint, fist): the
 * exact integer, and whether it was inexact.
 */
export function roundToInteger(
  x: Exact,
  rc: RoundingMode | "truncate",
): { int: bigint; inexact: boolean; up: boolean } {
  if (x.exp >= 0) return { int: x.mag << BigInt(x.exp), inexact: false, up: false };
  const shift = BigInt(-x.exp);
  const whole = x.mag >> shift;
  const rem = x.mag - (whole << shift);
  if (rem === 0n) return { int: whole, inexact: false, up: false };
  const half = 1n << (shift - 1n);
  let up: boolean;
  if (rc === RC_NEAREST) up = rem > half || (rem === half && (whole & 1n) === 1n);
  else if (rc === RC_DOWN) up = x.sign === 1;
  else if (rc === RC_UP) up = x.sign === 0;
  else up = false;
  return { int: up ? whole + 1n : whole, inexact: true, up };
}

/** FIST/FISTP/FISTTP to a `bits`-wide signed integer. */
export function storeInteger(
  v: Float80,
  bits: 16 | 32 | 64,
  rc: RoundingMode | "truncate",
): Converted<bigint> {
  const indefinite = { value: BigInt.asUintN(bits, -(1n << BigInt(bits - 1))), flags: IE };
  const k = classify(v);
  if (k === "zero") return { value: 0n, flags: 0 };
  if (k !== "normal" && k !== "denormal") return indefinite;
  const x = toExact(v);
  const { int, inexact, up } = roundToInteger(x, rc);
  const signed = x.sign === 1 ? -int : int;
  const limit = 1n << BigInt(bits - 1);
  if (signed < -limit || signed >= limit) return indefinite;
  return { value: BigInt.asUintN(bits, signed), flags: inexact ? PE : 0, roundedUp: up };
}

const BCD_LIMIT = 10n ** 18n;

/** FBLD: 18 packed BCD digits (low byte first) and the sign in bit 7 of byte 9. */
export function loadBcd(bytes: Uint8Array): Float80 {
  let n = 0n;
  for (let i = 8; i >= 0; i--) {
    const b = bytes[i] as number;
    n = n * 100n + BigInt((b >> 4) * 10 + (b & 15));
  }
  const negative = ((bytes[9] as number) & 0x80) !== 0;
  if (n === 0n) return signedZero(negative ? 1 : 0);
  return loadInteger(negative ? -n : n);
}

/**
 * FBSTP: rounds by RC to an integer of at most 18 digits; out of range or
 * not finite gives the packed BCD indefinite (FFFF C000 0000 0000 0000h).
 */
export function storeBcd(v: Float80, rc: RoundingMode): Converted<Uint8Array> {
  const out = new Uint8Array(10);
  const k = classify(v);
  let int = 0n;
  let flags = 0;
  let up = false;
  if (k === "normal" || k === "denormal") {
    const r = roundToInteger(toExact(v), rc);
    [int, up] = [r.int, r.up];
    flags = r.inexact ? PE : 0;
  } else if (k !== "zero") int = BCD_LIMIT;
  if (int >= BCD_LIMIT) {
    out.set([0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff]);
    return { value: out, flags: IE };
  }
  for (let i = 0; i < 9; i++) {
    const pair = Number(int % 100n);
    int /= 100n;
    out[i] = ((pair / 10) << 4) | (pair % 10);
  }
  out[9] = v.sign === 1 ? 0x80 : 0;
  return { value: out, flags, roundedUp: up };
}
