// kernel.sse: SSE float operations in the rounding mode MXCSR.RC names, for
// the lifted code that runs them only when RC is not round-to-nearest (wasm
// rounds to nearest; see lift/semantics/sse-directed-ops.ts). The x87 soft
// float computes each result exactly with BigInt and rounds it once to the
// IEEE single or double format — gradual underflow and the masked overflow
// responses included — and the exception flags it raises are ORed into
// MXCSR bits 0–5, which have the x87 status word's layout (SDM Vol. 1
// §10.2.3). An invalid operation (0/0, ∞ − ∞, √−1) gives the default NaN
// and IE; NaN operands never come here: their propagation does not depend
// on RC, and the x87 rule for two NaNs is not SSE's.
import { STATE_MXCSR } from "../lift/guest-layout.js";
import { SSE_OP, SSE_SINGLE } from "../lift/semantics/sse-directed-ops.js";
import { add, divide, multiply, sqrt, type Result } from "./x87/arith.js";
import { loadDouble, loadInteger, loadSingle, storeDouble, storeSingle } from "./x87/convert.js";
import type { Float80 } from "./x87/float80.js";
import { DOUBLE, SINGLE, type RoundingMode } from "./x87/round.js";
import { fastDirected } from "./sse-directed-fast.js";

const FLAG_BITS = 0x3f;

/**
 * Executes `kernel.sse(id, a, b)`; returns the result's bits. The operands
 * arrive as wasm i64s do in JavaScript, signed.
 */
export function executeSse(view: DataView, id: number, signedA: bigint, signedB: bigint): bigint {
  const a = BigInt.asUintN(64, signedA);
  const b = BigInt.asUintN(64, signedB);
  const mxcsr = view.getUint32(STATE_MXCSR, true);
  const rc = ((mxcsr >> 13) & 3) as RoundingMode;
  const single = (id & SSE_SINGLE) !== 0;
  const op = id & 0xf;
  const fast = op <= SSE_OP.SQRT ? fastPath(op, single, rc, a, b) : undefined;
  if (fast === undefined) return executeSoft(view, id, a, b);
  if (fast.flags !== 0) view.setUint32(STATE_MXCSR, mxcsr | fast.flags, true);
  return fast.bits;
}

/**
 * kernel.sse in the BigInt soft float alone (unsigned operand bits): what
 * the fast path stands in for, and what answers outside its guards.
 */
export function executeSoft(view: DataView, id: number, a: bigint, b: bigint): bigint {
  const mxcsr = view.getUint32(STATE_MXCSR, true);
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
  const flags = (result.flags | storeFlags) & FLAG_BITS;
  if (flags !== 0) view.setUint32(STATE_MXCSR, mxcsr | flags, true);
  return bits;
}

const scratch = new DataView(new ArrayBuffer(8));

/**
 * sse-directed-fast.ts on the operands' bits; undefined when its guards (or
 * a single denormal, which raises DE) send the operation to the soft float.
 */
function fastPath(
  op: number,
  single: boolean,
  rc: number,
  a: bigint,
  b: bigint,
): { bits: bigint; flags: number } | undefined {
  const value = (bits: bigint): number => {
    if (single) {
      scratch.setUint32(0, Number(bits & 0xffffffffn), true);
      return scratch.getFloat32(0, true);
    }
    scratch.setBigUint64(0, bits, true);
    return scratch.getFloat64(0, true);
  };
  const x = value(a);
  const y = value(b);
  const inputs = op === SSE_OP.SQRT ? [y] : [x, y];
  if (single && inputs.some((v) => Math.abs(v) < 2 ** -126)) return undefined;
  const r = fastDirected(op, single, rc, x, y);
  if (r === undefined) return undefined;
  if (single) {
    scratch.setFloat32(0, r.value, true);
    return { bits: BigInt(scratch.getUint32(0, true)), flags: r.flags };
  }
  scratch.setFloat64(0, r.value, true);
  return { bits: scratch.getBigUint64(0, true), flags: r.flags };
}
