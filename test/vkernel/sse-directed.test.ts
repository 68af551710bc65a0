// kernel.sse, the hypercall lifted code makes for an SSE float operation
// when MXCSR is not in its default mode: results in each rounding mode
// checked by hand (and against the neighbouring doubles and floats), the
// MXCSR exception flags it raises, the conversions, operands that arrive
// signed, as wasm i64s do in JavaScript, and FTZ and DAZ. (Its common case
// runs in wasm first: test/lift/sse-directed-wasm.test.ts.)
import { describe, expect, it } from "vitest";
import { STATE_MXCSR } from "../../src/lift/guest-layout.js";
import { encodeSse, SSE_OP, type SseOp } from "../../src/lift/semantics/sse-directed-ops.js";
import { executeSse } from "../../src/vkernel/sse-directed.js";

const NEAREST = 0;
const DOWN = 1;
const UP = 2;
const ZERO = 3;
const PE = 0x20;
const OE = 0x08;
const UE = 0x10;

const bitsOf = (x: number): bigint => {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x, true);
  return v.getBigInt64(0, true); // signed, as wasm passes it
};
const valueOf = (b: bigint): number => {
  const v = new DataView(new ArrayBuffer(8));
  v.setBigUint64(0, BigInt.asUintN(64, b), true);
  return v.getFloat64(0, true);
};
const floatBits = (x: number): bigint => {
  const v = new DataView(new ArrayBuffer(4));
  v.setFloat32(0, x, true);
  return BigInt(v.getUint32(0, true));
};
const floatOf = (b: bigint): number => {
  const v = new DataView(new ArrayBuffer(4));
  v.setUint32(0, Number(b), true);
  return v.getFloat32(0, true);
};

/**
 * Runs one operation in mode `rc`, MXCSR bits `set` set and `clear` clear;
 * the result and the flags it left.
 */
function run(op: SseOp, single: boolean, rc: number, a: bigint, b = 0n, set = 0, clear = 0) {
  const view = new DataView(new ArrayBuffer(STATE_MXCSR + 4));
  view.setUint32(STATE_MXCSR, (0x1f80 | (rc << 13) | set) & ~clear, true);
  const result = executeSse(view, encodeSse(op, single), a, b);
  return { result, flags: view.getUint32(STATE_MXCSR, true) & 0x3f };
}

const d = (op: SseOp, rc: number, a: number, b = 0): number =>
  valueOf(run(op, false, rc, bitsOf(a), bitsOf(b)).result);

describe("kernel.sse: directed rounding of SSE operations", () => {
  it("rounds quotients, sums, products and square roots down, up and toward zero", () => {
    const third = 1 / 3; // nearest is below the exact value
    const above = third + 2 ** -54;
    expect(d(SSE_OP.DIV, DOWN, 1, 3)).toBe(third);
    expect(d(SSE_OP.DIV, UP, 1, 3)).toBe(above);
    expect(d(SSE_OP.DIV, ZERO, 1, 3)).toBe(third);
    expect(d(SSE_OP.DIV, DOWN, -1, 3)).toBe(-above);
    expect(d(SSE_OP.DIV, ZERO, -1, 3)).toBe(-third);
    expect(d(SSE_OP.ADD, UP, 1, 2 ** -60)).toBe(1 + 2 ** -52);
    expect(d(SSE_OP.SUB, DOWN, 1, 2 ** -60)).toBe(1 - 2 ** -53);
    expect(d(SSE_OP.MUL, UP, 1 + 2 ** -52, 1 + 2 ** -52)).toBe(1 + 2 ** -51 + 2 ** -52);
    // The nearest double to √2 is above it.
    expect(d(SSE_OP.SQRT, UP, 0, 2)).toBe(Math.SQRT2);
    expect(d(SSE_OP.SQRT, DOWN, 0, 2)).toBe(Math.SQRT2 - 2 ** -52);
    // An exact zero sum of opposite signs is −0 only when rounding down.
    expect(Object.is(d(SSE_OP.SUB, DOWN, 0.1, 0.1), -0)).toBe(true);
    expect(Object.is(d(SSE_OP.SUB, UP, 0.1, 0.1), 0)).toBe(true);
  });

  it("overflows to infinity or the largest finite value as the mode says, and underflows gradually", () => {
    expect(d(SSE_OP.MUL, ZERO, 1e308, 10)).toBe(Number.MAX_VALUE);
    expect(d(SSE_OP.MUL, UP, 1e308, 10)).toBe(Infinity);
    expect(d(SSE_OP.MUL, UP, -1e308, 10)).toBe(-Number.MAX_VALUE);
    expect(d(SSE_OP.MUL, DOWN, -1e308, 10)).toBe(-Infinity);
    expect(d(SSE_OP.MUL, UP, 1e-200, 1e-200)).toBe(Number.MIN_VALUE);
    expect(d(SSE_OP.MUL, DOWN, 1e-200, 1e-200)).toBe(0);
  });

  it("sets the exception flags the operation raises, and none for an exact one", () => {
    expect(run(SSE_OP.DIV, false, UP, bitsOf(1), bitsOf(3)).flags).toBe(PE);
    expect(run(SSE_OP.ADD, false, UP, bitsOf(1), bitsOf(2)).flags).toBe(0);
    expect(run(SSE_OP.MUL, false, ZERO, bitsOf(1e308), bitsOf(10)).flags).toBe(OE | PE);
    expect(run(SSE_OP.MUL, false, UP, bitsOf(1e-200), bitsOf(1e-200)).flags).toBe(UE | PE);
  });

  it("works on f32 operands and converts doubles and integers in the mode", () => {
    const f = (op: SseOp, rc: number, a: bigint, b = 0n): number =>
      floatOf(run(op, true, rc, a, b).result);
    const third = Math.fround(1 / 3); // nearest is above the exact value
    expect(f(SSE_OP.DIV, DOWN, floatBits(1), floatBits(3))).toBe(third - 2 ** -25);
    expect(f(SSE_OP.DIV, UP, floatBits(1), floatBits(3))).toBe(third);
    expect(f(SSE_OP.FROM_F64, UP, bitsOf(0.1))).toBe(Math.fround(0.1));
    expect(f(SSE_OP.FROM_F64, DOWN, bitsOf(0.1))).toBe(Math.fround(0.1) - 2 ** -27);
    expect(f(SSE_OP.FROM_INT, UP, 16777217n)).toBe(16777218);
    expect(f(SSE_OP.FROM_INT, DOWN, -16777217n)).toBe(-16777218);
    expect(d(SSE_OP.FROM_INT, UP, 0) === 0).toBe(true);
    expect(valueOf(run(SSE_OP.FROM_INT, false, UP, (1n << 53n) + 1n).result)).toBe(2 ** 53 + 2);
    expect(valueOf(run(SSE_OP.FROM_INT, false, ZERO, -((1n << 53n) + 1n)).result)).toBe(-(2 ** 53));
  });
});

