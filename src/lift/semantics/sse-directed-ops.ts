// The directed-rounding hypercall contract between lifted code and the
// vkernel. Wasm rounds every float operation to nearest; when MXCSR.RC names
// another mode (after fesetround, or glibc's soft fma, which adds rounding
// toward zero and reads the inexact flag), lifted code hands the operation
// to `kernel.sse(id, a, b)`, which computes it exactly, rounds it once in
// that mode, sets the MXCSR exception flags it raises, and returns the
// result's bits. `a` and `b` are the operands' bits (an f32 in the low 32
// bits); a one-operand operation ignores `b`.
// Kept free of binaryen and iced-x86 so the runtime loads without the lifter.

/** Operations (bits 0–3 of the id). */
export const SSE_OP = {
  ADD: 0,
  SUB: 1,
  MUL: 2,
  DIV: 3,
  /** √b */
  SQRT: 4,
  /** The f64 `a` to the result format (cvtsd2ss, cvtpd2ps). */
  FROM_F64: 5,
  /** The signed 64-bit integer `a` to the result format (cvtsi2sd, cvtsi2ss, cvtdq2ps). */
  FROM_INT: 6,
} as const;
export type SseOp = (typeof SSE_OP)[keyof typeof SSE_OP];

/** Bit 4 of the id: the operands (but FROM_F64's and FROM_INT's) and the result are f32. */
export const SSE_SINGLE = 0x10;

export const encodeSse = (op: SseOp, single: boolean): number => op | (single ? SSE_SINGLE : 0);
