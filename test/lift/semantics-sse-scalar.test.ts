// Scalar SSE arithmetic (addsd, mulsd, cvtsd2ss, movsd reg←reg …) writes
// lane 0 and keeps the rest of the register; the lifter keeps each result in
// its own f64/f32 local as well, and later scalar reads in the block take
// that local (RegisterLocals.setXmmLow). These sequences chain scalar
// operations, then change the register by other means (a shuffle, a load, a
// packed operation, a width change) and read lane 0 again: any stale use of
// the kept value shows up against the CPU.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, Instruction, Register } from "iced-x86";
import { afterAll, describe, expect, it } from "vitest";
import { Assembler, bothAgree, data, out } from "./semantics-harness.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-sse-scalar-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const { XMM0, XMM1, XMM2, XMM3 } = Register;

/**
 * Inputs: eight doubles at DATA (lane 1 of each pair is a marker the scalar
 * forms must keep), then a signaling NaN as a double and as a float.
 */
function input(): Uint8Array {
  const values = [1.5, -1234.5, 3.25, 99.125, -0.75, 7e300, 2.0, Number.NaN];
  const bytes = new Uint8Array(values.length * 8 + 16);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat64(i * 8, v, true));
  view.setBigUint64(64, 0x7ff0000000000001n, true);
  view.setUint32(72, 0x7f800001, true);
  return bytes;
}

const rr = (code: Code, a: Register, b: Register): Instruction =>
  Instruction.createRegReg(code, a, b);

