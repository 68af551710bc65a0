// Rounding to an integral value under each MXCSR.RC mode: roundsd, roundss,
// roundpd and roundps with imm8 bit 2 set (the mode comes from MXCSR) and
// with each explicit mode, and cvtpd2dq/cvtps2dq, which round as MXCSR
// says — natively and lifted, after ldmxcsr sets each of the four modes.
// glibc's floor, ceil, rint and nearbyint are roundsd on a CPU with
// SSE4.1, which the CPU model advertises. Then arithmetic, horizontal and
// alternating sums, dot products and conversions to floats, which round as
// RC says through the kernel.sse hypercall.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, Instruction, type MemoryOperand, Register } from "iced-x86";
import { afterAll, describe, expect, it } from "vitest";
import { Assembler, bothAgree, data, out } from "./semantics-harness.js";

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

  it("arithmetic and conversions to floats round as MXCSR.RC says, scalar and packed", async () => {
    // 16-byte operands: doubles in the first four, floats in the next four, int32s/int64s last.
    const f64 = (...v: number[]): Buffer => {
      const b = Buffer.alloc(16);
      v.forEach((x, i) => b.writeDoubleLE(x, i * 8));
      return b;
    };
    const f32 = (...v: number[]): Buffer => {
      const b = Buffer.alloc(16);
      v.forEach((x, i) => b.writeFloatLE(x, i * 4));
      return b;
    };
    const ints = Buffer.alloc(16);
    ints.writeBigInt64LE((1n << 53n) + 1n, 0);
    ints.writeInt32LE(-16777217, 8);
    ints.writeInt32LE(2147483647, 12);
    const operands = [
      f64(1, -1e308),
      f64(3, 10),
      f64(0.1, 1e-200),
      f64(-0.2, 1e-200),
      f32(1, -3e38, 0.1, 1e-30),
      f32(3, 10, -0.2, 1e-20),
      f32(-7, 2, 3e38, 0.3),
      f32(0.1, 1e-45, 5, -1),
      ints,
    ];
    const mxcsr = Buffer.alloc(16);
    [0, 1, 2, 3].forEach((rc) => mxcsr.writeUInt32LE(0x1f80 | (rc << 13), rc * 4));
    const input = Buffer.concat([mxcsr, ...operands]);
    const at = (k: number): number => 16 + k * 16;
    const pairs: Record<"d" | "s", [number, number][]> = {
      d: [
        [0, 1],
        [2, 3],
        [3, 0],
        [1, 2],
      ],
      s: [
        [4, 5],
        [5, 6],
        [6, 7],
        [7, 4],
      ],
    };
    const forms: [Code, "d" | "s"][] = [
      [Code.Addsd_xmm_xmmm64, "d"],
      [Code.Subsd_xmm_xmmm64, "d"],
      [Code.Mulsd_xmm_xmmm64, "d"],
      [Code.Divsd_xmm_xmmm64, "d"],
      [Code.Sqrtsd_xmm_xmmm64, "d"],
      [Code.Addss_xmm_xmmm32, "s"],
      [Code.Mulss_xmm_xmmm32, "s"],
      [Code.Divss_xmm_xmmm32, "s"],
      [Code.Sqrtss_xmm_xmmm32, "s"],
      [Code.Addpd_xmm_xmmm128, "d"],
      [Code.Subpd_xmm_xmmm128, "d"],
      [Code.Mulpd_xmm_xmmm128, "d"],
      [Code.Divpd_xmm_xmmm128, "d"],
      [Code.Sqrtpd_xmm_xmmm128, "d"],
      [Code.Addps_xmm_xmmm128, "s"],
      [Code.Subps_xmm_xmmm128, "s"],
      [Code.Mulps_xmm_xmmm128, "s"],
      [Code.Divps_xmm_xmmm128, "s"],
      [Code.Sqrtps_xmm_xmmm128, "s"],
      [Code.Haddpd_xmm_xmmm128, "d"],
      [Code.Hsubps_xmm_xmmm128, "s"],
      [Code.Addsubpd_xmm_xmmm128, "d"],
      [Code.Addsubps_xmm_xmmm128, "s"],
      [Code.Cvtsd2ss_xmm_xmmm64, "d"],
      [Code.Cvtpd2ps_xmm_xmmm128, "d"],
    ];
    const asm = new Assembler();
    let slot = 0;
    for (let rc = 0; rc < 4; rc++) {
      asm.emit(Instruction.createMem(Code.Ldmxcsr_m32, data(rc * 4)));
      for (const [code, width] of forms) {
        for (const [x, y] of pairs[width]) {
          asm.loadXmm(XMM0, at(x)).loadXmm(XMM1, at(y));
          asm.emit(Instruction.createRegReg(code, XMM0, XMM1));
          asm.storeXmm(XMM0, 16 * slot++);
        }
      }
      for (const imm of [0xff, 0x31, 0xf3]) {
        for (const [code, width] of [
          [Code.Dpps_xmm_xmmm128_imm8, "s"],
          [Code.Dppd_xmm_xmmm128_imm8, "d"],
        ] as const) {
          const [x, y] = pairs[width][1] ?? [0, 0];
          asm.loadXmm(XMM0, at(x)).loadXmm(XMM1, at(y));
          asm.emit(Instruction.createRegRegU32(code, XMM0, XMM1, imm));
          asm.storeXmm(XMM0, 16 * slot++);
        }
      }
      asm.loadXmm(XMM1, at(8));
      for (const code of [
        Code.Cvtdq2ps_xmm_xmmm128,
        Code.Cvtsi2sd_xmm_rm64,
        Code.Cvtsi2ss_xmm_rm64,
        Code.Cvtsi2ss_xmm_rm32,
      ]) {
        asm.loadXmm(XMM0, at(0));
        if (code === Code.Cvtdq2ps_xmm_xmmm128)
          asm.emit(Instruction.createRegReg(code, XMM0, XMM1));
        else
          asm.emit(
            Instruction.createRegMem(
              code,
              XMM0,
              data(at(8) + (code === Code.Cvtsi2ss_xmm_rm32 ? 8 : 0)),
            ),
          );
        asm.storeXmm(XMM0, 16 * slot++);
      }
    }
    await bothAgree(dir, asm.bytes(), input, 16 * slot, "sse-directed", () => false);
  });

  it("sets the MXCSR exception flags an operation raises in a directed mode, as the CPU does", async () => {
    const pairs: [number, number][] = [
      [1, 3], // inexact
      [1, 2], // exact: no flag
      [1e308, 10], // overflow
      [1e-200, 1e-200], // underflow
      [1, 0], // divide by zero
      [0, 0], // invalid: the default NaN
      [Infinity, Infinity], // invalid for sub
      [-1, 4], // invalid for sqrt of the first
      [5e-324, 1], // denormal operand
    ];
    const input = Buffer.alloc(16 + pairs.length * 16);
    [0, 1, 2, 3].forEach((rc) => input.writeUInt32LE(0x1f80 | (rc << 13), rc * 4));
    pairs.forEach(([x, y], k) => {
      input.writeDoubleLE(x, 16 + k * 16);
      input.writeDoubleLE(y, 16 + k * 16 + 8);
    });
    const forms = [
      Code.Addsd_xmm_xmmm64,
      Code.Subsd_xmm_xmmm64,
      Code.Mulsd_xmm_xmmm64,
      Code.Divsd_xmm_xmmm64,
      Code.Sqrtsd_xmm_xmmm64,
      Code.Divpd_xmm_xmmm128,
      Code.Cvtsd2ss_xmm_xmmm64,
    ];
    const asm = new Assembler();
    let slot = 0;
    for (let rc = 1; rc < 4; rc++) {
      for (const code of forms) {
        for (let k = 0; k < pairs.length; k++) {
          // Flags cleared, the mode set; the operation; its result and MXCSR.
          asm.emit(Instruction.createMem(Code.Ldmxcsr_m32, data(rc * 4)));
          asm.emit(Instruction.createRegMem(Code.Movsd_xmm_xmmm64, XMM0, data(16 + k * 16)));
          asm.emit(Instruction.createRegMem(Code.Movsd_xmm_xmmm64, XMM1, data(16 + k * 16 + 8)));
          asm.emit(Instruction.createRegReg(Code.Unpcklpd_xmm_xmmm128, XMM1, XMM0));
          asm.emit(Instruction.createRegReg(code, XMM0, XMM1));
          asm.storeXmm(XMM0, 16 * slot);
          asm.emit(Instruction.createMem(Code.Stmxcsr_m32, out(16 * slot + 16)));
          slot += 2;
        }
      }
    }
    const output = await bothAgree(dir, asm.bytes(), input, 16 * slot, "sse-flags", () => false);
    // By hand: 1/3 rounding up raised only the precision flag (PE, bit 5).
    const divsd = forms.indexOf(Code.Divsd_xmm_xmmm64);
    expect(output.readUInt32LE(16 * 2 * divsd * pairs.length + 16) & 0x3f).toBe(0x20);
  });
});
