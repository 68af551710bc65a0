// The common case of a directed-mode SSE operation, in wasm. A checked
// function (sse-directed.ts) hands add, sub, mul, div and sqrt to one of two
// shared functions added to the module on first use, instead of to the
// kernel.sse hypercall: a wasm call costs a few nanoseconds, the hypercall
// into JavaScript about 160. They need only double arithmetic:
//
// - the nearest double q of the exact result comes from wasm's own
//   operation; the sign of (exact − q) from an error-free transformation in
//   doubles: TwoSum for sums (Knuth), the residual a − q·b or b − q² by
//   Dekker's product for quotients and square roots (Dekker 1971; Muller et
//   al., "Handbook of Floating-Point Arithmetic", ch. 4);
// - a directed result is q or its neighbour on the exact value's side; PE is
//   raised in MXCSR when the result is inexact;
// - a single's operands widen exactly; its nearest single is q rounded to
//   single (double rounding is innocuous for these operations: 53 ≥ 2·24 + 2,
//   Figueroa 1995), and q's own error decides only when q is itself a single.
//
// A zero addend is exact: the sum is the other operand. Anything else
// outside the guards — zeros, denormals (DAZ and the DE flag),
// infinities, NaNs, magnitudes beyond 2^±900 where the products above stop
// being exact, and single results near underflow or overflow — goes to
// kernel.sse, whose BigInt soft float answers every case (and FTZ/DAZ).
import binaryen from "binaryen";
import { f32, f64, i32, i64, type Expr, type Wasm } from "../emit/wasm.js";
import { STATE_MXCSR } from "../guest-layout.js";
import { SSE_OP } from "./sse-directed-ops.js";

export const SSE_IMPORT = "kernel_sse";

/** Declares the kernel.sse import on a lifted module. */
export function addSseImport(m: binaryen.Module): void {
  m.addFunctionImport(SSE_IMPORT, "kernel", "sse", binaryen.createType([i32, i64, i64]), i64);
}

const DOUBLE_HELPER = "megalift_sse_directed_f64";
const SINGLE_HELPER = "megalift_sse_directed_f32";
const PE = 0x20;
/** Magnitudes inside which every product and residual below is exact. */
const LOW = 2 ** -900;
const HIGH = 2 ** 900;
const SPLIT = 2 ** 27 + 1;
const MIN_NORMAL_F32 = 2 ** -126;
const MAX_F32 = (2 - 2 ** -23) * 2 ** 127;

// Parameters and locals of both helpers.
const ID = 0;
const A = 1;
const B = 2;
const Q = 3; // the nearest double
const ERR = 4; // a double whose sign is that of (exact − q)
const Y = 5;
const HI = 6;
const R = 7; // a single's nearest single, widened
const SIDE = 8; // the sign of (exact − result) before the directed step
const MODE = 9;

/**
 * The helper for `single` (f32) or double operations: (id, a, b) → result,
 * added to the module once. `id` is kernel.sse's (sse-directed-ops.ts).
 */
export function directedHelper(w: Wasm, single: boolean): string {
  const name = single ? SINGLE_HELPER : DOUBLE_HELPER;
  if (w.m.getFunction(name) === 0) addHelper(w, name, single);
  return name;
}

