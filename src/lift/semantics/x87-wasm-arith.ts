// FADD, FSUB, FMUL and FDIV of the x87 fast path (x87-wasm.ts) at 64-bit
// precision, on zeros and normals, in wasm integer arithmetic: the exact
// result as a 64-bit significand `hi` with the bits below it in `lo` (the
// lowest of them a sticky bit where bits were dropped), rounded once by the
// RC field — what vkernel/x87/arith.ts computes with BigInt. Results that
// would be tiny (below the smallest normal: UE, denormals) or overflow, a
// division by zero and precision control other than 64 bits leave for
// kernel.x87.
//
// - Sums align the smaller operand under the larger one in 128 bits; past
//   128 bits of gap it is one sticky bit.
// - Products come from four 32×32-bit partial products.
// - Quotients from udiv128 (divide.ts: Knuth's Algorithm D) of the dividend
//   placed so the quotient has 64 bits; the remainder decides the rounding.
import { i32, i64, type Expr } from "../emit/wasm.js";
import { udiv128 } from "./divide.js";
import { EXP_BIAS, INTEGER_BIT, X87Frame, type Local, type Value } from "./x87-wasm-frame.js";

/** The unpacked exact result before rounding: sign, biased exponent, significand bits. */
interface Unpacked {
  readonly sign: Local;
  readonly exp: Local;
  readonly hi: Local;
  readonly lo: Local;
}

/** The rounded result with what it raised. */
export interface Rounded {
  readonly value: Value;
  readonly flags: Local;
  readonly up: Local;
}

export type ArithOp = "add" | "sub" | "mul" | "div";

/** `a op b` for zero or normal operands (checked here) into a new value. */
export function arithmetic(f: X87Frame, op: ArithOp, a: Value, b: Value): Rounded {
  const m = f.m;
  f.requireOrdinary(a);
  f.requireOrdinary(b);
  // Precision control other than 64 bits (PC ≠ 11b) rounds elsewhere: the kernel's.
  f.slowIf(m.i32.ne(m.i32.and(f.get(f.cw), f.c32(0x300)), f.c32(0x300)));
  const r: Rounded = { value: f.value(), flags: f.local(i32), up: f.local(i32) };
  const u: Unpacked = { sign: f.local(i32), exp: f.local(i32), hi: f.local(i64), lo: f.local(i64) };
  const x = unpack(f, a);
  const y = unpack(f, b);
  if (op === "sub") f.emit(f.set(y.sign, m.i32.xor(f.get(y.sign), f.c32(1))));
  /** Takes a value exactly: an exact zero or operand (flags 0, C1 0). */
  const exact = (sign: Expr, se: Expr, sig: Expr): Expr =>
    m.block(null, [
      f.set(r.value.se, m.i32.or(m.i32.shl(sign, f.c32(15)), se)),
      f.set(r.value.sig, sig),
      f.set(r.flags, f.c32(0)),
      f.set(r.up, f.c32(0)),
    ]);
  const zeroA = (): Expr => f.isZero(a);
  const zeroB = (): Expr => f.isZero(b);
  const rounded = (): Expr => m.block(null, round(f, u, r));
  let body: Expr;
  if (op === "add" || op === "sub") {
    // x − x is an exact +0, or −0 rounding down (§4.8.3.2).
    const cancelled = m.i32.and(m.i64.eqz(f.get(u.hi)), m.i64.eqz(f.get(u.lo)));
    const rcDown = (): Expr => m.i32.eq(f.roundingControl(), f.c32(1));
    const nonZero = m.block(null, [
      ...sum(f, x, y, u),
      m.if(cancelled, exact(rcDown(), f.c32(0), f.c64(0)), rounded()),
    ]);
    // ±0 ± ±0: the common sign, else +0 (−0 rounding down); x ± 0 is x exactly.
    const zeroSum = m.select(m.i32.eq(f.get(x.sign), f.get(y.sign)), f.get(x.sign), rcDown());
    body = m.if(
      m.i32.and(zeroA(), zeroB()),
      exact(zeroSum, f.c32(0), f.c64(0)),
      m.if(
        zeroA(),
        exact(f.get(y.sign), f.get(y.exp), f.get(y.hi)),
        m.if(zeroB(), exact(f.get(x.sign), f.get(x.exp), f.get(x.hi)), nonZero),
      ),
    );
  } else {
    const sign = (): Expr => m.i32.xor(f.get(x.sign), f.get(y.sign));
    // x / 0 is ZE: the kernel's.
    if (op === "div") f.slowIf(zeroB());
    const anyZero = op === "mul" ? m.i32.or(zeroA(), zeroB()) : zeroA();
    const core = op === "mul" ? product(f, x, y, u) : quotient(f, x, y, u);
    body = m.if(anyZero, exact(sign(), f.c32(0), f.c64(0)), m.block(null, [...core, rounded()]));
  }
  f.emit(body);
  return r;
}

