// kernel.sse: SSE float operations as MXCSR says to compute them, for the
// lifted code that runs them only when wasm's own result may differ: when
// RC is not round-to-nearest, or FTZ or DAZ is set and the result is tiny
// or an operand denormal (see lift/semantics/sse-directed.ts). The x87
// soft float computes each result exactly with BigInt and rounds it once
// to the IEEE single or double format — gradual underflow and the masked
// overflow responses included — and the exception flags it raises are
// ORed into MXCSR bits 0–5, which have the x87 status word's layout (SDM
// Vol. 1 §10.2.3). An invalid operation (0/0, ∞ − ∞, √−1) gives the
// default NaN and IE; NaN operands never come here: their propagation does
// not depend on RC, and the x87 rule for two NaNs is not SSE's.
import { STATE_MXCSR } from "../lift/guest-layout.js";
import { SSE_OP, SSE_SINGLE } from "../lift/semantics/sse-directed-ops.js";
import { add, divide, multiply, sqrt, type Result } from "./x87/arith.js";
import { loadDouble, loadInteger, loadSingle, storeDouble, storeSingle } from "./x87/convert.js";
import type { Float80 } from "./x87/float80.js";
import { DOUBLE, SINGLE, type RoundingMode } from "./x87/round.js";

const FLAG_BITS = 0x3f;
const IE = 0x01;
const DE = 0x02;
const ZE = 0x04;
const UE = 0x10;
const PE = 0x20;
/** MXCSR bits: denormals are zeros, underflow masked, flush to zero. */
const DAZ = 0x40;
const UM = 0x800;
const FTZ = 0x8000;

interface Answer {
  readonly bits: bigint;
  /** The exception flags this operation raised. */
  readonly flags: number;
}

/**
 * Executes `kernel.sse(id, a, b)`; returns the result's bits. The operands
 * arrive as wasm i64s do in JavaScript, signed. With MXCSR.DAZ a denormal
 * operand counts as a zero of its sign; with MXCSR.FTZ (and underflow
 * masked) a tiny result becomes one, raising UE and PE — tiny after
 * rounding with an unbounded exponent, as the CPU decides it for the UE
 * flag, and exact tiny results too (measured on the CPU).
 */
export function executeSse(view: DataView, id: number, signedA: bigint, signedB: bigint): bigint {
  const mxcsr = view.getUint32(STATE_MXCSR, true);
  const single = (id & SSE_SINGLE) !== 0;
  const op = id & 0xf;
  let a = BigInt.asUintN(64, signedA);
  let b = BigInt.asUintN(64, signedB);
  if ((mxcsr & DAZ) !== 0 && op !== SSE_OP.FROM_INT) {
    // FROM_F64's operand is a double whatever the result's format.
    const operandSingle = single && op !== SSE_OP.FROM_F64;
    a = denormalAsZero(a, operandSingle);
    b = denormalAsZero(b, operandSingle);
  }
  let answer = soft(mxcsr, id, a, b);
  if ((mxcsr & FTZ) !== 0 && (mxcsr & UM) !== 0) answer = flushedToZero(answer, single);
  if (answer.flags !== 0) view.setUint32(STATE_MXCSR, mxcsr | answer.flags, true);
  return answer.bits;
}

/** The operation in the BigInt soft float (unsigned operand bits, no DAZ or FTZ). */
function soft(mxcsr: number, id: number, a: bigint, b: bigint): Answer {
  const rc = ((mxcsr >> 13) & 3) as RoundingMode;
  const single = (id & SSE_SINGLE) !== 0;
  const op = id & 0xf;
  const env = { rc, fmt: single ? SINGLE : DOUBLE };
  const load = (bits: bigint): { value: Float80; flags: number } =>
    single ? loadSingle(Number(bits & 0xffffffffn)) : loadDouble(bits);
  let result: Result;
  if (op === SSE_OP.FROM_F64) {
    result = loadDouble(a);
  } else if (op === SSE_OP.FROM_INT) {
    result = { value: loadInteger(BigInt.asIntN(64, a)), flags: 0 };
  } else {
    const x = load(a);
    const y = load(b);
    switch (op) {
      case SSE_OP.ADD:
        result = add(x.value, y.value, env);
        break;
      case SSE_OP.SUB:
        result = add(x.value, y.value, env, true);
        break;
      case SSE_OP.MUL:
        result = multiply(x.value, y.value, env);
        break;
      case SSE_OP.DIV:
        result = divide(x.value, y.value, env);
        break;
      case SSE_OP.SQRT:
        result = sqrt(y.value, env);
        break;
      default:
        throw new Error(`kernel.sse: unknown operation ${id}`);
    }
    // √ reads only its source: a denormal first operand raises nothing.
    const loadFlags = op === SSE_OP.SQRT ? y.flags : x.flags | y.flags;
    result = { ...result, flags: result.flags | loadFlags };
  }
  // The value is representable in the target format already, except for the
  // conversions, which round here.
  let bits: bigint;
  let storeFlags: number;
  if (single) {
    const stored = storeSingle(result.value, rc);
    bits = BigInt(stored.value >>> 0);
    storeFlags = stored.flags;
  } else {
    const stored = storeDouble(result.value, rc);
    bits = stored.value;
    storeFlags = stored.flags;
  }
  let flags = (result.flags | storeFlags) & FLAG_BITS;
  // SSE reports one pre-computation exception: a denormal operand's DE
  // gives way to IE or ZE (measured: −denormal/0 raises ZE alone).
  if ((flags & (IE | ZE)) !== 0) flags &= ~DE;
  return { bits, flags };
}

/** The layout of an IEEE format's bits: where the exponent field starts, and the sign. */
const layout = (single: boolean): { fraction: bigint; sign: bigint } =>
  single ? { fraction: 23n, sign: 1n << 31n } : { fraction: 52n, sign: 1n << 63n };

/** `bits` as a zero of its sign when it encodes a denormal, else unchanged. */
function denormalAsZero(bits: bigint, single: boolean): bigint {
  const { fraction, sign } = layout(single);
  const magnitude = bits & (sign - 1n);
  return magnitude !== 0n && magnitude >> fraction === 0n ? bits & sign : bits;
}

/**
 * FTZ: a denormal result, or the smallest normal that only rounding lifted
 * out of the tiny range (it raised UE), as a zero of its sign with UE and PE.
 */
function flushedToZero(answer: Answer, single: boolean): Answer {
  const { fraction, sign } = layout(single);
  const magnitude = answer.bits & (sign - 1n);
  const denormal = magnitude !== 0n && magnitude >> fraction === 0n;
  const roundedUpToNormal = magnitude === 1n << fraction && (answer.flags & UE) !== 0;
  if (!denormal && !roundedUpToNormal) return answer;
  return { bits: answer.bits & sign, flags: answer.flags | UE | PE };
}
