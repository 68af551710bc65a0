// The wasm helpers a checked function calls for add, sub, mul, div and sqrt
// in a directed rounding mode (sse-directed-wasm.ts), in a module of their
// own: on random operands, in every rounding mode and both widths, they
// must give the BigInt soft float's bits and MXCSR flags (kernel.sse's),
// answering most cases themselves and passing the rest to kernel.sse.
import binaryen from "binaryen";
import { describe, expect, it } from "vitest";
import { Wasm } from "../../src/lift/emit/wasm.js";
import { STATE_MXCSR } from "../../src/lift/guest-layout.js";
import { encodeSse, SSE_OP, type SseOp } from "../../src/lift/semantics/sse-directed-ops.js";
import { addSseImport, directedHelper } from "../../src/lift/semantics/sse-directed-wasm.js";
import { executeSse } from "../../src/vkernel/sse-directed.js";
import { xorshift64 } from "../helpers/xorshift.js";

type Helper = (id: number, a: number, b: number) => number;

/** The two helpers, instantiated over one page of memory (MXCSR inside), and kernel.sse. */
function helpers(): {
  double: Helper;
  single: Helper;
  view: DataView;
  kernelCalls: () => number;
} {
  const m = new binaryen.Module();
  try {
    m.setMemory(1, 1, "memory");
    addSseImport(m);
    const w = new Wasm(m);
    m.addFunctionExport(directedHelper(w, false), "double");
    m.addFunctionExport(directedHelper(w, true), "single");
    expect(m.validate()).toBeTruthy();
    let calls = 0;
    const state: { view?: DataView } = {};
    const instance = new WebAssembly.Instance(new WebAssembly.Module(m.emitBinary()), {
      kernel: {
        sse: (id: number, a: bigint, b: bigint): bigint => {
          calls++;
          return executeSse(state.view as DataView, id, a, b);
        },
      },
    });
    const memory = instance.exports.memory as WebAssembly.Memory;
    const view = new DataView(memory.buffer);
    state.view = view;
    return {
      double: instance.exports.double as Helper,
      single: instance.exports.single as Helper,
      view,
      kernelCalls: () => calls,
    };
  } finally {
    m.dispose();
  }
}

describe("the directed-rounding helpers in wasm", () => {
  it("give the BigInt soft float's bits and flags on random operands, in every mode", () => {
    const { double: runDouble, single: runSingle, view, kernelCalls } = helpers();
    const random = xorshift64(0x9e3779b97f4a7c15n);
    /** A double with a random significand and sign, and an exponent within ±spread. */
    const double = (spread: number): bigint => {
      const r = random();
      const exponent = BigInt(1023 + Number(r % BigInt(2 * spread + 1)) - spread);
      return (r & 0x800fffffffffffffn) | (exponent << 52n);
    };
    /** A single with a random significand and sign, and an exponent within ±spread. */
    const single = (spread: number): bigint => {
      const r = random();
      const exponent = BigInt(127 + Number(r % BigInt(2 * spread + 1)) - spread);
      return (r & 0x807fffffn) | (exponent << 23n);
    };
    const scratch = new DataView(new ArrayBuffer(8));
    const asDouble = (bits: bigint): number => {
      scratch.setBigUint64(0, bits, true);
      return scratch.getFloat64(0, true);
    };
    const asSingle = (bits: bigint): number => {
      scratch.setUint32(0, Number(bits), true);
      return scratch.getFloat32(0, true);
    };
    const bitsOf = (x: number, isSingle: boolean): bigint => {
      if (isSingle) {
        scratch.setFloat32(0, x, true);
        return BigInt(scratch.getUint32(0, true));
      }
      scratch.setFloat64(0, x, true);
      return scratch.getBigUint64(0, true);
    };
    const mismatches: string[] = [];
    let cases = 0;
    let zeroAddends = 0;
    for (let i = 0; i < 6000; i++) {
      const op = [SSE_OP.ADD, SSE_OP.SUB, SSE_OP.MUL, SSE_OP.DIV, SSE_OP.SQRT][i % 5] as SseOp;
      const isSingle = i % 2 === 1;
      // Mostly moderate exponents; some far apart (sums that barely round),
      // some near the guards and the formats' limits.
      const spread = [4, 60, 1000][i % 3] as number;
      const make = (): bigint => (isSingle ? single(Math.min(spread, 126)) : double(spread));
      let a = make();
      let b = make();
      if (i % 7 === 0) b = a ^ (isSingle ? 0x80000000n : 1n << 63n); // cancellation
      // Signed zeros: exact sums, and the mode's sign of a zero sum.
      const signBit = isSingle ? 0x80000000n : 1n << 63n;
      if (i % 11 === 3) b = random() & signBit;
      if (i % 13 === 5) a = random() & signBit;
      for (const rc of [0, 1, 2, 3]) {
        const id = encodeSse(op, isSingle);
        const mxcsr = 0x1f80 | (rc << 13);
        // Expected: kernel.sse alone, on a state block of its own.
        const expectedView = new DataView(new ArrayBuffer(STATE_MXCSR + 4));
        expectedView.setUint32(STATE_MXCSR, mxcsr, true);
        const expected = executeSse(expectedView, id, BigInt.asIntN(64, a), BigInt.asIntN(64, b));
        const expectedFlags = expectedView.getUint32(STATE_MXCSR, true) & 0x3f;
        view.setUint32(STATE_MXCSR, mxcsr, true);
        const before = kernelCalls();
        const value = isSingle
          ? runSingle(id, asSingle(a), asSingle(b))
          : runDouble(id, asDouble(a), asDouble(b));
        const flags = view.getUint32(STATE_MXCSR, true) & 0x3f;
        if (bitsOf(value, isSingle) !== expected || flags !== expectedFlags) {
          mismatches.push(
            `op ${op} single ${isSingle} rc ${rc} ${a.toString(16)} ${b.toString(16)}`,
          );
        }
        cases++;
        // A sum with one zero addend (and an ordinary other one) is exact and never leaves wasm.
        const zeros = [a, b].filter((x) => (x & ~signBit) === 0n).length;
        const sum = op === SSE_OP.ADD || op === SSE_OP.SUB;
        const other = (a & ~signBit) === 0n ? b : a;
        const bias = isSingle ? 127 : 1023;
        const exponent = Number((other & ~signBit) >> (isSingle ? 23n : 52n)) - bias;
        if (sum && zeros === 1 && Math.abs(exponent) < 100) {
          zeroAddends++;
          if (kernelCalls() !== before)
            mismatches.push(`zero addend ${a.toString(16)} ${b.toString(16)} left wasm`);
        }
      }
    }
    expect(zeroAddends).toBeGreaterThan(100);
    expect(cases).toBe(24000);
    expect(mismatches.slice(0, 10)).toEqual([]);
    // Most of them never left wasm (products, quotients and roots with a zero operand do).
    expect(kernelCalls()).toBeLessThan(cases / 4);
    expect(kernelCalls()).toBeGreaterThan(0);
  });
});
