// Memory operands of the x87 fast path (x87-wasm.ts), as vkernel/x87/
// convert.ts defines them: m32fp and m64fp load exactly, integers load
// exactly (every int64 fits the 64-bit significand), m80fp is copied; stores
// round by the RC field with PE and C1. Only zeros and normals are
// converted here: a denormal (DE), an infinity, a NaN (IE for an SNaN), a
// result out of the destination's normal range and an integer overflow
// (the integer indefinite) leave for kernel.x87.
import { i32, i64, type Expr } from "../emit/wasm.js";
import { EXP_BIAS, INTEGER_BIT, X87Frame, type Local, type Value } from "./x87-wasm-frame.js";
import { X87_MEM, type X87Mem } from "./x87-ops.js";

/** An IEEE interchange format with a hidden integer bit. */
interface Ieee {
  readonly fracBits: number;
  readonly expBits: number;
}
const DOUBLE: Ieee = { fracBits: 52, expBits: 11 };
const SINGLE: Ieee = { fracBits: 23, expBits: 8 };

/** Formats the fast path loads (FLD, FILD, arithmetic and compare sources). */
export const FAST_LOADS: ReadonlySet<X87Mem> = new Set([
  X87_MEM.INT16,
  X87_MEM.INT32,
  X87_MEM.INT64,
  X87_MEM.FP32,
  X87_MEM.FP64,
  X87_MEM.FP80,
]);

/** The memory operand in format `mem` into `v`; m80fp is copied whatever it holds. */
export function loadMemory(f: X87Frame, mem: X87Mem, v: Value): void {
  const m = f.m;
  const at = (): Expr => f.get(f.address);
  switch (mem) {
    case X87_MEM.FP80:
      f.emit(f.set(v.sig, m.i64.load(0, 1, at())), f.set(v.se, m.i32.load16_u(8, 1, at())));
      return;
    case X87_MEM.FP64:
      return loadIeee(f, m.i64.load(0, 1, at()), DOUBLE, v);
    case X87_MEM.FP32:
      return loadIeee(f, m.i64.extend_u(m.i32.load(0, 1, at())), SINGLE, v);
    case X87_MEM.INT16:
      return loadInteger(f, m.i64.load16_s(0, 1, at()), v);
    case X87_MEM.INT32:
      return loadInteger(f, m.i64.load32_s(0, 1, at()), v);
    case X87_MEM.INT64:
      return loadInteger(f, m.i64.load(0, 1, at()), v);
    default:
      throw new Error(`x87 fast path: no load for memory format ${mem}`);
  }
}

function loadIeee(f: X87Frame, load: Expr, fmt: Ieee, v: Value): void {
  const m = f.m;
  const bits = f.local(i64);
  const e = f.local(i32);
  const frac = f.local(i64);
  const maxExp = (1 << fmt.expBits) - 1;
  const bias = maxExp >> 1;
  f.emit(
    f.set(bits, load),
    f.set(e, m.i32.and(m.i32.wrap(m.i64.shr_u(f.get(bits), f.c64(fmt.fracBits))), f.c32(maxExp))),
    f.set(frac, m.i64.and(f.get(bits), f.c64((1n << BigInt(fmt.fracBits)) - 1n))),
  );
  // Zeros and normals only: e = 0 with a fraction is a denormal, e = max ∞ or NaN.
  const zero = (): Expr => m.i32.and(m.i32.eqz(f.get(e)), m.i64.eqz(f.get(frac)));
  f.slowIf(
    m.i32.and(m.i32.eqz(zero()), m.i32.ge_u(m.i32.sub(f.get(e), f.c32(1)), f.c32(maxExp - 1))),
  );
  const sign = m.i32.wrap(m.i64.shr_u(f.get(bits), f.c64(fmt.fracBits + fmt.expBits)));
  f.emit(
    f.set(
      v.sig,
      m.select(
        m.i32.eqz(f.get(e)),
        f.c64(0),
        m.i64.or(m.i64.shl(f.get(frac), f.c64(63 - fmt.fracBits)), f.c64(INTEGER_BIT)),
      ),
    ),
    f.set(
      v.se,
      m.i32.or(
        m.i32.shl(sign, f.c32(15)),
        m.select(m.i32.eqz(f.get(e)), f.c32(0), m.i32.add(f.get(e), f.c32(EXP_BIAS - bias))),
      ),
    ),
  );
}

function loadInteger(f: X87Frame, load: Expr, v: Value): void {
  const m = f.m;
  const n = f.local(i64);
  const mag = f.local(i64);
  const shift = f.local(i64);
  const negative = (): Expr => m.i64.lt_s(f.get(n), f.c64(0));
  f.emit(
    f.set(n, load),
    f.set(mag, m.select(negative(), m.i64.sub(f.c64(0), f.get(n)), f.get(n))),
    f.set(shift, m.i64.clz(f.get(mag))),
    // A zero shifts by 64, which wasm takes as 0: the significand stays 0.
    f.set(v.sig, m.i64.shl(f.get(mag), f.get(shift))),
    f.set(
      v.se,
      m.i32.or(
        m.i32.shl(negative(), f.c32(15)),
        m.select(
          m.i64.eqz(f.get(n)),
          f.c32(0),
          m.i32.sub(f.c32(EXP_BIAS + 63), m.i32.wrap(f.get(shift))),
        ),
      ),
    ),
  );
}

