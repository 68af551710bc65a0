// The x87 double extended-precision value (SDM Vol. 1 §4.2.2, Figure 4-3):
// sign, 15-bit exponent biased 16383 and a 64-bit significand whose bit 63
// is the explicit integer bit. Values are immutable; `Exact` is a finite
// value as an exact binary fraction (magnitude × 2^exponent) that arithmetic
// works on before it rounds once (round.ts).

export interface Float80 {
  readonly sign: 0 | 1;
  /** Biased exponent, 0 … 0x7fff. */
  readonly exp: number;
  /** 64-bit significand including the explicit integer bit. */
  readonly sig: bigint;
}

/** A finite value: (-1)^sign × mag × 2^exp, exactly. */
export interface Exact {
  readonly sign: 0 | 1;
  readonly mag: bigint;
  readonly exp: number;
}

export const EXP_BIAS = 16383;
export const EXP_MAX = 0x7fff;
export const INTEGER_BIT = 1n << 63n;
export const QUIET_BIT = 1n << 62n;
const SIG_MASK = (1n << 64n) - 1n;

/** SDM Vol. 1 Table 4-3, extended: the classes an encoding falls in. */
export type Float80Class =
  | "zero"
  | "denormal"
  | "normal"
  | "infinity"
  | "qnan"
  | "snan"
  /** Unnormals, pseudo-NaNs and pseudo-infinities: invalid operands since the 80387 (§8.2.2). */
  | "unsupported";

export const float80 = (sign: 0 | 1, exp: number, sig: bigint): Float80 => ({ sign, exp, sig });

export const ZERO: Float80 = float80(0, 0, 0n);
export const ONE: Float80 = float80(0, EXP_BIAS, INTEGER_BIT);
export const INFINITY: Float80 = float80(0, EXP_MAX, INTEGER_BIT);
/** The "real indefinite" QNaN the masked invalid-operation response writes (§4.8.3.7). */
export const INDEFINITE: Float80 = float80(1, EXP_MAX, INTEGER_BIT | QUIET_BIT);

export const negate = (v: Float80): Float80 => float80(v.sign === 0 ? 1 : 0, v.exp, v.sig);
export const withSign = (v: Float80, sign: 0 | 1): Float80 => float80(sign, v.exp, v.sig);
export const signedZero = (sign: 0 | 1): Float80 => float80(sign, 0, 0n);
export const signedInfinity = (sign: 0 | 1): Float80 => float80(sign, EXP_MAX, INTEGER_BIT);

export function classify(v: Float80): Float80Class {
  const integer = (v.sig & INTEGER_BIT) !== 0n;
  if (v.exp === EXP_MAX) {
    if (!integer) return "unsupported";
    if ((v.sig & ~INTEGER_BIT) === 0n) return "infinity";
    return (v.sig & QUIET_BIT) !== 0n ? "qnan" : "snan";
  }
  if (v.exp === 0) return v.sig === 0n ? "zero" : "denormal";
  return integer ? "normal" : "unsupported";
}

export const isNaN80 = (v: Float80): boolean => {
  const k = classify(v);
  return k === "qnan" || k === "snan";
};

/** True for zeros, denormals and normals (including pseudo-denormals). */
export const isFinite80 = (v: Float80): boolean => {
  const k = classify(v);
  return k === "zero" || k === "denormal" || k === "normal";
};

/** A finite value as an exact fraction; pseudo-denormals use exponent 1 like hardware (§8.2.2). */
export function toExact(v: Float80): Exact {
  const e = v.exp === 0 ? 1 : v.exp;
  return { sign: v.sign, mag: v.sig, exp: e - EXP_BIAS - 63 };
}

/** A quiet copy of a NaN (sets the quiet bit, SDM Vol. 1 §4.8.3.4). */
export const quiet = (v: Float80): Float80 => float80(v.sign, v.exp, v.sig | QUIET_BIT);

export function readFloat80(view: DataView, address: number): Float80 {
  const sig = view.getBigUint64(address, true);
  const se = view.getUint16(address + 8, true);
  return float80((se >> 15) as 0 | 1, se & EXP_MAX, sig);
}

export function writeFloat80(view: DataView, address: number, v: Float80): void {
  view.setBigUint64(address, v.sig & SIG_MASK, true);
  view.setUint16(address + 8, (v.sign << 15) | v.exp, true);
}

const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);

/**
 * Number of significant bits of a non-negative bigint, read from the
 * exponent of its conversion to a double (hot: every rounding needs it).
 */
export function bitLength(n: bigint): number {
  if (n === 0n) return 0;
  scratch[0] = Number(n);
  const high = scratchWords[1] as number;
  const exponent = high >>> 20;
  if (exponent === 0x7ff) {
    // 2^1024 or more: shift by doubling amounts until a double holds it.
    let shift = 512;
    while (n >> BigInt(shift * 2) !== 0n) shift *= 2;
    return shift + bitLength(n >> BigInt(shift));
  }
  const k = exponent - 1022;
  // A power of two may come from rounding up: then check the bit below.
  if ((high & 0xfffff) === 0 && scratchWords[0] === 0 && n >> BigInt(k - 1) === 0n) return k - 1;
  return k;
}

/** Hex form for tests and diagnostics: "sEEEE:SSSSSSSSSSSSSSSS". */
export const hex80 = (v: Float80): string =>
  `${((v.sign << 15) | v.exp).toString(16).padStart(4, "0")}:${v.sig.toString(16).padStart(16, "0")}`;
