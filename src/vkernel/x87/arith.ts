// x87 arithmetic computed exactly with BigInt and rounded once (SDM Vol. 1
// §4.8.4, §8.1.5.2; Vol. 2A "FADD", "FSUB", "FMUL", "FDIV", "FSQRT"): the
// exact sum, product, quotient (with a sticky bit) or square root goes to
// round.ts, so every result is the correctly rounded one hardware gives.
// Special operands follow SDM Vol. 1 Table 4-7 (NaN propagation) and §4.9.1
// (invalid operation, divide by zero, denormal operand).
import {
  bitLength,
  classify,
  INDEFINITE,
  quiet,
  signedInfinity,
  signedZero,
  toExact,
  type Exact,
  type Float80,
} from "./float80.js";
import { DE, IE, RC_DOWN, round80, ZE, type Format, type RoundingMode } from "./round.js";

/** What an operation produced: the value, exception flags and C1. */
export interface Result {
  readonly value: Float80;
  readonly flags: number;
  readonly roundedUp?: boolean;
}

/** Rounding context: the control word's RC field and (precision-controlled) format. */
export interface Env {
  readonly rc: RoundingMode;
  readonly fmt: Format;
}

const invalid = (): Result => ({ value: INDEFINITE, flags: IE });

/**
 * The NaN (or invalid) result when an operand is a NaN or an unsupported
 * encoding, per SDM Vol. 1 Table 4-7: an SNaN is quieted and signals IE;
 * of two NaNs the one with the larger significand wins (x87 rule).
 */
export function nanOperands(a: Float80, b?: Float80): Result | undefined {
  const ka = classify(a);
  const kb = b === undefined ? "zero" : classify(b);
  if (ka === "unsupported" || kb === "unsupported") return invalid();
  const aNaN = ka === "qnan" || ka === "snan";
  const bNaN = kb === "qnan" || kb === "snan";
  if (!aNaN && !bNaN) return undefined;
  const flags = ka === "snan" || kb === "snan" ? IE : 0;
  if (aNaN && bNaN && b !== undefined) {
    if (ka !== kb) return { value: quiet(ka === "qnan" ? a : b), flags };
    return { value: quiet(b.sig > a.sig ? b : a), flags };
  }
  return { value: quiet(aNaN ? a : (b as Float80)), flags };
}

const denormalFlag = (...vs: Float80[]): number =>
  vs.some((v) => classify(v) === "denormal") ? DE : 0;

function finish(x: Exact, env: Env, extra: number): Result {
  const r = round80(x, env.rc, env.fmt);
  return { value: r.value, flags: r.flags | extra, roundedUp: r.roundedUp };
}

/** a + b (b negated first when `negateB`): FADD, FSUB, FSUBR. */
export function add(a: Float80, b: Float80, env: Env, negateB = false): Result {
  const nan = nanOperands(a, b);
  if (nan) return nan;
  const bSign = (negateB ? 1 - b.sign : b.sign) as 0 | 1;
  const ka = classify(a);
  const kb = classify(b);
  // A denormal operand is reported even when the other one is infinite (measured).
  const flags = denormalFlag(a, b);
  if (ka === "infinity" && kb === "infinity")
    return a.sign === bSign ? { value: a, flags: 0 } : invalid();
  if (ka === "infinity") return { value: a, flags };
  if (kb === "infinity") return { value: signedInfinity(bSign), flags };
  const [x, y] = nearEnough(toExact(a), { ...toExact(b), sign: bSign });
  const e = Math.min(x.exp, y.exp);
  const mx = x.mag << BigInt(x.exp - e);
  const my = y.mag << BigInt(y.exp - e);
  const sum = (x.sign ? -mx : mx) + (y.sign ? -my : my);
  if (sum === 0n) {
    // An exact zero sum is +0, or −0 when rounding down; −0 + −0 is −0 (§4.8.3.2).
    const sign: 0 | 1 = x.sign === y.sign ? x.sign : env.rc === RC_DOWN ? 1 : 0;
    return { value: signedZero(sign), flags };
  }
  const sign: 0 | 1 = sum < 0n ? 1 : 0;
  return finish({ sign, mag: sign ? -sum : sum, exp: e }, env, flags);
}