/** What a store raised: the flags (PE or 0) and C1 (rounded up). */
export interface Stored {
  readonly flags: Local;
  readonly up: Local;
}

/** FST/FSTP to m32fp, m64fp or m80fp; the caller raises the flags and sets C1. */
export function storeMemory(f: X87Frame, mem: X87Mem, v: Value): Stored {
  const m = f.m;
  const flags = f.local(i32);
  const up = f.local(i32);
  if (mem === X87_MEM.FP80) {
    f.emit(
      m.i64.store(0, 1, f.get(f.address), f.get(v.sig)),
      m.i32.store16(8, 1, f.get(f.address), f.get(v.se)),
    );
    return { flags, up };
  }
  const fmt = mem === X87_MEM.FP64 ? DOUBLE : SINGLE;
  const bits = storeIeee(f, fmt, v, flags, up);
  if (mem === X87_MEM.FP64) f.emit(m.i64.store(0, 1, f.get(f.address), bits));
  else f.emit(m.i32.store(0, 1, f.get(f.address), m.i32.wrap(bits)));
  return { flags, up };
}

/** `v` rounded to `fmt` by RC, as its bits in an i64 (checks first, then computes). */
function storeIeee(f: X87Frame, fmt: Ieee, v: Value, flags: Local, up: Local): Expr {
  const m = f.m;
  const precision = fmt.fracBits + 1;
  const drop = 64 - precision;
  const emax = (1 << (fmt.expBits - 1)) - 1;
  const emin = 1 - emax;
  const zero = f.local(i32);
  const sign = f.local(i32);
  const e = f.local(i32);
  const keep = f.local(i64);
  const rem = f.local(i64);
  f.requireOrdinary(v);
  f.emit(
    f.set(zero, f.isZero(v)),
    f.set(sign, m.i32.shr_u(f.get(v.se), f.c32(15))),
    f.set(e, m.i32.sub(f.exponent(v), f.c32(EXP_BIAS))),
    f.set(keep, m.i64.shr_u(f.get(v.sig), f.c64(drop))),
    f.set(rem, m.i64.and(f.get(v.sig), f.c64((1n << BigInt(drop)) - 1n))),
  );
  // A normal outside the destination's normal range (or rounding past it) is the kernel's.
  f.slowIf(
    m.i32.and(
      m.i32.eqz(f.get(zero)),
      m.i32.gt_u(m.i32.sub(f.get(e), f.c32(emin)), f.c32(emax - emin)),
    ),
  );
  f.emit(
    f.set(up, f.roundsUp(sign, rem, 1n << BigInt(drop - 1), m.i64.and(f.get(keep), f.c64(1)))),
    f.set(keep, m.i64.add(f.get(keep), m.i64.extend_u(f.get(up)))),
    m.if(
      m.i64.eq(f.get(keep), f.c64(1n << BigInt(precision))),
      m.block(null, [
        f.set(keep, f.c64(1n << BigInt(precision - 1))),
        f.set(e, m.i32.add(f.get(e), f.c32(1))),
      ]),
    ),
  );
  f.slowIf(m.i32.and(m.i32.eqz(f.get(zero)), m.i32.gt_s(f.get(e), f.c32(emax))));
  f.emit(f.set(flags, f.inexact(rem)));
  const signBit = m.i64.shl(m.i64.extend_u(f.get(sign)), f.c64(fmt.fracBits + fmt.expBits));
  const magnitude = m.i64.or(
    m.i64.shl(m.i64.extend_u(m.i32.add(f.get(e), f.c32(emax))), f.c64(fmt.fracBits)),
    m.i64.and(f.get(keep), f.c64((1n << BigInt(fmt.fracBits)) - 1n)),
  );
  return m.i64.or(signBit, m.select(f.get(zero), f.c64(0), magnitude));
}

/** |v| at the binary point, rounded: the magnitude, the dropped fraction and whether it rounded up. */
interface Split {
  readonly sign: Local;
  readonly mag: Local;
  /** The fraction dropped, as 64 bits below the point (the lowest one jammed). */
  readonly rem: Local;
  readonly up: Local;
}

/**
 * Rounds a zero or normal `v` below 2^63 to an integral magnitude by RC (or
 * truncating); `e` holds its unbiased exponent (−16383 for a zero).
 */