describe("scalar SSE results kept in their own locals", () => {
  it("chained sd/ss arithmetic, then a shuffle, a load, a packed op and a width change", async () => {
    const asm = new Assembler();
    asm.loadXmm(XMM0, 0).loadXmm(XMM1, 16).loadXmm(XMM2, 32).loadXmm(XMM3, 48);
    asm.emit(
      rr(Code.Mulsd_xmm_xmmm64, XMM0, XMM0), // lane 0 = 2.25, lane 1 kept
      rr(Code.Addsd_xmm_xmmm64, XMM0, XMM1), // reads the kept product
      rr(Code.Subsd_xmm_xmmm64, XMM1, XMM0), // XMM1's own chain
      rr(Code.Divsd_xmm_xmmm64, XMM0, XMM1),
      rr(Code.Movsd_xmm_xmmm64, XMM2, XMM0), // reg←reg: merges into XMM2
      rr(Code.Sqrtsd_xmm_xmmm64, XMM3, XMM2),
    );
    asm.storeXmm(XMM0, 0).storeXmm(XMM1, 16).storeXmm(XMM2, 32).storeXmm(XMM3, 48);
    // A shuffle swaps XMM0's lanes: lane 0 is now the marker, not the kept sum.
    asm.emit(Instruction.createRegRegU32(Code.Shufpd_xmm_xmmm128_imm8, XMM0, XMM0, 1));
    asm.emit(rr(Code.Addsd_xmm_xmmm64, XMM0, XMM1)).storeXmm(XMM0, 64);
    // A packed operation rewrites both lanes of XMM1 after a scalar write.
    asm.emit(rr(Code.Mulsd_xmm_xmmm64, XMM1, XMM1), rr(Code.Addpd_xmm_xmmm128, XMM1, XMM2));
    asm.emit(rr(Code.Subsd_xmm_xmmm64, XMM1, XMM3)).storeXmm(XMM1, 80);
    // A load replaces XMM3 after a scalar write.
    asm.emit(rr(Code.Addsd_xmm_xmmm64, XMM3, XMM3));
    asm.emit(Instruction.createRegMem(Code.Movsd_xmm_xmmm64, XMM3, data(8)));
    asm.emit(rr(Code.Mulsd_xmm_xmmm64, XMM3, XMM2)).storeXmm(XMM3, 96);
    // Single precision into a register that was last written as a double,
    // then read back as a double: lane 0 as f64 now holds the f32 bits.
    asm.emit(rr(Code.Cvtsd2ss_xmm_xmmm64, XMM2, XMM0), rr(Code.Addss_xmm_xmmm32, XMM2, XMM2));
    asm.storeXmm(XMM2, 112);
    asm.emit(rr(Code.Addsd_xmm_xmmm64, XMM2, XMM0)).storeXmm(XMM2, 128);
    // ucomisd and cvttsd2si read a kept value; the block ends between some steps.
    asm.emit(rr(Code.Mulsd_xmm_xmmm64, XMM0, XMM0), rr(Code.Ucomisd_xmm_xmmm64, XMM0, XMM1));
    asm.storeFlags(144);
    asm.emit(rr(Code.Cvttsd2si_r64_xmmm64, Register.RAX, XMM0)).storeGpr(Register.RAX, 152);
    asm.endBlock();
    asm.emit(rr(Code.Addsd_xmm_xmmm64, XMM0, XMM0)).storeXmm(XMM0, 160);
    // movsd/movss stores keep a signaling NaN's bits, from a load and from a kept value.
    asm.emit(Instruction.createRegMem(Code.Movsd_xmm_xmmm64, XMM0, data(64)));
    asm.emit(Instruction.createMemReg(Code.Movsd_xmmm64_xmm, out(176), XMM0));
    asm.emit(rr(Code.Movsd_xmm_xmmm64, XMM2, XMM0));
    asm.emit(Instruction.createMemReg(Code.Movsd_xmmm64_xmm, out(184), XMM2));
    asm.emit(Instruction.createRegMem(Code.Movss_xmm_xmmm32, XMM1, data(72)));
    asm.emit(rr(Code.Movss_xmm_xmmm32, XMM3, XMM1));
    asm.emit(Instruction.createMemReg(Code.Movss_xmmm32_xmm, out(192), XMM3));
    const output = await bothAgree(dir, asm.bytes(), input(), 200, "sse-scalar", (i) => i === 18);
    // By hand: lane 1 of XMM0 after the chain is still the marker -1234.5.
    expect(output.readDoubleLE(8)).toBe(-1234.5);
    expect(output.readDoubleLE(0)).toBeCloseTo(
      (1.5 * 1.5 + 3.25) / (3.25 - (1.5 * 1.5 + 3.25)),
      12,
    );
    expect(output.readBigUInt64LE(184)).toBe(0x7ff0000000000001n);
    expect(output.readUInt32LE(192)).toBe(0x7f800001);
  });

  it("cvtsd2si and cvtss2si round as MXCSR.RC says", async () => {
    const values = [2.5, -2.5, 3.5, 1.7, -1.7, 0.5, -0.5, 1e10 + 0.5];
    const input = Buffer.alloc(16 + values.length * 12);
    [0, 1, 2, 3].forEach((rc) => input.writeUInt16LE(0x1f80 | (rc << 13), rc * 4));
    values.forEach((v, i) => {
      input.writeDoubleLE(v, 16 + i * 8);
      input.writeFloatLE(v, 16 + values.length * 8 + i * 4);
    });
    const asm = new Assembler();
    let slot = 0;
    for (let rc = 0; rc < 4; rc++) {
      asm.emit(Instruction.createMem(Code.Ldmxcsr_m32, data(rc * 4)));
      values.forEach((_, i) => {
        const double = data(16 + i * 8);
        const float = data(16 + values.length * 8 + i * 4);
        asm.emit(Instruction.createRegMem(Code.Cvtsd2si_r64_xmmm64, Register.RAX, double));
        asm.storeGpr(Register.RAX, 8 * slot++);
        asm.emit(Instruction.createRegMem(Code.Cvtss2si_r64_xmmm32, Register.RAX, float));
        asm.storeGpr(Register.RAX, 8 * slot++);
      });
    }
    const output = await bothAgree(dir, asm.bytes(), input, 8 * slot, "sse-rc", () => false);
    // By hand: 2.5 → 2 to nearest even, 2 down, 3 up, 2 toward zero; −1.7 → −2, −2, −1, −1.
    const at = (rc: number, value: number): bigint =>
      output.readBigInt64LE(8 * (rc * values.length * 2 + value * 2));
    expect([0, 1, 2, 3].map((rc) => at(rc, 0))).toEqual([2n, 2n, 3n, 2n]);
    expect([0, 1, 2, 3].map((rc) => at(rc, 4))).toEqual([-2n, -2n, -1n, -1n]);
  });
});
