// Packed float → int32 conversions with truncation (cvttps2dq, cvttpd2dq;
// SDM Vol. 2A): a lane that is NaN or out of the int32 range becomes the
// "integer indefinite" 0x80000000, where wasm's saturating truncation gives
// 0 for NaN and 0x7fffffff above the range. Run natively and lifted.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, Instruction, Register } from "iced-x86";
import { afterAll, describe, expect, it } from "vitest";
import { Assembler, bothAgree, data } from "./semantics-harness.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-sse-convert-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FLOATS = [
  [Number.NaN, 3e9, -3e9, 1.5],
  [-2147483648, 2147483520, -0.5, Number.POSITIVE_INFINITY],
  [Number.NEGATIVE_INFINITY, -2147483904, 2147483648, -7.9],
];
const DOUBLES = [
  [Number.NaN, 2147483647.9],
  [-2147483648.9, 2147483648],
  [-2147483649, 1e300],
];

describe("packed truncating conversions against the CPU", () => {
  it("cvttps2dq and cvttpd2dq give the integer indefinite for NaN and out-of-range lanes", async () => {
    const input = Buffer.alloc(FLOATS.length * 16 + DOUBLES.length * 16);
    FLOATS.flat().forEach((v, i) => input.writeFloatLE(v, i * 4));
    DOUBLES.flat().forEach((v, i) => input.writeDoubleLE(v, FLOATS.length * 16 + i * 8));
    const asm = new Assembler();
    let slot = 0;
    FLOATS.forEach((_, k) => {
      asm.emit(Instruction.createRegMem(Code.Cvttps2dq_xmm_xmmm128, Register.XMM0, data(k * 16)));
      asm.storeXmm(Register.XMM0, 16 * slot++);
    });
    DOUBLES.forEach((_, k) => {
      const at = data(FLOATS.length * 16 + k * 16);
      asm.emit(Instruction.createRegMem(Code.Cvttpd2dq_xmm_xmmm128, Register.XMM1, at));
      asm.storeXmm(Register.XMM1, 16 * slot++);
    });
    const output = await bothAgree(dir, asm.bytes(), input, 16 * slot, "sse-cvtt", () => false);
    // By hand: NaN, 3e9 and −3e9 are indefinite, 1.5 truncates to 1.
    expect([0, 1, 2, 3].map((i) => output.readInt32LE(i * 4))).toEqual([
      -2147483648, -2147483648, -2147483648, 1,
    ]);
  });
});