function unpack(f: X87Frame, v: Value): Unpacked {
  const m = f.m;
  const u: Unpacked = { sign: f.local(i32), exp: f.local(i32), hi: f.local(i64), lo: f.local(i64) };
  f.emit(
    f.set(u.sign, m.i32.shr_u(f.get(v.se), f.c32(15))),
    f.set(u.exp, f.exponent(v)),
    f.set(u.hi, f.get(v.sig)),
  );
  return u;
}

/** x + y of non-zero normals (y's sign already flipped for a difference). */
function sum(f: X87Frame, x: Unpacked, y: Unpacked, u: Unpacked): Expr[] {
  const m = f.m;
  const g = (l: Local): Expr => f.get(l);
  const d = f.local(i32);
  const bhi = f.local(i64);
  const blo = f.local(i64);
  const t = f.local(i64);
  const n = f.local(i64);
  const swap = (a: Local, b: Local, tmp: Local): Expr[] => [
    f.set(tmp, g(a)),
    f.set(a, g(b)),
    f.set(b, g(tmp)),
  ];
  const ti = f.local(i32);
  const d64 = (): Expr => m.i64.extend_u(g(d));
  return [
    // x becomes the larger magnitude.
    m.if(
      m.i32.or(
        m.i32.lt_u(g(x.exp), g(y.exp)),
        m.i32.and(m.i32.eq(g(x.exp), g(y.exp)), m.i64.lt_u(g(x.hi), g(y.hi))),
      ),
      m.block(null, [
        ...swap(x.exp, y.exp, ti),
        ...swap(x.sign, y.sign, ti),
        ...swap(x.hi, y.hi, t),
      ]),
    ),
    f.set(d, m.i32.sub(g(x.exp), g(y.exp))),
    // y >> d in 128 bits, bits dropped past them jammed into the lowest.
    m.if(
      m.i32.eqz(g(d)),
      m.block(null, [f.set(bhi, g(y.hi)), f.set(blo, f.c64(0))]),
      m.if(
        m.i32.lt_u(g(d), f.c32(64)),
        m.block(null, [
          f.set(bhi, m.i64.shr_u(g(y.hi), d64())),
          f.set(blo, m.i64.shl(g(y.hi), m.i64.sub(f.c64(64), d64()))),
        ]),
        m.block(null, [
          f.set(bhi, f.c64(0)),
          f.set(
            blo,
            m.if(
              m.i32.lt_u(g(d), f.c32(128)),
              m.i64.or(
                m.i64.shr_u(g(y.hi), m.i64.sub(d64(), f.c64(64))),
                m.i64.extend_u(
                  m.i32.and(
                    m.i32.ne(g(d), f.c32(64)),
                    m.i64.ne(m.i64.shl(g(y.hi), m.i64.sub(f.c64(128), d64())), f.c64(0)),
                  ),
                ),
              ),
              f.c64(1),
            ),
          ),
        ]),
      ),
    ),
    f.set(u.sign, g(x.sign)),
    f.set(u.exp, g(x.exp)),
    m.if(
      m.i32.eq(g(x.sign), g(y.sign)),
      m.block(null, [
        f.set(u.hi, m.i64.add(g(x.hi), g(bhi))),
        f.set(u.lo, g(blo)),
        // A carry out: one bit right. Only gaps below 64 carry, and their lo ends in
        // zeros (y's bits shifted up), so the bit shifted out is a zero.
        m.if(
          m.i64.lt_u(g(u.hi), g(x.hi)),
          m.block(null, [
            f.set(u.lo, m.i64.or(m.i64.shr_u(g(u.lo), f.c64(1)), m.i64.shl(g(u.hi), f.c64(63)))),
            f.set(u.hi, m.i64.or(m.i64.shr_u(g(u.hi), f.c64(1)), f.c64(INTEGER_BIT))),
            f.set(u.exp, m.i32.add(g(u.exp), f.c32(1))),
          ]),
        ),
      ]),
      m.block(null, [
        f.set(u.lo, m.i64.sub(f.c64(0), g(blo))),
        f.set(
          u.hi,
          m.i64.sub(m.i64.sub(g(x.hi), g(bhi)), m.i64.extend_u(m.i64.ne(g(blo), f.c64(0)))),
        ),
        // Normalise: a whole word first, then the leading zeros (none once d ≥ 2 but one).
        m.if(
          m.i64.eqz(g(u.hi)),
          m.block(null, [
            f.set(u.hi, g(u.lo)),
            f.set(u.lo, f.c64(0)),
            f.set(u.exp, m.i32.sub(g(u.exp), f.c32(64))),
          ]),
        ),
        f.set(n, m.i64.clz(g(u.hi))),
        m.if(
          m.i64.ne(g(n), f.c64(0)),
          m.block(null, [
            f.set(
              u.hi,
              m.i64.or(m.i64.shl(g(u.hi), g(n)), m.i64.shr_u(g(u.lo), m.i64.sub(f.c64(64), g(n)))),
            ),
            f.set(u.lo, m.i64.shl(g(u.lo), g(n))),
            f.set(u.exp, m.i32.sub(g(u.exp), m.i32.wrap(g(n)))),
          ]),
        ),
      ]),
    ),
  ];
}

