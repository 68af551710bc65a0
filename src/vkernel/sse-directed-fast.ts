// The common case of kernel.sse without BigInt: add, sub, mul, div and
// sqrt of normal operands whose result is far from overflow and underflow.
// The nearest double q of the exact result comes from JavaScript's own
// arithmetic; the sign of (exact − q) from an error-free transformation
// in doubles — TwoSum for sums (Knuth), the residual a − q·b or a − q² by
// Dekker's product for quotients and square roots (Dekker 1971; Muller et
// al., "Handbook of Floating-Point Arithmetic", ch. 4). A directed result
// is q or its neighbour on the exact value's side. An f32 result rounds q
// to single, and q's own error decides only when q is itself a single.
// Anything outside the guards (zeros, denormals, infinities, NaNs, huge
// or tiny values) returns undefined, and the BigInt soft float answers.
import { SSE_OP } from "../lift/semantics/sse-directed-ops.js";

const PE = 0x20;
/** Magnitudes inside which every product and residual below is exact. */
const LOW = 2 ** -900;
const HIGH = 2 ** 900;
const SPLIT = 2 ** 27 + 1;
const MIN_NORMAL_F32 = 2 ** -126;
const MAX_F32 = (2 - 2 ** -23) * 2 ** 127;

const inRange = (x: number): boolean => {
  const m = Math.abs(x);
  return m >= LOW && m <= HIGH;
};

/** Dekker's exact product: hi + lo = x·y, for x and y inside the guards. */
function product(x: number, y: number): [number, number] {
  const hi = x * y;
  const cx = SPLIT * x;
  const xh = cx - (cx - x);
  const xl = x - xh;
  const cy = SPLIT * y;
  const yh = cy - (cy - y);
  const yl = y - yh;
  const lo = xh * yh - hi + xh * yl + xl * yh + xl * yl;
  return [hi, lo];
}

/** The nearest double to the exact result and the sign of (exact − it), or undefined. */
function nearestAndError(op: number, a: number, b: number): [number, number] | undefined {
  switch (op) {
    case SSE_OP.ADD:
    case SSE_OP.SUB: {
      const y = op === SSE_OP.SUB ? -b : b;
      if (!inRange(a) || !inRange(y)) return undefined;
      const s = a + y;
      if (!inRange(s)) return undefined; // cancellation to zero or below the guard
      const yy = s - a;
      return [s, Math.sign(a - (s - yy) + (y - yy))];
    }
    case SSE_OP.MUL: {
      if (!inRange(a) || !inRange(b)) return undefined;
      const [hi, lo] = product(a, b);
      if (!inRange(hi)) return undefined;
      return [hi, Math.sign(lo)];
    }
    case SSE_OP.DIV: {
      if (!inRange(a) || !inRange(b)) return undefined;
      const q = a / b;
      if (!inRange(q)) return undefined;
      const [hi, lo] = product(q, b);
      // a − q·b exactly: a − hi is exact (they are within a factor of two).
      const residual = a - hi - lo;
      return [q, Math.sign(residual) * Math.sign(b)];
    }
    case SSE_OP.SQRT: {
      if (!inRange(b) || b < 0) return undefined;
      const s = Math.sqrt(b);
      const [hi, lo] = product(s, s);
      return [s, Math.sign(b - hi - lo)];
    }
    default:
      return undefined;
  }
}

const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);
const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

/** The neighbouring double of a finite non-zero x, toward +∞ (up) or −∞. */
function nextDouble(x: number, up: boolean): number {
  f64[0] = x;
  // Moving away from zero increments the bits, toward zero decrements them.
  i64[0] = (i64[0] as bigint) + (x > 0 === up ? 1n : -1n);
  return f64[0] as number;
}

/** The neighbouring single of a finite non-zero single x, toward +∞ (up) or −∞. */
function nextSingle(x: number, up: boolean): number {
  f32[0] = x;
  i32[0] = (i32[0] as number) + (x > 0 === up ? 1 : -1);
  return f32[0] as number;
}

/**
 * The directed result from the nearest value r and the exact value's side
 * of it (the sign of exact − r): r, or its neighbour toward the exact value
 * when the mode rounds that way.
 */
function directed(r: number, side: number, rc: number, next: typeof nextDouble): number {
  if (side === 0 || rc === 0) return r; // exact, or nearest (FTZ or DAZ set)
  if (rc === 1) return side < 0 ? next(r, false) : r; // down
  if (rc === 2) return side > 0 ? next(r, true) : r; // up
  return side !== Math.sign(r) ? next(r, r < 0) : r; // toward zero
}

export interface FastResult {
  /** The result as an f64, or an f32 (a double holding a single). */
  readonly value: number;
  /** PE when inexact; the guards leave no other flag possible. */
  readonly flags: number;
}

/**
 * `op` on `a` and `b` (doubles; singles widened) rounded in mode `rc`
 * (0 nearest, 1 down, 2 up, 3 toward zero) to double or, with `single`, to
 * single; or undefined outside the guards. A single rounded to nearest
 * from the nearest double is the nearest single: for these five
 * operations double rounding is innocuous, since 53 ≥ 2·24 + 2 (Figueroa,
 * "When is double rounding innocuous?", 1995).
 */
export function fastDirected(
  op: number,
  single: boolean,
  rc: number,
  a: number,
  b: number,
): FastResult | undefined {
  const found = nearestAndError(op, a, b);
  if (found === undefined) return undefined;
  const [q, error] = found;
  if (!single) {
    return { value: directed(q, error, rc, nextDouble), flags: error === 0 ? 0 : PE };
  }
  const r = Math.fround(q);
  const magnitude = Math.abs(r);
  if (magnitude < MIN_NORMAL_F32 || magnitude >= MAX_F32) return undefined;
  // q − r is exact (Sterbenz); when q is itself a single, q's error decides.
  const difference = q - r;
  const side = difference !== 0 ? Math.sign(difference) : error;
  return { value: directed(r, side, rc, nextSingle), flags: side === 0 ? 0 : PE };
}
