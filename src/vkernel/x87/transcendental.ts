// The x87 transcendental instructions (SDM Vol. 2A "F2XM1", "FYL2X",
// "FYL2XP1", "FSIN", "FCOS", "FSINCOS", "FPTAN", "FPATAN"), computed with
// precise.ts and rounded once by RC (precision control does not apply,
// Vol. 1 §8.1.5.2). Special operands follow the tables of each instruction.
// FSIN/FCOS/FSINCOS/FPTAN reduce their argument by a 66-bit π as the
// hardware does (Vol. 1 §8.3.10), so results near multiples of π/2 match the
// hardware's, not the exact function.
import {
  bitLength,
  classify,
  INDEFINITE,
  ONE,
  signedInfinity,
  signedZero,
  toExact,
  type Exact,
  type Float80,
} from "./float80.js";
import { nanOperands, type Result } from "./arith.js";
import { DE, IE, PE, round, round80, ZE, type RoundingMode } from "./round.js";
import {
  abs,
  add,
  atanBF,
  div,
  expm1Small,
  fromInt,
  inexact,
  LN2,
  log1pSmall,
  mul,
  PI,
  sinCosSmall,
  sub,
  topExponent,
} from "./precise.js";

const invalid: Result = { value: INDEFINITE, flags: IE };

const denormal = (...vs: Float80[]): number =>
  vs.some((v) => classify(v) === "denormal") ? DE : 0;

/** Rounds an irrational (inexact) working value. */
function irrational(x: Exact, rc: RoundingMode, flags = 0): Result {
  const r = round80(inexact(x), rc);
  return { value: r.value, flags: r.flags | flags | PE, roundedUp: r.roundedUp };
}

/** F2XM1: 2^x − 1, defined for −1 ≤ x ≤ +1. */
export function f2xm1(a: Float80, rc: RoundingMode): Result {
  const nan = nanOperands(a);
  if (nan) return nan;
  const k = classify(a);
  if (k === "zero") return { value: a, flags: 0 };
  if (k === "infinity") return { value: a.sign ? { ...ONE, sign: 1 } : a, flags: 0 };
  const x = toExact(a);
  // 2^x is rational only for integral x (±1 inside the defined range): exact then.
  const integral = x.exp >= 0 || (x.mag & ((1n << BigInt(-x.exp)) - 1n)) === 0n;
  if (integral && topExponent(x) < 14) {
    const n = Number(x.exp >= 0 ? x.mag << BigInt(x.exp) : x.mag >> BigInt(-x.exp));
    const exact: Exact =
      x.sign === 0
        ? { sign: 0, mag: (1n << BigInt(n)) - 1n, exp: 0 }
        : { sign: 1, mag: (1n << BigInt(n)) - 1n, exp: -n };
    const r = round80(exact, rc);
    return { value: r.value, flags: r.flags, roundedUp: r.roundedUp };
  }
  return irrational(expm1Small(mul(x, LN2)), rc, denormal(a));
}

/** log2 of a finite positive value: [exact integer, or undefined when irrational; working value]. */
function log2Of(x: Exact): { exact?: bigint; approx: Exact } {
  const n = bitLength(x.mag);
  let e = x.exp + n - 1;
  if (x.mag === 1n << BigInt(n - 1)) return { exact: BigInt(e), approx: fromInt(BigInt(e)) };
  // m in [1, 2); move it to [√½, √2) so the log series stays small.
  let m: Exact = { sign: 0, mag: x.mag, exp: -(n - 1) };
  if (x.mag << BigInt(64 - n) > 0xb504f333f9de6484n) {
    m = { ...m, exp: m.exp - 1 };
    e += 1;
  }
  const lnm = log1pSmall(sub(m, fromInt(1n)));
  return { approx: add(fromInt(BigInt(e)), div(lnm, LN2)) };
}

const neg0 = (x: Exact): Exact => ({ ...x, sign: (1 - x.sign) as 0 | 1 });

/** FYL2X: ST(1) × log2(ST(0)). */
export function fyl2x(x: Float80, y: Float80, rc: RoundingMode): Result {
  const nan = nanOperands(x, y);
  if (nan) return nan;
  const kx = classify(x);
  const ky = classify(y);
  if (x.sign === 1 && kx !== "zero") return invalid;
  if (kx === "zero") {
    if (ky === "zero") return invalid;
    return { value: signedInfinity((1 - y.sign) as 0 | 1), flags: ky === "infinity" ? 0 : ZE };
  }
  if (kx === "infinity") {
    if (ky === "zero") return invalid;
    return { value: signedInfinity(y.sign), flags: 0 };
  }
  const { exact, approx } = log2Of(toExact(x));
  const logSign = exact !== undefined ? (exact < 0n ? 1 : 0) : approx.sign;
  if (exact === 0n) {
    if (ky === "infinity") return invalid;
    return { value: signedZero(y.sign), flags: denormal(x, y) };
  }
  const sign = (y.sign ^ logSign) as 0 | 1;
  if (ky === "infinity") return { value: signedInfinity(sign), flags: 0 };
  if (ky === "zero") return { value: signedZero(sign), flags: denormal(x) };
  if (exact !== undefined) {
    const ye = toExact(y);
    const r = round80({ sign, mag: ye.mag * (exact < 0n ? -exact : exact), exp: ye.exp }, rc);
    return { value: r.value, flags: r.flags | denormal(x, y), roundedUp: r.roundedUp };
  }
  return irrational(mul(toExact(y), approx), rc, denormal(x, y));
}