function addHelper(w: Wasm, name: string, single: boolean): void {
  const m = w.m;
  const type = single ? f32 : f64;
  const d = (local: number): Expr => m.local.get(local, f64);
  const set = (local: number, value: Expr): Expr => m.local.set(local, value);
  const c = (v: number): Expr => m.f64.const(v);
  /** The operand as a double (a single widens exactly). */
  const operand = (local: number): Expr =>
    single ? m.f64.promote(m.local.get(local, f32)) : m.local.get(local, f64);
  const slow = (condition: Expr): Expr => m.br("slow", condition);
  /** Leave for kernel.sse unless LOW <= |x| <= HIGH (false for NaN too). */
  const guard = (x: () => Expr, low = LOW): Expr =>
    slow(m.i32.eqz(m.i32.and(m.f64.ge(m.f64.abs(x()), c(low)), m.f64.le(m.f64.abs(x()), c(HIGH)))));
  /** Single operands below the smallest normal single raise DE: kernel.sse's. */
  /** `check` unless `x` is a zero. */
  const orZero = (x: Expr, check: Expr): Expr => m.if(m.f64.ne(x, c(0)), check);
  const operandGuard = (local: number): Expr =>
    guard(() => operand(local), single ? MIN_NORMAL_F32 : LOW);
  /** Dekker: the low part of x·y = hi + lo, for x and y inside the guards. */
  const productLow = (x: () => Expr, y: () => Expr, hi: () => Expr): Expr => {
    const high = (v: () => Expr): Expr =>
      m.f64.sub(m.f64.mul(c(SPLIT), v()), m.f64.sub(m.f64.mul(c(SPLIT), v()), v()));
    const low = (v: () => Expr): Expr => m.f64.sub(v(), high(v));
    const hh = m.f64.sub(m.f64.mul(high(x), high(y)), hi());
    return m.f64.add(
      m.f64.add(m.f64.add(hh, m.f64.mul(high(x), low(y))), m.f64.mul(low(x), high(y))),
      m.f64.mul(low(x), low(y)),
    );
  };

  /** ERR = target − x·y exactly (x·y in HI), for target within a factor of two of x·y. */
  const residual = (target: () => Expr, x: () => Expr, y: () => Expr): Expr[] => [
    set(HI, m.f64.mul(x(), y())),
    set(
      ERR,
      m.f64.sub(
        m.f64.sub(target(), d(HI)),
        productLow(x, y, () => d(HI)),
      ),
    ),
  ];

  const sum = [
    // y = ±b; q = a + y; err = (a − (q − yy)) + (y − yy) with yy = q − a.
    set(
      Y,
      m.select(
        m.i32.eq(m.i32.and(m.local.get(ID, i32), w.c32(0xf)), w.c32(SSE_OP.SUB)),
        m.f64.neg(operand(B)),
        operand(B),
      ),
    ),
    // A zero addend is exact (q is the other operand, err 0); two zeros, whose
    // sign depends on the mode, fail q's guard.
    orZero(operand(A), operandGuard(A)),
    orZero(
      d(Y),
      guard(() => d(Y), single ? MIN_NORMAL_F32 : LOW),
    ),
    set(Q, m.f64.add(operand(A), d(Y))),
    guard(() => d(Q)),
    set(HI, m.f64.sub(d(Q), operand(A))), // yy
    set(ERR, m.f64.add(m.f64.sub(operand(A), m.f64.sub(d(Q), d(HI))), m.f64.sub(d(Y), d(HI)))),
    m.br("computed"),
  ];
  /** Both operands and the nearest result q = a op b inside the guards. */
  const nearest = (op: (a: Expr, b: Expr) => Expr): Expr[] => [
    operandGuard(A),
    operandGuard(B),
    set(Q, op(operand(A), operand(B))),
    guard(() => d(Q)),
  ];
  const product = [
    ...nearest((a, b) => m.f64.mul(a, b)),
    set(
      ERR,
      productLow(
        () => operand(A),
        () => operand(B),
        () => d(Q),
      ),
    ),
    m.br("computed"),
  ];
  const quotient = [
    ...nearest((a, b) => m.f64.div(a, b)),
    // a − q·b exactly (a − hi is exact: they are within a factor of two),
    // its sign turned by b's.
    ...residual(
      () => operand(A),
      () => d(Q),
      () => operand(B),
    ),
    set(ERR, m.select(m.f64.lt(operand(B), c(0)), m.f64.neg(d(ERR)), d(ERR))),
    m.br("computed"),
  ];
  const root = [
    operandGuard(B),
    slow(m.f64.lt(operand(B), c(0))),
    set(Q, m.f64.sqrt(operand(B))),
    ...residual(
      () => operand(B),
      () => d(Q),
      () => d(Q),
    ),
  ];
  // br_table by operation: 0 add, 1 sub, 2 mul, 3 div, 4 sqrt; anything else is kernel.sse's.
  const op = m.i32.and(m.local.get(ID, i32), w.c32(0xf));
  let dispatch: Expr = m.switch(["sum", "sum", "product", "quotient", "root"], "slow", op);
  for (const [label, body] of [
    ["sum", sum],
    ["product", product],
    ["quotient", quotient],
  ] as const) {
    dispatch = m.block(null, [m.block(label, [dispatch]), ...body]);
  }
  const computed = m.block("computed", [m.block("root", [dispatch]), ...root]);

  const result = single ? directedSingle(w) : directedDouble(w);
  const body = m.block(null, [m.block("slow", [computed, ...result]), kernel(w, single)], type);
  m.addFunction(
    name,
    binaryen.createType([i32, type, type]),
    type,
    [f64, f64, f64, f64, f64, f64, i32],
    body,
  );
}