function roundedMagnitude(f: X87Frame, v: Value, e: Local, truncate: boolean): Split {
  const m = f.m;
  const out: Split = { sign: f.local(i32), mag: f.local(i64), rem: f.local(i64), up: f.local(i32) };
  const int = f.local(i64);
  const shift = f.local(i32);
  const sig = (): Expr => f.get(v.sig);
  const e64 = (): Expr => m.i64.extend_s(f.get(e));
  f.emit(
    f.set(out.sign, m.i32.shr_u(f.get(v.se), f.c32(15))),
    m.if(
      m.i32.ge_s(f.get(e), f.c32(0)),
      // |v| ≥ 1: the integer part and the fraction's 64 bits (E ≤ 62: no shift reaches 64).
      m.block(null, [
        f.set(int, m.i64.shr_u(sig(), m.i64.sub(f.c64(63), e64()))),
        f.set(out.rem, m.i64.shl(sig(), m.i64.add(e64(), f.c64(1)))),
      ]),
      // |v| < 1 (or a zero, whose exponent reads −16383): the fraction, jammed below.
      m.block(null, [
        f.set(int, f.c64(0)),
        f.set(shift, m.i32.sub(m.i32.sub(f.c32(0), f.get(e)), f.c32(1))),
        f.set(
          out.rem,
          m.if(
            m.i32.ge_u(f.get(shift), f.c32(64)),
            m.i64.extend_u(m.i32.eqz(m.i64.eqz(sig()))),
            m.i64.or(
              m.i64.shr_u(sig(), m.i64.extend_u(f.get(shift))),
              m.i64.extend_u(
                m.i32.and(
                  m.i32.ne(f.get(shift), f.c32(0)),
                  m.i64.ne(
                    m.i64.shl(sig(), m.i64.extend_u(m.i32.sub(f.c32(64), f.get(shift)))),
                    f.c64(0),
                  ),
                ),
              ),
            ),
          ),
        ),
      ]),
    ),
    f.set(
      out.up,
      truncate
        ? f.c32(0)
        : f.roundsUp(out.sign, out.rem, 1n << 63n, m.i64.and(f.get(int), f.c64(1))),
    ),
    f.set(out.mag, m.i64.add(f.get(int), m.i64.extend_u(f.get(out.up)))),
  );
  return out;
}

/** The unbiased exponent of a zero or normal `v` into a new local (−16383 for a zero). */
function unbiased(f: X87Frame, v: Value): Local {
  const e = f.local(i32);
  f.requireOrdinary(v);
  f.emit(f.set(e, f.m.i32.sub(f.exponent(v), f.c32(EXP_BIAS))));
  return e;
}

/** FIST/FISTP/FISTTP of ST(0) value `v` to a `bits`-wide integer; returns flags and C1. */
export function storeInteger(f: X87Frame, bits: 16 | 32 | 64, truncate: boolean, v: Value): Stored {
  const m = f.m;
  const flags = f.local(i32);
  const e = unbiased(f, v);
  // 2^63 or more overflows every width but −2^63 itself, which the kernel stores.
  f.slowIf(m.i32.and(m.i32.eqz(f.isZero(v)), m.i32.ge_s(f.get(e), f.c32(63))));
  const s = roundedMagnitude(f, v, e, truncate);
  // The range of a signed integer of `bits`: one more on the negative side.
  const limit = m.i64.add(f.c64((1n << BigInt(bits - 1)) - 1n), m.i64.extend_u(f.get(s.sign)));
  f.slowIf(m.i64.gt_u(f.get(s.mag), limit));
  const value = m.select(f.get(s.sign), m.i64.sub(f.c64(0), f.get(s.mag)), f.get(s.mag));
  const at = f.get(f.address);
  if (bits === 64) f.emit(m.i64.store(0, 1, at, value));
  else if (bits === 32) f.emit(m.i64.store32(0, 1, at, value));
  else f.emit(m.i64.store16(0, 1, at, value));
  f.emit(f.set(flags, f.inexact(s.rem)));
  return { flags, up: s.up };
}

/**
 * FRNDINT of a zero or normal `v` (vkernel/x87/exponent.ts roundToIntegral):
 * the integral value of its sign, a zero when it rounds to none; PE when
 * inexact, and C1 set then unless the result is a zero. From 2^63 up, `v`
 * is integral already.
 */
export function roundToIntegral(f: X87Frame, v: Value): { value: Value } & Stored {
  const m = f.m;
  const out = { value: f.value(), flags: f.local(i32), up: f.local(i32) };
  const e = unbiased(f, v);
  const s = roundedMagnitude(f, v, e, false);
  const shift = f.local(i64);
  const whole = (): Expr => m.i32.ge_s(f.get(e), f.c32(63));
  const nonZero = (): Expr => m.i64.ne(f.get(s.mag), f.c64(0));
  f.emit(
    f.set(shift, m.i64.clz(f.get(s.mag))),
    f.set(out.value.sig, m.select(whole(), f.get(v.sig), m.i64.shl(f.get(s.mag), f.get(shift)))),
    f.set(
      out.value.se,
      m.select(
        whole(),
        f.get(v.se),
        m.i32.or(
          m.i32.shl(f.get(s.sign), f.c32(15)),
          m.select(nonZero(), m.i32.sub(f.c32(EXP_BIAS + 63), m.i32.wrap(f.get(shift))), f.c32(0)),
        ),
      ),
    ),
    f.set(out.flags, m.select(whole(), f.c32(0), f.inexact(s.rem))),
    f.set(out.up, m.i32.and(m.i32.ne(f.get(out.flags), f.c32(0)), nonZero())),
  );
  return out;
}
