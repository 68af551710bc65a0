// Wasm helper functions for the x87 semantics, added once per module:
// 80-bit extended ↔ f64 conversion (SDM Vol. 1 §4.2.2: 64-bit significand
// with an explicit integer bit, 15-bit exponent biased 16383) and 2^k for
// fscale. Denormal extended values load as zero.
import binaryen from "binaryen";
import { f64, i32, i64, Wasm, type Expr } from "../emit/wasm.js";

export const LOAD80 = "x87_load80";
export const STORE80 = "x87_store80";
export const POW2 = "x87_pow2";

/**
 * Module helpers: 80-bit extended ↔ f64 (SDM Vol. 1 §4.2.2: 64-bit
 * significand with an explicit integer bit, 15-bit exponent biased 16383)
 * and 2^k for fscale. Denormal extended values load as zero.
 */
export function addX87Helpers(w: Wasm): void {
  const m = w.m;
  m.addFunction(POW2, f64, f64, [i32], pow2Body(w));
  // x87_load80(ptr) → f64: locals 1 mantissa (i64), 2 sign/exponent (i32), 3 scale (i32)
  const ptr = (): Expr => m.local.get(0, i32);
  const mant = (): Expr => m.local.get(1, i64);
  const se = (): Expr => m.local.get(2, i32);
  const exp = (): Expr => m.i32.and(se(), w.c32(0x7fff));
  const sign = (v: Expr): Expr => m.select(m.i32.shr_u(se(), w.c32(15)), m.f64.neg(v), v);
  m.addFunction(
    LOAD80,
    i32,
    f64,
    [i64, i32],
    m.block(
      null,
      [
        m.local.set(1, m.i64.load(0, 1, ptr())),
        m.local.set(2, m.i32.load16_u(8, 1, ptr())),
        m.if(m.i32.eqz(exp()), m.return(sign(m.f64.const(0)))),
        m.if(
          m.i32.eq(exp(), w.c32(0x7fff)),
          m.return(
            m.select(
              m.i64.eqz(m.i64.shl(mant(), w.c64(1))),
              sign(m.f64.const(Infinity)),
              m.f64.const(NaN),
            ),
          ),
        ),
        // mantissa × 2^(exp − 16383 − 63), rounding once in the conversion.
        m.return(
          sign(
            m.f64.mul(
              m.f64.convert_u.i64(mant()),
              m.call(POW2, [m.f64.convert_s.i32(m.i32.sub(exp(), w.c32(16383 + 63)))], f64),
            ),
          ),
        ),
      ],
      f64,
    ),
  );
  // x87_store80(ptr, value): locals 2 bits (i64), 3 exponent (i32), 4 fraction (i64), 5 shift (i64)
  const bits = (): Expr => m.local.get(2, i64);
  const e = (): Expr => m.local.get(3, i32);
  const frac = (): Expr => m.local.get(4, i64);
  const signBits = (): Expr => m.i32.shl(m.i32.wrap(m.i64.shr_u(bits(), w.c64(63))), w.c32(15));
  const write = (mantissa: Expr, exponent: Expr): Expr =>
    w.block([
      m.i64.store(0, 1, m.local.get(0, i32), mantissa),
      m.i32.store16(8, 1, m.local.get(0, i32), m.i32.or(exponent, signBits())),
      m.return(),
    ]);
  m.addFunction(
    STORE80,
    binaryen.createType([i32, f64]),
    binaryen.none,
    [i64, i32, i64, i64],
    m.block(
      null,
      [
        m.local.set(2, m.i64.reinterpret(m.local.get(1, f64))),
        m.local.set(3, m.i32.wrap(m.i64.and(m.i64.shr_u(bits(), w.c64(52)), w.c64(0x7ff)))),
        m.local.set(4, m.i64.and(bits(), w.c64((1n << 52n) - 1n))),
        m.if(m.i32.and(m.i32.eqz(e()), m.i64.eqz(frac())), write(w.c64(0), w.c32(0))),
        m.if(
          m.i32.eq(e(), w.c32(0x7ff)),
          write(
            m.select(
              m.i64.eqz(frac()),
              w.c64(1n << 63n),
              m.i64.or(w.c64(3n << 62n), m.i64.shl(frac(), w.c64(11))),
            ),
            w.c32(0x7fff),
          ),
        ),
        m.if(
          m.i32.eqz(e()),
          w.block([
            m.local.set(5, m.i64.clz(frac())),
            write(
              m.i64.shl(frac(), m.local.get(5, i64)),
              m.i32.sub(w.c32(15372), m.i32.wrap(m.local.get(5, i64))),
            ),
          ]),
        ),
        write(
          m.i64.or(w.c64(1n << 63n), m.i64.shl(frac(), w.c64(11))),
          m.i32.add(e(), w.c32(16383 - 1023)),
        ),
      ],
      binaryen.none,
    ),
  );
}

/** 2^k for an integral f64 k, as a product of two in-range powers (exact unless it under/overflows). */
function pow2Body(w: Wasm): Expr {
  const m = w.m;
  const k = m.i32.trunc_s_sat.f64(m.local.get(0, f64));
  const power = (e: Expr): Expr =>
    m.f64.reinterpret(m.i64.shl(m.i64.extend_s(m.i32.add(e, w.c32(1023))), w.c64(52)));
  return w.block([
    m.local.set(
      1,
      m.select(
        m.i32.gt_s(k, w.c32(2000)),
        w.c32(2000),
        m.select(
          m.i32.lt_s(m.i32.trunc_s_sat.f64(m.local.get(0, f64)), w.c32(-2000)),
          w.c32(-2000),
          m.i32.trunc_s_sat.f64(m.local.get(0, f64)),
        ),
      ),
    ),
    m.return(
      m.f64.mul(
        power(m.i32.shr_s(m.local.get(1, i32), w.c32(1))),
        power(m.i32.sub(m.local.get(1, i32), m.i32.shr_s(m.local.get(1, i32), w.c32(1)))),
      ),
    ),
  ]);
}