/** MXCSR.RC into MODE, and PE into MXCSR when SIDE is not zero. */
function modeAndFlag(w: Wasm): Expr[] {
  const m = w.m;
  const mxcsr = (): Expr => m.i32.load(0, 4, w.c32(STATE_MXCSR));
  return [
    m.local.set(MODE, m.i32.and(m.i32.shr_u(mxcsr(), w.c32(13)), w.c32(3))),
    m.if(
      m.f64.ne(m.local.get(SIDE, f64), m.f64.const(0)),
      m.i32.store(0, 4, w.c32(STATE_MXCSR), m.i32.or(mxcsr(), w.c32(PE))),
    ),
  ];
}

/**
 * Whether the directed result is the neighbour of `value` (non-zero, of the
 * result's format) on SIDE's side: down takes it below, up above, toward
 * zero when SIDE points at zero; nearest never.
 */
function steps(w: Wasm, value: () => Expr, zero: Expr): Expr {
  const m = w.m;
  const side = (): Expr => m.local.get(SIDE, f64);
  const mode = (): Expr => m.local.get(MODE, i32);
  const is = (n: number): Expr => m.i32.eq(mode(), w.c32(n));
  return m.i32.or(
    m.i32.or(
      m.i32.and(is(1), m.f64.lt(side(), m.f64.const(0))),
      m.i32.and(is(2), m.f64.gt(side(), m.f64.const(0))),
    ),
    // Toward zero: the exact value lies on zero's side of the value.
    m.i32.and(
      m.i32.and(is(3), m.f64.ne(side(), m.f64.const(0))),
      m.i32.ne(m.f64.lt(side(), m.f64.const(0)), m.f64.lt(value(), zero)),
    ),
  );
}

/** The neighbour of the non-zero `value` bits on SIDE's side: +1 away from zero, −1 toward it. */
function neighbour(w: Wasm, bits: Expr, value: Expr, zero: Expr, single: boolean): Expr {
  const m = w.m;
  const away = m.i32.eq(m.f64.gt(m.local.get(SIDE, f64), m.f64.const(0)), m.f64.gt(value, zero));
  if (single) return m.i32.add(bits, m.select(away, w.c32(1), w.c32(-1)));
  return m.i64.add(bits, m.select(away, w.c64(1), w.c64(-1)));
}

function directedDouble(w: Wasm): Expr[] {
  const m = w.m;
  const q = (): Expr => m.local.get(Q, f64);
  return [
    m.local.set(SIDE, m.local.get(ERR, f64)),
    ...modeAndFlag(w),
    m.if(
      steps(w, q, m.f64.const(0)),
      m.local.set(
        Q,
        m.f64.reinterpret(neighbour(w, m.i64.reinterpret(q()), q(), m.f64.const(0), false)),
      ),
    ),
    m.return(q()),
  ];
}

function directedSingle(w: Wasm): Expr[] {
  const m = w.m;
  const r = (): Expr => m.local.get(R, f64);
  const single = (): Expr => m.f32.demote(r());
  const magnitude = (): Expr => m.f64.abs(r());
  return [
    m.local.set(R, m.f64.promote(m.f32.demote(m.local.get(Q, f64)))),
    m.br(
      "slow",
      m.i32.or(
        m.f64.lt(magnitude(), m.f64.const(MIN_NORMAL_F32)),
        m.f64.ge(magnitude(), m.f64.const(MAX_F32)),
      ),
    ),
    // q − r is exact (Sterbenz); when q is itself a single, q's error decides.
    m.local.set(SIDE, m.f64.sub(m.local.get(Q, f64), r())),
    m.if(
      m.f64.eq(m.local.get(SIDE, f64), m.f64.const(0)),
      m.local.set(SIDE, m.local.get(ERR, f64)),
    ),
    ...modeAndFlag(w),
    m.if(
      steps(w, r, m.f64.const(0)),
      m.return(
        m.f32.reinterpret(neighbour(w, m.i32.reinterpret(single()), r(), m.f64.const(0), true)),
      ),
    ),
    m.return(single()),
  ];
}

/** kernel.sse on the operands' bits: every case the guards leave out. */
function kernel(w: Wasm, single: boolean): Expr {
  const m = w.m;
  const bits = (local: number): Expr =>
    single
      ? m.i64.extend_u(m.i32.reinterpret(m.local.get(local, f32)))
      : m.i64.reinterpret(m.local.get(local, f64));
  const result = m.call(SSE_IMPORT, [m.local.get(ID, i32), bits(A), bits(B)], i64);
  return single ? m.f32.reinterpret(m.i32.wrap(result)) : m.f64.reinterpret(result);
}
