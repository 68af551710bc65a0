// Rounding to an integral value under each MXCSR.RC mode: roundsd, roundss,
// roundpd and roundps with imm8 bit 2 set (the mode comes from MXCSR) and
// with each explicit mode, and cvtpd2dq/cvtps2dq, which round as MXCSR
// says — natively and lifted, after ldmxcsr sets each of the four modes.
// glibc's floor, ceil, rint and nearbyint are roundsd on a CPU with
// SSE4.1, which the CPU model advertises.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, Instruction, type MemoryOperand, Register } from "iced-x86";
import { afterAll, describe, expect, it } from "vitest";
import { Assembler, bothAgree, data } from "./semantics-harness.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-sse-rounding-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const { XMM0, XMM1 } = Register;
/** Halves (ties), fractions either side of them, ±0, a NaN and values out of int32 range. */
const VALUES = [
  2.5,
  -2.5,
  3.5,
  1.7,
  -1.7,
  0.5,
  -0.5,
  -0,
  1e10 + 0.5,
  Number.NaN,
  2147483647.5,
  -3e9,
];
/** The rounding imm8 values: MXCSR (4, and 12 with #P masked), then nearest, down, up, toward zero. */
const CONTROLS = [4, 12, 0, 1, 2, 3];

/** MXCSR images for RC = 0–3 at 0, then VALUES as doubles, then as floats (16-byte aligned). */
function input(): Buffer {
  const doubles = 16;
  const floats = doubles + Math.ceil(VALUES.length / 2) * 16;
  const b = Buffer.alloc(floats + Math.ceil(VALUES.length / 4) * 16);
  [0, 1, 2, 3].forEach((rc) => b.writeUInt32LE(0x1f80 | (rc << 13), rc * 4));
  VALUES.forEach((v, i) => {
    b.writeDoubleLE(v, doubles + i * 8);
    b.writeFloatLE(v, floats + i * 4);
  });
  return b;
}

describe("rounding to an integral value in every MXCSR.RC mode", () => {
  it("round{sd,ss,pd,ps} and cvt{pd,ps}2dq agree with the CPU", async () => {
    const doubles = 16;
    const floats = doubles + Math.ceil(VALUES.length / 2) * 16;
    const asm = new Assembler();
    let slot = 0;
    const store = (): void => {
      asm.storeXmm(XMM0, 16 * slot++);
    };
    const rounding = [
      Code.Roundsd_xmm_xmmm64_imm8,
      Code.Roundss_xmm_xmmm32_imm8,
      Code.Roundpd_xmm_xmmm128_imm8,
      Code.Roundps_xmm_xmmm128_imm8,
    ];
    for (let rc = 0; rc < 4; rc++) {
      asm.emit(Instruction.createMem(Code.Ldmxcsr_m32, data(rc * 4)));
      for (let pair = 0; pair < VALUES.length / 2; pair++) {
        // iced takes ownership of a MemoryOperand: a new one for each use.
        const double = (): MemoryOperand => data(doubles + pair * 16);
        const float = (): MemoryOperand =>
          data(floats + (pair % Math.ceil(VALUES.length / 4)) * 16);
        for (const code of rounding) {
          const isDouble = code === rounding[0] || code === rounding[2];
          for (const control of CONTROLS) {
            // The destination's other lanes hold a marker the scalar forms keep.
            asm.loadXmm(XMM0, 0);
            asm.emit(
              Instruction.createRegMemU32(code, XMM0, isDouble ? double() : float(), control),
            );
            store();
            // The register source as well.
            asm.loadXmm(XMM1, isDouble ? doubles + pair * 16 : floats);
            asm.loadXmm(XMM0, 0);
            asm.emit(Instruction.createRegRegU32(code, XMM0, XMM1, control));
            store();
          }
        }
        asm.emit(Instruction.createRegMem(Code.Cvtpd2dq_xmm_xmmm128, XMM0, double()));
        store();
        asm.emit(Instruction.createRegMem(Code.Cvtps2dq_xmm_xmmm128, XMM0, float()));
        store();
      }
    }
    const output = await bothAgree(
      dir,
      asm.bytes(),
      input(),
      16 * slot,
      "sse-rounding",
      () => false,
    );
    // By hand: roundsd of 2.5 with imm8 4 gives 2 to nearest even, 2 down, 3 up, 2 toward zero.
    const perMode = slot / 4;
    const roundsd = (rc: number): number => output.readDoubleLE(16 * rc * perMode);
    expect([0, 1, 2, 3].map(roundsd)).toEqual([2, 2, 3, 2]);
  });
});
