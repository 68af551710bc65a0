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
  const env = { rc, fmt: single ? SINGLE : DOUBLE };
  const load = (bits: bigint): { value: Float80; flags: number } =>
    single ? loadSingle(Number(bits & 0xffffffffn)) : loadDouble(bits);
  let result: Result;
  const op = id & 0xf;
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