/** x · y of non-zero normals: the 128-bit product of the significands. */
function product(f: X87Frame, x: Unpacked, y: Unpacked, u: Unpacked): Expr[] {
  const m = f.m;
  const g = (l: Local): Expr => f.get(l);
  const low = (e: Expr): Expr => m.i64.and(e, f.c64(0xffffffffn));
  const high = (e: Expr): Expr => m.i64.shr_u(e, f.c64(32));
  const [p00, p01, p10, mid] = [f.local(i64), f.local(i64), f.local(i64), f.local(i64)];
  return [
    f.set(p00, m.i64.mul(low(g(x.hi)), low(g(y.hi)))),
    f.set(p01, m.i64.mul(low(g(x.hi)), high(g(y.hi)))),
    f.set(p10, m.i64.mul(high(g(x.hi)), low(g(y.hi)))),
    f.set(mid, m.i64.add(m.i64.add(high(g(p00)), low(g(p01))), low(g(p10)))),
    f.set(u.lo, m.i64.or(m.i64.shl(g(mid), f.c64(32)), low(g(p00)))),
    f.set(
      u.hi,
      m.i64.add(
        m.i64.add(m.i64.mul(high(g(x.hi)), high(g(y.hi))), high(g(p01))),
        m.i64.add(high(g(p10)), high(g(mid))),
      ),
    ),
    f.set(u.sign, m.i32.xor(g(x.sign), g(y.sign))),
    f.set(u.exp, m.i32.sub(m.i32.add(g(x.exp), g(y.exp)), f.c32(EXP_BIAS - 1))),
    // A product of [1, 2) significands is in [1, 4): below 2, one bit left.
    m.if(
      m.i64.ge_s(g(u.hi), f.c64(0)),
      m.block(null, [
        f.set(u.hi, m.i64.or(m.i64.shl(g(u.hi), f.c64(1)), m.i64.shr_u(g(u.lo), f.c64(63)))),
        f.set(u.lo, m.i64.shl(g(u.lo), f.c64(1))),
        f.set(u.exp, m.i32.sub(g(u.exp), f.c32(1))),
      ]),
    ),
  ];
}

/** x / y of non-zero normals: a 64-bit quotient and the remainder's place against y/2. */
function quotient(f: X87Frame, x: Unpacked, y: Unpacked, u: Unpacked): Expr[] {
  const m = f.m;
  const g = (l: Local): Expr => f.get(l);
  const [nhi, nlo, rem] = [f.local(i64), f.local(i64), f.local(i64)];
  const smaller = (): Expr => m.i64.lt_u(g(x.hi), g(y.hi));
  const call = udiv128(f.w, g(nhi), g(nlo), g(y.hi));
  return [
    f.set(u.sign, m.i32.xor(g(x.sign), g(y.sign))),
    // x ≥ y: x·2^63 / y in [2^63, 2^64); x < y: x·2^64 / y, one binade lower.
    f.set(nhi, m.select(smaller(), g(x.hi), m.i64.shr_u(g(x.hi), f.c64(1)))),
    f.set(nlo, m.select(smaller(), f.c64(0), m.i64.shl(g(x.hi), f.c64(63)))),
    f.set(u.exp, m.i32.sub(m.i32.add(m.i32.sub(g(x.exp), g(y.exp)), f.c32(EXP_BIAS)), smaller())),
    f.set(u.hi, call.quotient),
    f.set(rem, call.remainder()),
    // The dropped part as a 64-bit fraction: its half bit (rem ≥ y/2, compared without
    // overflowing as rem ≥ y − rem) and a sticky bit.
    f.set(
      u.lo,
      m.i64.or(
        m.select(m.i64.ge_u(g(rem), m.i64.sub(g(y.hi), g(rem))), f.c64(INTEGER_BIT), f.c64(0)),
        m.i64.extend_u(
          m.i32.and(m.i64.ne(g(rem), f.c64(0)), m.i64.ne(g(rem), m.i64.sub(g(y.hi), g(rem)))),
        ),
      ),
    ),
  ];
}

/** Rounds u to 64 bits into r; leaves for results below the normal range or overflowing. */
function round(f: X87Frame, u: Unpacked, r: Rounded): Expr[] {
  const m = f.m;
  const g = (l: Local): Expr => f.get(l);
  return [
    m.br("slow", m.i32.lt_s(g(u.exp), f.c32(1))),
    f.set(r.up, f.roundsUp(u.sign, u.lo, INTEGER_BIT, m.i64.and(g(u.hi), f.c64(1)))),
    f.set(u.hi, m.i64.add(g(u.hi), m.i64.extend_u(g(r.up)))),
    m.if(
      m.i64.eqz(g(u.hi)),
      m.block(null, [f.set(u.hi, f.c64(INTEGER_BIT)), f.set(u.exp, m.i32.add(g(u.exp), f.c32(1)))]),
    ),
    m.br("slow", m.i32.ge_s(g(u.exp), f.c32(0x7fff))),
    f.set(r.flags, f.inexact(u.lo)),
    f.set(r.value.sig, g(u.hi)),
    f.set(r.value.se, m.i32.or(m.i32.shl(g(u.sign), f.c32(15)), g(u.exp))),
  ];
}