/**
 * The two addends, the smaller replaced when it cannot change the rounded
 * sum but through its sign. Aligning them exactly would shift the larger by
 * the whole gap between their exponents: thousands of bits for x + 0
 * (a zero's exponent is the format's smallest) or for 1 + 2^-16000. The
 * sum goes to a format of at most 64 bits, whose rounding boundaries near
 * a value of top bit 2^t are at least 2^(t-65) apart below it: any nonzero
 * addend under that gives the same result and flags in every mode. A zero
 * addend is dropped (as a zero of its sign: ±0 ± 0 keeps its rule).
 */
function nearEnough(x: Exact, y: Exact): [Exact, Exact] {
  if (x.mag === 0n && y.mag === 0n) return [x, y];
  if (x.mag === 0n) return [{ ...x, exp: y.exp }, y];
  if (y.mag === 0n) return [x, { ...y, exp: x.exp }];
  const tx = x.exp + bitLength(x.mag) - 1;
  const ty = y.exp + bitLength(y.mag) - 1;
  if (tx - ty > 70) return [x, { sign: y.sign, mag: 1n, exp: tx - 72 }];
  if (ty - tx > 70) return [{ sign: x.sign, mag: 1n, exp: ty - 72 }, y];
  return [x, y];
}

export function multiply(a: Float80, b: Float80, env: Env): Result {
  const nan = nanOperands(a, b);
  if (nan) return nan;
  const sign = (a.sign ^ b.sign) as 0 | 1;
  const ka = classify(a);
  const kb = classify(b);
  if (ka === "infinity" || kb === "infinity") {
    if (ka === "zero" || kb === "zero") return invalid();
    return { value: signedInfinity(sign), flags: denormalFlag(a, b) };
  }
  if (ka === "zero" || kb === "zero") return { value: signedZero(sign), flags: denormalFlag(a, b) };
  const x = toExact(a);
  const y = toExact(b);
  return finish({ sign, mag: x.mag * y.mag, exp: x.exp + y.exp }, env, denormalFlag(a, b));
}

/** The quotient of two finite non-zero values with a sticky bit, for round(). */
export function exactQuotient(x: Exact, y: Exact, extraBits = 70): Exact {
  const k = Math.max(0, extraBits + bitLength(y.mag) - bitLength(x.mag));
  const num = x.mag << BigInt(k);
  const q = num / y.mag;
  const sticky = num - q * y.mag === 0n ? 0n : 1n;
  return { sign: (x.sign ^ y.sign) as 0 | 1, mag: (q << 1n) | sticky, exp: x.exp - y.exp - k - 1 };
}

/** a / b: FDIV, FDIVR. */
export function divide(a: Float80, b: Float80, env: Env): Result {
  const nan = nanOperands(a, b);
  if (nan) return nan;
  const sign = (a.sign ^ b.sign) as 0 | 1;
  const ka = classify(a);
  const kb = classify(b);
  if (ka === "infinity")
    return kb === "infinity" ? invalid() : { value: signedInfinity(sign), flags: denormalFlag(b) };
  if (kb === "infinity") return { value: signedZero(sign), flags: denormalFlag(a) };
  if (kb === "zero") {
    if (ka === "zero") return invalid();
    return { value: signedInfinity(sign), flags: ZE }; // no DE with ZE (measured)
  }
  if (ka === "zero") return { value: signedZero(sign), flags: denormalFlag(b) };
  return finish(exactQuotient(toExact(a), toExact(b)), env, denormalFlag(a, b));
}

/** Integer square root (floor) by Newton's iteration. */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLength(n) >> 1) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** √x of a finite positive value with a sticky bit, for round(). */
export function exactSqrt(x: Exact, bits = 140): Exact {
  let k = Math.max(0, bits - bitLength(x.mag));
  if ((x.exp - k) % 2 !== 0) k++;
  const m = x.mag << BigInt(k);
  const s = isqrt(m);
  const sticky = s * s === m ? 0n : 1n;
  return { sign: 0, mag: (s << 1n) | sticky, exp: (x.exp - k) / 2 - 1 };
}

/** FSQRT: √−0 is −0, any other negative operand is invalid (Vol. 2A "FSQRT"). */
export function sqrt(a: Float80, env: Env): Result {
  const nan = nanOperands(a);
  if (nan) return nan;
  const k = classify(a);
  if (k === "zero") return { value: a, flags: 0 };
  if (a.sign === 1) return invalid();
  if (k === "infinity") return { value: a, flags: 0 };
  return finish(exactSqrt(toExact(a)), env, denormalFlag(a));
}