describe("kernel.sse with MXCSR.FTZ and MXCSR.DAZ", () => {
  const FTZ = 0x8000;
  const DAZ = 0x40;
  /** The underflow mask (UM): FTZ applies only while it is set. */
  const UM = 0x800;
  const MIN = 2 ** -1022;
  const denormal = 1e-310;
  const flagsAnd = (op: SseOp, a: number, b: number, rc: number, set: number, clear = 0) => {
    const r = run(op, false, rc, bitsOf(a), bitsOf(b), set, clear);
    return [valueOf(r.result), r.flags];
  };

  it("counts denormal operands as zeros of their sign with DAZ, and raises no DE for them", () => {
    expect(flagsAnd(SSE_OP.ADD, denormal, denormal, NEAREST, DAZ)).toEqual([0, 0]);
    expect(flagsAnd(SSE_OP.ADD, denormal, denormal, NEAREST, 0)).toEqual([2 * denormal, 0x02]);
    expect(Object.is(flagsAnd(SSE_OP.MUL, -denormal, 3, UP, DAZ)[0], -0)).toBe(true);
    // cvtsd2ss's operand is a double: a double denormal counts as zero.
    const single = run(SSE_OP.FROM_F64, true, NEAREST, bitsOf(denormal), 0n, DAZ);
    expect(single).toEqual({ result: 0n, flags: 0 });
  });

  it("flushes tiny results, exact ones too, to zeros with UE and PE under FTZ, while UE is masked", () => {
    expect(flagsAnd(SSE_OP.MUL, 2 ** -1000, 2 ** -30, NEAREST, FTZ)).toEqual([0, UE | PE]);
    expect(flagsAnd(SSE_OP.MUL, 2 ** -1000, 2 ** -30, NEAREST, 0)).toEqual([2 ** -1030, 0]);
    // Tiny before and after rounding with an unbounded exponent: flushed,
    // though it rounds up to the smallest normal.
    expect(flagsAnd(SSE_OP.MUL, 1 - 2 ** -53, MIN, NEAREST, FTZ)).toEqual([0, UE | PE]);
    // Rounded to the smallest normal with an unbounded exponent: not tiny, kept.
    const product = flagsAnd(SSE_OP.MUL, 1 - 2 ** -52, (1 + 2 ** -52) * MIN, NEAREST, FTZ);
    expect(product).toEqual([MIN, PE]);
    expect(Object.is(flagsAnd(SSE_OP.DIV, -MIN, 3, DOWN, FTZ)[0], -0)).toBe(true);
    expect(flagsAnd(SSE_OP.MUL, 2 ** -1000, 2 ** -30, NEAREST, FTZ, UM)[0]).toBe(2 ** -1030);
  });

  it("lets IE and ZE take the place of a denormal operand's DE, as SSE does", () => {
    expect(flagsAnd(SSE_OP.DIV, -denormal, 0, DOWN, 0)[1]).toBe(0x04);
    expect(flagsAnd(SSE_OP.SQRT, 0, -denormal, DOWN, 0)[1]).toBe(0x01);
    expect(flagsAnd(SSE_OP.DIV, 0, denormal, DOWN, 0)[1]).toBe(0x02);
  });
});
