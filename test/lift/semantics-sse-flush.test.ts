// MXCSR.FTZ (tiny results become zeros) and MXCSR.DAZ (denormal operands
// count as zeros), which -ffast-math programs set at start-up: arithmetic
// and conversions on tiny and denormal values, scalar and packed, in each
// combination of the two bits and with a directed rounding mode on top,
// natively and lifted. The results must agree, and in the directed modes,
// where kernel.sse answers every operation, the exception flags too (in
// round-to-nearest no flag is tracked: an operation on ordinary values
// stays wasm's).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, Instruction, type MemoryOperand, Register } from "iced-x86";
import { afterAll, describe, expect, it } from "vitest";
import { Assembler, bothAgree, data, out } from "./semantics-harness.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-sse-flush-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const { XMM0, XMM1 } = Register;
const FTZ = 0x8000;
const DAZ = 0x40;
const DOWN = 1 << 13;
const UP = 2 << 13;
const ZERO = 3 << 13;
const MODES = [FTZ, DAZ, FTZ | DAZ, FTZ | DAZ | UP, DAZ | DOWN, FTZ | ZERO].map((m) => 0x1f80 | m);

const double = (bits: bigint): number => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(bits);
  return b.readDoubleLE(0);
};
const MIN_NORMAL = 2 ** -1022;
const LARGEST_DENORMAL = double(0x000fffffffffffffn);

const DOUBLES: [number, number][] = [
  [2 ** -1000, 2 ** -30], // an exact tiny product: flushed by FTZ all the same
  [2 ** -1000, 1.5 * 2 ** -30],
  [1 - 2 ** -53, MIN_NORMAL], // rounds up to the smallest normal, but tiny: flushed
  [1 - 2 ** -52, (1 + 2 ** -52) * MIN_NORMAL], // rounds to it and is not tiny: kept
  [LARGEST_DENORMAL, 1], // a denormal operand
  [2 ** -1000, 2 ** -1030], // a normal and a denormal: their exact sum is normal
  [1e-310, 1e-310],
  [-(2 ** -1030), 0], // a denormal divided by zero raises ZE, not DE
  [MIN_NORMAL, 2], // a quotient just below the smallest normal
  [1, 3], // ordinary values
];
const FLOATS: [number, number][] = [
  [2 ** -100, 2 ** -30],
  [1e-40, 1],
  [2 ** -120, 2 ** -130],
  [2 ** -126, 3],
  [1, 3],
];

describe("MXCSR.FTZ and MXCSR.DAZ", () => {
  it("flush tiny results and denormal operands of arithmetic and conversions as the CPU does", async () => {
    const modes = Buffer.alloc(16 * 2);
    MODES.forEach((m, i) => modes.writeUInt32LE(m, i * 4));
    const pairBuffer = (
      pairs: [number, number][],
      size: number,
      write: (b: Buffer, x: number, at: number) => void,
    ): Buffer => {
      // Each pair as a 16-byte vector x, y, x, y (or x, y for doubles).
      const b = Buffer.alloc(pairs.length * 16);
      pairs.forEach(([x, y], k) => {
        for (let lane = 0; lane < 16 / size; lane++)
          write(b, lane % 2 ? y : x, k * 16 + lane * size);
      });
      return b;
    };
    const doubles = pairBuffer(DOUBLES, 8, (b, x, at) => b.writeDoubleLE(x, at));
    const floats = pairBuffer(FLOATS, 4, (b, x, at) => b.writeFloatLE(x, at));
    const input = Buffer.concat([modes, doubles, floats]);
    const doubleAt = (k: number): MemoryOperand => data(32 + k * 16);
    const floatAt = (k: number): MemoryOperand => data(32 + doubles.length + k * 16);
    const forms: [Code, "d" | "s"][] = [
      [Code.Addsd_xmm_xmmm64, "d"],
      [Code.Subsd_xmm_xmmm64, "d"],
      [Code.Mulsd_xmm_xmmm64, "d"],
      [Code.Divsd_xmm_xmmm64, "d"],
      [Code.Sqrtsd_xmm_xmmm64, "d"],
      [Code.Mulpd_xmm_xmmm128, "d"],
      [Code.Addpd_xmm_xmmm128, "d"],
      [Code.Haddpd_xmm_xmmm128, "d"],
      [Code.Cvtsd2ss_xmm_xmmm64, "d"],
      [Code.Cvtpd2ps_xmm_xmmm128, "d"],
      [Code.Addss_xmm_xmmm32, "s"],
      [Code.Mulss_xmm_xmmm32, "s"],
      [Code.Divss_xmm_xmmm32, "s"],
      [Code.Mulps_xmm_xmmm128, "s"],
      [Code.Subps_xmm_xmmm128, "s"],
    ];
    const asm = new Assembler();
    const slots: string[] = [];
    MODES.forEach((mode, i) => {
      for (const [code, width] of forms) {
        const pairs = width === "d" ? DOUBLES : FLOATS;
        pairs.forEach(([x, y], k) => {
          const operand = (): MemoryOperand => (width === "d" ? doubleAt(k) : floatAt(k));
          // Flags cleared, the mode set; x op y in lane 0 (and x, y swapped in lane 1).
          asm.emit(Instruction.createMem(Code.Ldmxcsr_m32, data(i * 4)));
          asm.emit(Instruction.createRegMem(Code.Movdqu_xmm_xmmm128, XMM0, operand()));
          const swap = width === "d" ? 0x4e : 0xb1;
          asm.emit(
            Instruction.createRegMemU32(Code.Pshufd_xmm_xmmm128_imm8, XMM1, operand(), swap),
          );
          asm.emit(Instruction.createRegReg(code, XMM0, XMM1));
          asm.storeXmm(XMM0, 16 * slots.length);
          slots.push(`${Code[code]} ${x} ${y} mode ${mode.toString(16)}`);
          if ((mode & ZERO) !== 0) {
            asm.emit(Instruction.createMem(Code.Stmxcsr_m32, out(16 * slots.length)));
            slots.push(`${Code[code]} ${x} ${y} mode ${mode.toString(16)} MXCSR`);
          }
          asm.endBlock();
        });
      }
    });
    const output = await bothAgree(
      dir,
      asm.bytes(),
      input,
      16 * slots.length,
      "sse-flush",
      () => false,
      (word) => slots[Math.floor(word / 2)] ?? `word ${word}`,
    );
    // By hand: with FTZ alone, 2^-1000 · 2^-30 is +0, exact as it is; with
    // FTZ rounding toward zero, UE and PE are raised too.
    const mulsd = forms.findIndex(([c]) => c === Code.Mulsd_xmm_xmmm64);
    const at = (label: string): number => 16 * slots.indexOf(label);
    const product = `Mulsd_xmm_xmmm64 ${2 ** -1000} ${2 ** -30}`;
    expect(mulsd).toBeGreaterThan(0);
    expect(output.readDoubleLE(at(`${product} mode 9f80`))).toBe(0);
    expect(output.readUInt32LE(at(`${product} mode ff80 MXCSR`)) & 0x3f).toBe(0x30);
  });
});
