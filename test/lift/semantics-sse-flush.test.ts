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

/**
 * Runs the test natively and lifted: 16-byte slot i of the output is
 * labelled slots[i]; words in `flagWords` hold EFLAGS.
 */
function agree(
  asm: Assembler,
  input: Buffer,
  slots: readonly string[],
  name: string,
  flagWords: ReadonlySet<number> = new Set(),
): Promise<Buffer> {
  return bothAgree(
    dir,
    asm.bytes(),
    input,
    16 * slots.length,
    name,
    (word) => flagWords.has(word),
    (word) => slots[Math.floor(word / 2)] ?? `word ${word}`,
  );
}

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
    const output = await agree(asm, input, slots, "sse-flush");
    // By hand: with FTZ alone, 2^-1000 · 2^-30 is +0, exact as it is; with
    // FTZ rounding toward zero, UE and PE are raised too.
    const mulsd = forms.findIndex(([c]) => c === Code.Mulsd_xmm_xmmm64);
    const at = (label: string): number => 16 * slots.indexOf(label);
    const product = `Mulsd_xmm_xmmm64 ${2 ** -1000} ${2 ** -30}`;
    expect(mulsd).toBeGreaterThan(0);
    expect(output.readDoubleLE(at(`${product} mode 9f80`))).toBe(0);
    expect(output.readUInt32LE(at(`${product} mode ff80 MXCSR`)) & 0x3f).toBe(0x30);
  });

  it("make comparisons, min/max, cvtss2sd and conversions to integers read denormals as zeros with DAZ", async () => {
    const modes = Buffer.alloc(16);
    const used = [DAZ, DAZ | UP, FTZ | UP, DAZ | ZERO].map((m) => 0x1f80 | m);
    used.forEach((m, i) => modes.writeUInt32LE(m, i * 4));
    const vector = (size: 4 | 8, values: number[]): Buffer => {
      const b = Buffer.alloc(16);
      values.forEach((x, i) => (size === 8 ? b.writeDoubleLE(x, i * 8) : b.writeFloatLE(x, i * 4)));
      return b;
    };
    // Each: x, y (doubles) or x, y, x, y (floats), and y, x in the other operand.
    const doubles = [
      [LARGEST_DENORMAL, 0],
      [-1e-310, 0],
      [1e-310, 2e-310],
      [1e-310, 1],
    ];
    const floats = [
      [1e-40, 0],
      [-1e-41, 1e-45],
      [1e-40, 1],
    ];
    const input = Buffer.concat([
      modes,
      ...doubles.flatMap(([x = 0, y = 0]) => [vector(8, [x, y]), vector(8, [y, x])]),
      ...floats.flatMap(([x = 0, y = 0]) => [vector(4, [x, y, x, y]), vector(4, [y, x, y, x])]),
    ]);
    const operand = (width: "d" | "s", k: number, swapped: boolean): MemoryOperand =>
      data(16 + (width === "d" ? 0 : doubles.length * 32) + k * 32 + (swapped ? 16 : 0));
    const { RAX } = Register;
    /** [form, width, what it writes: an XMM register, a GPR, or EFLAGS] */
    const forms: [Code, "d" | "s", "xmm" | "gpr" | "flags", number?][] = [
      [Code.Ucomisd_xmm_xmmm64, "d", "flags"],
      [Code.Comiss_xmm_xmmm32, "s", "flags"],
      [Code.Cmpsd_xmm_xmmm64_imm8, "d", "xmm", 1], // LT
      [Code.Cmpss_xmm_xmmm32_imm8, "s", "xmm", 0], // EQ
      [Code.Cmppd_xmm_xmmm128_imm8, "d", "xmm", 2], // LE
      [Code.Cmpps_xmm_xmmm128_imm8, "s", "xmm", 4], // NEQ
      [Code.Minsd_xmm_xmmm64, "d", "xmm"],
      [Code.Maxpd_xmm_xmmm128, "d", "xmm"],
      [Code.Minps_xmm_xmmm128, "s", "xmm"],
      [Code.Cvtss2sd_xmm_xmmm32, "s", "xmm"],
      [Code.Cvtps2pd_xmm_xmmm64, "s", "xmm"],
      [Code.Cvtsd2si_r64_xmmm64, "d", "gpr"],
      [Code.Cvttss2si_r64_xmmm32, "s", "gpr"],
      [Code.Cvtpd2dq_xmm_xmmm128, "d", "xmm"],
      [Code.Cvtps2dq_xmm_xmmm128, "s", "xmm"],
      [Code.Roundsd_xmm_xmmm64_imm8, "d", "xmm", 2], // up
      [Code.Roundps_xmm_xmmm128_imm8, "s", "xmm", 4], // as MXCSR.RC says
    ];
    const asm = new Assembler();
    const slots: string[] = [];
    const flagWords = new Set<number>();
    used.forEach((mode, i) => {
      for (const [code, width, writes, imm] of forms) {
        const count = width === "d" ? doubles.length : floats.length;
        for (let k = 0; k < count; k++) {
          asm.emit(Instruction.createMem(Code.Ldmxcsr_m32, data(i * 4)));
          asm.emit(
            Instruction.createRegMem(Code.Movdqu_xmm_xmmm128, XMM0, operand(width, k, false)),
          );
          asm.emit(
            Instruction.createRegMem(Code.Movdqu_xmm_xmmm128, XMM1, operand(width, k, true)),
          );
          const label = `${Code[code]} ${width} pair ${k} mode ${mode.toString(16)}`;
          if (writes === "gpr") {
            asm.movImm(RAX, 0x5555n);
            asm.emit(Instruction.createRegReg(code, RAX, XMM0));
            asm.storeGpr(RAX, 16 * slots.length);
          } else if (imm !== undefined) {
            asm.emit(Instruction.createRegRegU32(code, XMM0, XMM1, imm));
          } else {
            asm.emit(Instruction.createRegReg(code, XMM0, XMM1));
          }
          if (writes === "flags") {
            asm.setFlags(0);
            asm.emit(Instruction.createRegReg(code, XMM0, XMM1));
            asm.storeFlags(16 * slots.length);
            flagWords.add(2 * slots.length);
          } else if (writes === "xmm") {
            asm.storeXmm(XMM0, 16 * slots.length);
          }
          slots.push(label);
          asm.endBlock();
        }
      }
    });
    const output = await agree(asm, input, slots, "sse-daz", flagWords);
    // By hand: with DAZ, ucomisd finds the largest denormal equal to 0 (ZF).
    expect(output.readUInt32LE(0) & 0x40).toBe(0x40);
  });

  it("computes as the CPU does in the flush flavour, a function called with FTZ and DAZ set", async () => {
    // The arithmetic is in functions of its own, called after the caller set
    // MXCSR: they do not write MXCSR, so they get a fast version, a checked
    // twin and a flush flavour, and FTZ|DAZ (nearest) runs the flush flavour.
    // FTZ|DAZ rounding up runs the checked twin, as a cross-check.
    const used = [FTZ | DAZ, FTZ | DAZ | UP].map((m) => 0x1f80 | m);
    const modes = Buffer.alloc(16);
    used.forEach((m, i) => modes.writeUInt32LE(m, i * 4));
    const pairs: [number, number][] = [
      ...DOUBLES,
      [2 ** -1000, -(2 ** -1000 + 2 ** -1052)], // a difference just below the smallest normal
      [2 ** -970, 1e-310], // a normal just above the sum limit, and a denormal
      [2 ** -968, -(2 ** -969)],
      [1e300, 1e-310], // a denormal times a huge value: DAZ decides the product
      [0, 5e-324],
    ];
    const vectors = pairs.map(([x, y]) => {
      const b = Buffer.alloc(32);
      b.writeDoubleLE(x, 0);
      b.writeDoubleLE(y, 8);
      b.writeFloatLE(Math.fround(x * 2 ** 900) || x, 16); // singles: doubles scaled into their range
      b.writeFloatLE(Math.fround(y * 2 ** 900) || y, 20);
      b.writeFloatLE(Math.fround(x), 24);
      b.writeFloatLE(Math.fround(y), 28);
      return b;
    });
    const input = Buffer.concat([modes, ...vectors]);
    const forms: Code[] = [
      Code.Addsd_xmm_xmmm64,
      Code.Subsd_xmm_xmmm64,
      Code.Mulsd_xmm_xmmm64,
      Code.Divsd_xmm_xmmm64,
      Code.Sqrtsd_xmm_xmmm64,
      Code.Addpd_xmm_xmmm128,
      Code.Mulpd_xmm_xmmm128,
      Code.Divpd_xmm_xmmm128,
      Code.Cvtsd2ss_xmm_xmmm64,
      Code.Cvtpd2ps_xmm_xmmm128,
      Code.Mulss_xmm_xmmm32,
      Code.Addps_xmm_xmmm128,
      Code.Divps_xmm_xmmm128,
      Code.Ucomisd_xmm_xmmm64,
      Code.Minpd_xmm_xmmm128,
      Code.Cvtss2sd_xmm_xmmm32,
    ];
    // The functions: `op xmm0, xmm1` (and for ucomisd, its flags into rax), ret.
    const functionBodies = forms.map((code) => {
      const f = new Assembler();
      f.emit(Instruction.createRegReg(code, XMM0, XMM1));
      if (code === Code.Ucomisd_xmm_xmmm64) f.raw([0x9c, 0x58]); // pushfq; pop rax
      f.raw([0xc3]);
      return f.bytes();
    });
    /** The caller, given each function's address relative to the caller's start. */
    const caller = (functionAt: (k: number) => number): { asm: Assembler; slots: string[] } => {
      const asm = new Assembler();
      const start = asm.here();
      const slots: string[] = [];
      used.forEach((mode, i) => {
        forms.forEach((code, k) => {
          vectors.forEach((_, v) => {
            asm.emit(Instruction.createMem(Code.Ldmxcsr_m32, data(i * 4)));
            asm.emit(Instruction.createRegMem(Code.Movdqu_xmm_xmmm128, XMM0, data(16 + v * 32)));
            asm.emit(
              Instruction.createRegMem(Code.Movdqu_xmm_xmmm128, XMM1, data(16 + v * 32 + 16)),
            );
            if (code === Code.Cvtss2sd_xmm_xmmm32 || code === Code.Mulss_xmm_xmmm32) {
              asm.emit(Instruction.createRegReg(Code.Movdqa_xmm_xmmm128, XMM0, XMM1));
              asm.emit(Instruction.createRegRegU32(Code.Pshufd_xmm_xmmm128_imm8, XMM1, XMM1, 0xb1));
            } else if (code === Code.Addps_xmm_xmmm128 || code === Code.Divps_xmm_xmmm128) {
              asm.emit(Instruction.createRegRegU32(Code.Pshufd_xmm_xmmm128_imm8, XMM0, XMM1, 0x44));
              asm.emit(Instruction.createRegRegU32(Code.Pshufd_xmm_xmmm128_imm8, XMM1, XMM1, 0x11));
            } else {
              asm.emit(Instruction.createRegRegU32(Code.Pshufd_xmm_xmmm128_imm8, XMM1, XMM0, 0x4e));
            }
            const target = start + functionAt(k);
            const rel = target - (asm.here() + 5);
            asm.raw([0xe8, ...[0, 8, 16, 24].map((b) => (rel >> b) & 0xff)]); // call rel32
            asm.storeXmm(XMM0, 16 * slots.length);
            if (code === Code.Ucomisd_xmm_xmmm64) asm.storeGpr(Register.RAX, 16 * slots.length + 8);
            slots.push(`${Code[code]} pair ${v} mode ${mode.toString(16)}`);
            asm.endBlock();
          });
        });
      });
      return { asm, slots };
    };
    // Two passes: the caller's length does not depend on the call targets.
    const length = caller(() => 0).asm.bytes().length;
    const jumpOver = 5;
    const offsets: number[] = [];
    let at = length + jumpOver;
    for (const body of functionBodies) {
      offsets.push(at);
      at += body.length;
    }
    const { asm, slots } = caller((k) => offsets[k] as number);
    const tail = at - (length + jumpOver);
    asm.raw([0xe9, ...[0, 8, 16, 24].map((b) => (tail >> b) & 0xff)]); // jmp over the functions
    for (const body of functionBodies) asm.raw([...body]);
    const output = await agree(
      asm,
      input,
      slots,
      "sse-flush-flavour",
      new Set(slots.flatMap((label, i) => (label.startsWith("Ucomisd") ? [2 * i + 1] : []))),
    );
    // By hand: 2^-1000 · 2^-30 is +0 (the first product in FTZ|DAZ).
    const product = slots.indexOf(`Mulsd_xmm_xmmm64 pair 0 mode ${used[0]?.toString(16)}`);
    expect(output.readDoubleLE(16 * product)).toBe(0);
  });
});