/** FYL2XP1: ST(1) × log2(ST(0) + 1), for |ST(0)| < 1 − √2/2. */
export function fyl2xp1(x: Float80, y: Float80, rc: RoundingMode): Result {
  const nan = nanOperands(x, y);
  if (nan) return nan;
  const kx = classify(x);
  const ky = classify(y);
  if (kx === "infinity") return invalid;
  if (kx === "zero") {
    if (ky === "infinity") return invalid;
    return { value: signedZero((x.sign ^ y.sign) as 0 | 1), flags: denormal(y) };
  }
  const u = toExact(x);
  if (u.sign === 1 && topExponent(u) >= 0) return invalid;
  const log = div(log1pSmall(u), LN2);
  const sign = (y.sign ^ log.sign) as 0 | 1;
  if (ky === "infinity") return { value: signedInfinity(sign), flags: 0 };
  if (ky === "zero") return { value: signedZero(sign), flags: denormal(x) };
  return irrational(mul(toExact(y), log), rc, denormal(x, y));
}

/** π rounded to 66 significant bits: the hardware's reduction constant. */
const PI66: Exact = (() => {
  const r = round(PI, { precision: 66, emin: -16382, emax: 16383 }, 0).value;
  return r as Exact;
})();

/**
 * Reduces a finite x (|x| < 2^63) to r = x − k·π66/2 exactly, |r| ≤ π66/4:
 * returns r and k mod 4.
 */
function reduce(x: Exact): { r: Exact; quadrant: number } {
  if (topExponent(x) < -1) return { r: x, quadrant: 0 };
  const halfPi: Exact = { ...PI66, exp: PI66.exp - 1 };
  const e = Math.min(x.exp, halfPi.exp);
  const X = x.mag << BigInt(x.exp - e);
  const H = halfPi.mag << BigInt(halfPi.exp - e);
  let k = (2n * X + H) / (2n * H);
  const r = X - k * H;
  if (x.sign === 1) k = -k;
  const rs: Exact =
    r < 0n ? { sign: (1 - x.sign) as 0 | 1, mag: -r, exp: e } : { sign: x.sign, mag: r, exp: e };
  return { r: rs, quadrant: Number(BigInt.asUintN(2, k)) };
}

export interface TrigResult {
  readonly sin: Result;
  readonly cos: Result;
  readonly tan: Result;
  /** Operand out of range (|x| ≥ 2^63): C2 set and ST(0) unchanged. */
  readonly outOfRange: boolean;
}

/** FSIN, FCOS, FSINCOS and FPTAN of one operand. */
export function trig(a: Float80, rc: RoundingMode): TrigResult {
  const all = (r: Result): TrigResult => ({ sin: r, cos: r, tan: r, outOfRange: false });
  const nan = nanOperands(a);
  if (nan) return all(nan);
  const k = classify(a);
  if (k === "infinity") return all(invalid);
  if (k === "zero")
    return {
      sin: { value: a, flags: 0 },
      cos: { value: ONE, flags: 0 },
      tan: { value: a, flags: 0 },
      outOfRange: false,
    };
  const x = toExact(a);
  if (topExponent(x) >= 63) return { ...all({ value: a, flags: 0 }), outOfRange: true };
  const { r, quadrant } = reduce(x);
  // r is never 0: a 64-bit x is no exact multiple of the 66-bit π/2.
  const { sin, cos } = sinCosSmall(r);
  const s = [sin, cos, neg0(sin), neg0(cos)][quadrant] as Exact;
  const c = [cos, neg0(sin), neg0(cos), sin][quadrant] as Exact;
  const flags = denormal(a);
  return {
    sin: irrational(s, rc, flags),
    cos: irrational(c, rc, flags),
    tan: irrational(div(s, c), rc, flags),
    outOfRange: false,
  };
}

/** FPATAN: atan2(ST(1), ST(0)) with the quadrant from both signs. */
export function fpatan(x: Float80, y: Float80, rc: RoundingMode): Result {
  const nan = nanOperands(x, y);
  if (nan) return nan;
  const kx = classify(x);
  const ky = classify(y);
  const piTimes = (num: bigint, den: number): Exact =>
    div(mul(PI, fromInt(num)), fromInt(BigInt(den)));
  const signed = (v: Exact, sign: 0 | 1): Exact => ({ ...v, sign });
  if (ky === "zero") {
    if (x.sign === 0) return { value: y, flags: denormal(x) };
    return irrational(signed(PI, y.sign), rc);
  }
  if (ky === "infinity") {
    if (kx === "infinity") return irrational(signed(piTimes(x.sign ? 3n : 1n, 4), y.sign), rc);
    return irrational(signed(piTimes(1n, 2), y.sign), rc);
  }
  if (kx === "infinity") {
    if (x.sign === 0) return { value: signedZero(y.sign), flags: 0 };
    return irrational(signed(PI, y.sign), rc);
  }
  if (kx === "zero") return irrational(signed(piTimes(1n, 2), y.sign), rc, denormal(y));
  const q = div(abs(toExact(y)), abs(toExact(x)));
  let angle = atanBF(q);
  if (x.sign === 1) angle = sub(PI, angle);
  return irrational(signed(angle, y.sign), rc, denormal(x, y));
}
