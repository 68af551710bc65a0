// High-precision real arithmetic for the x87 transcendentals: binary
// floating values with a 256-bit magnitude (type Exact, truncated after each
// operation), the constants π and ln 2, and the series the instructions are
// built from. 256 bits leave ~190 guard bits over the 64-bit significand, so
// one final rounding gives the correctly rounded result for every input
// except ones within 2^-190 of a rounding boundary.
import { bitLength, type Exact } from "./float80.js";
import { isqrt } from "./arith.js";

export const WORKING_BITS = 256;

const ZERO_BF: Exact = { sign: 0, mag: 0n, exp: 0 };

/** Truncates the magnitude to WORKING_BITS. */
export function norm(x: Exact): Exact {
  const n = bitLength(x.mag);
  if (n <= WORKING_BITS) return x;
  const s = n - WORKING_BITS;
  return { sign: x.sign, mag: x.mag >> BigInt(s), exp: x.exp + s };
}

export const fromInt = (n: bigint): Exact =>
  n < 0n ? { sign: 1, mag: -n, exp: 0 } : { sign: 0, mag: n, exp: 0 };

/** The top-bit exponent (floor(log2|x|)); −Infinity for zero. */
export const topExponent = (x: Exact): number =>
  x.mag === 0n ? -Infinity : x.exp + bitLength(x.mag) - 1;

export const neg = (x: Exact): Exact => ({ ...x, sign: (1 - x.sign) as 0 | 1 });
export const abs = (x: Exact): Exact => ({ ...x, sign: 0 });

export function mul(a: Exact, b: Exact): Exact {
  return norm({ sign: (a.sign ^ b.sign) as 0 | 1, mag: a.mag * b.mag, exp: a.exp + b.exp });
}

export function add(a: Exact, b: Exact): Exact {
  if (a.mag === 0n) return b;
  if (b.mag === 0n) return a;
  // A term below the other's working precision only truncates away.
  const gap = topExponent(a) - topExponent(b);
  if (gap > WORKING_BITS + 2) return a;
  if (gap < -(WORKING_BITS + 2)) return b;
  const e = Math.min(a.exp, b.exp);
  const ma = a.mag << BigInt(a.exp - e);
  const mb = b.mag << BigInt(b.exp - e);
  const sum = (a.sign ? -ma : ma) + (b.sign ? -mb : mb);
  return norm(sum < 0n ? { sign: 1, mag: -sum, exp: e } : { sign: 0, mag: sum, exp: e });
}

export const sub = (a: Exact, b: Exact): Exact => add(a, neg(b));

export function div(a: Exact, b: Exact): Exact {
  if (a.mag === 0n) return ZERO_BF;
  const k = Math.max(0, WORKING_BITS + bitLength(b.mag) - bitLength(a.mag));
  return norm({
    sign: (a.sign ^ b.sign) as 0 | 1,
    mag: (a.mag << BigInt(k)) / b.mag,
    exp: a.exp - b.exp - k,
  });
}

export function sqrtBF(a: Exact): Exact {
  let k = Math.max(0, 2 * WORKING_BITS - bitLength(a.mag));
  if ((a.exp - k) % 2 !== 0) k++;
  return norm({ sign: 0, mag: isqrt(a.mag << BigInt(k)), exp: (a.exp - k) / 2 });
}

/** Sums a series term by term until terms fall below the working precision. */
function series(first: Exact, next: (term: Exact, k: number) => Exact): Exact {
  let sum = first;
  let term = first;
  for (let k = 1; k < 400; k++) {
    term = next(term, k);
    if (term.mag === 0n || topExponent(term) < topExponent(sum) - WORKING_BITS - 4) break;
    sum = add(sum, term);
  }
  return sum;
}

/** e^t − 1 for |t| ≲ 1 (Taylor: Σ t^k / k!). */
export const expm1Small = (t: Exact): Exact =>
  t.mag === 0n ? t : series(t, (term, k) => div(mul(term, t), fromInt(BigInt(k + 1))));

/** atanh(z) = Σ z^(2k+1) / (2k+1) for |z| ≤ 0.2. */
function atanhSmall(z: Exact): Exact {
  if (z.mag === 0n) return z;
  const z2 = mul(z, z);
  let power = z;
  return series(z, (_term, k) => {
    power = mul(power, z2);
    return div(power, fromInt(BigInt(2 * k + 1)));
  });
}

/** ln(1 + u) = 2 atanh(u / (2 + u)), precise relative to u for small u. */
export const log1pSmall = (u: Exact): Exact => {
  const z = div(u, add(fromInt(2n), u));
  const r = atanhSmall(z);
  return { ...r, exp: r.exp + 1 };
};

/** atan(z) for |z| ≤ 1/8 (Taylor with alternating signs). */
function atanSmall(z: Exact): Exact {
  if (z.mag === 0n) return z;
  const z2 = neg(mul(z, z));
  let power = z;
  return series(z, (_term, k) => {
    power = mul(power, z2);
    return div(power, fromInt(BigInt(2 * k + 1)));
  });
}

/** atan(z) for any finite z: halve the angle (z / (1 + √(1+z²))) until it is small. */
export function atanBF(z: Exact): Exact {
  let x = z;
  let doublings = 0;
  while (topExponent(x) >= -3) {
    x = div(x, add(fromInt(1n), sqrtBF(add(fromInt(1n), mul(x, x)))));
    doublings++;
  }
  const r = atanSmall(x);
  return { ...r, exp: r.exp + doublings };
}

/** sin(r) and cos(r) for |r| ≤ π/4 (Taylor). */
export function sinCosSmall(r: Exact): { sin: Exact; cos: Exact } {
  const r2 = neg(mul(r, r));
  const sin =
    r.mag === 0n
      ? r
      : series(r, (term, k) => div(mul(term, r2), fromInt(BigInt(2 * k * (2 * k + 1)))));
  const cos = series(fromInt(1n), (term, k) =>
    div(mul(term, r2), fromInt(BigInt((2 * k - 1) * (2 * k)))),
  );
  return { sin, cos };
}

/** π = 16 atan(1/5) − 4 atan(1/239) (Machin), with the working precision. */
export const PI: Exact = (() => {
  const atanInv = (n: bigint): Exact => {
    const x = div(fromInt(1n), fromInt(n));
    const x2 = neg(mul(x, x));
    let power = x;
    return series(x, (_t, k) => {
      power = mul(power, x2);
      return div(power, fromInt(BigInt(2 * k + 1)));
    });
  };
  const a = atanInv(5n);
  const b = atanInv(239n);
  return sub({ ...a, exp: a.exp + 4 }, { ...b, exp: b.exp + 2 });
})();

/** ln 2 = 2 atanh(1/3). */
export const LN2: Exact = (() => {
  const r = atanhSmall(div(fromInt(1n), fromInt(3n)));
  return { ...r, exp: r.exp + 1 };
})();

export const LN10: Exact = (() => {
  // ln 10 = 3 ln 2 + ln(1.25) = 3 ln 2 + 2 atanh(1/9).
  const r = atanhSmall(div(fromInt(1n), fromInt(9n)));
  return add(mul(LN2, fromInt(3n)), { ...r, exp: r.exp + 1 });
})();

/** A working-precision value as an input for round(): the sticky bit marks it inexact. */
export const inexact = (x: Exact): Exact =>
  x.mag === 0n ? x : { sign: x.sign, mag: (x.mag << 1n) | 1n, exp: x.exp - 1 };
