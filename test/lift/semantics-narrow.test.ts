// Operand sizes below 64 bits against the CPU: the lifter runs 32-bit
// arithmetic, shifts, comparisons and address sums as i32 operations
// (emit/wasm.ts arith, emit/flags.ts fused32, FunctionContext.pointer), so
// each sweep checks the zero-extension of 32-bit writes (SDM Vol. 1
// §3.4.1.1), the flags, every condition read straight after the operation,
// and addresses that wrap modulo 2^32.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, Instruction, MemoryOperand, Register } from "iced-x86";
import { afterAll, describe, it } from "vitest";
import { Assembler, bothAgree, DATA, out, SETCC } from "./semantics-harness.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-narrow-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Upper halves set, so a 32-bit write that fails to clear them shows. */
const VALUES = [
  0xdead_beef_0000_0000n,
  0xdead_beef_0000_0001n,
  0x1111_2222_7fff_ffffn,
  0x3333_4444_8000_0000n,
  0x5555_6666_ffff_ffffn,
  0x7777_8888_8000_7f80n,
  0x0000_0000_1234_5678n,
];

/** Register-register forms by size: RAX op= RCX. AF after logic ops is undefined: not compared. */
const BINARY = [
  { name: "add", logic: false, codes: [Code.Add_rm8_r8, Code.Add_rm16_r16, Code.Add_rm32_r32] },
  { name: "sub", logic: false, codes: [Code.Sub_rm8_r8, Code.Sub_rm16_r16, Code.Sub_rm32_r32] },
  { name: "adc", logic: false, codes: [Code.Adc_rm8_r8, Code.Adc_rm16_r16, Code.Adc_rm32_r32] },
  { name: "sbb", logic: false, codes: [Code.Sbb_rm8_r8, Code.Sbb_rm16_r16, Code.Sbb_rm32_r32] },
  { name: "cmp", logic: false, codes: [Code.Cmp_rm8_r8, Code.Cmp_rm16_r16, Code.Cmp_rm32_r32] },
  { name: "and", logic: true, codes: [Code.And_rm8_r8, Code.And_rm16_r16, Code.And_rm32_r32] },
  { name: "or", logic: true, codes: [Code.Or_rm8_r8, Code.Or_rm16_r16, Code.Or_rm32_r32] },
  { name: "xor", logic: true, codes: [Code.Xor_rm8_r8, Code.Xor_rm16_r16, Code.Xor_rm32_r32] },
  { name: "test", logic: true, codes: [Code.Test_rm8_r8, Code.Test_rm16_r16, Code.Test_rm32_r32] },
];
const REGS = [
  [Register.AL, Register.CL],
  [Register.AX, Register.CX],
  [Register.EAX, Register.ECX],
];

const UNARY = [
  { name: "inc", code: Code.Inc_rm32 },
  { name: "dec", code: Code.Dec_rm32 },
  { name: "neg", code: Code.Neg_rm32 },
  { name: "not", code: Code.Not_rm32 },
];

/** Slot: RAX (8 bytes), EFLAGS (8), then one byte per condition code (16). */
const SLOT = 32;
const flagWord = (i: number): boolean => i % 4 === 1;
/** With AF cleared from the comparison for logic ops (SDM: undefined). */
const NO_AF = ~0x10;

describe("narrow operands against the CPU", () => {
  it("add, sub, adc, sbb, cmp, and, or, xor, test of 8, 16 and 32 bits, every condition", async () => {
    const asm = new Assembler();
    const labels: string[] = [];
    let slot = 0;
    for (const op of BINARY) {
      op.codes.forEach((code, k) => {
        const [dst, src] = REGS[k] as [Register, Register];
        for (const a of VALUES) {
          for (const b of [VALUES[0], VALUES[2], VALUES[3], VALUES[4], a] as bigint[]) {
            for (const carry of op.name === "adc" || op.name === "sbb" ? [0, 1] : [0]) {
              asm
                .setFlags(0x202 | carry)
                .movImm(Register.RAX, a)
                .movImm(Register.RCX, b);
              asm.emit(Instruction.createRegReg(code, dst, src));
              SETCC.forEach((set, c) =>
                asm.emit(Instruction.createMem(set, out(slot * SLOT + 16 + c))),
              );
              asm.storeGpr(Register.RAX, slot * SLOT).storeFlags(slot * SLOT + 8);
              if (op.logic) {
                // and qword [r15 + flags], ~AF
                asm.emit(
                  Instruction.createMemI32(Code.And_rm64_imm32, out(slot * SLOT + 8), NO_AF),
                );
              }
              asm.endBlock();
              labels[slot] =
                `${op.name} ${Register[dst]} 0x${a.toString(16)}, 0x${b.toString(16)} cf ${carry}`;
              slot++;
            }
          }
        }
      });
    }
    await bothAgree(
      dir,
      asm.bytes(),
      new Uint8Array(8),
      slot * SLOT,
      "narrow-binary",
      flagWord,
      (i) => `${labels[Math.floor(i / 4)]} ${["rax", "flags", "setcc 0-7", "setcc 8-15"][i % 4]}`,
    );
  });

  it("inc, dec, neg, not and 32-bit shifts by CL", async () => {
    const asm = new Assembler();
    const labels: string[] = [];
    let slot = 0;
    const shifts = [
      { name: "shl", code: Code.Shl_rm32_CL },
      { name: "shr", code: Code.Shr_rm32_CL },
      { name: "sar", code: Code.Sar_rm32_CL },
    ];
    for (const a of VALUES) {
      for (const op of UNARY) {
        asm.setFlags(0x203).movImm(Register.RAX, a);
        asm.emit(Instruction.createReg(op.code, Register.EAX));
        // Conditions that read ZF and SF only (not reads no flags, inc/dec keep CF).
        for (const [c, set] of [
          Code.Sete_rm8,
          Code.Setne_rm8,
          Code.Sets_rm8,
          Code.Setg_rm8,
        ].entries())
          asm.emit(Instruction.createMem(set, out(slot * SLOT + 16 + c)));
        asm.storeGpr(Register.RAX, slot * SLOT).endBlock();
        labels[slot++] = `${op.name} 0x${a.toString(16)}`;
      }
      for (const op of shifts) {
        for (const count of [0, 1, 4, 31, 32, 33]) {
          asm.setFlags(0x202).movImm(Register.RAX, a).movImm(Register.RCX, BigInt(count));
          asm.emit(Instruction.createRegReg(op.code, Register.EAX, Register.CL));
          for (const [c, set] of [Code.Sete_rm8, Code.Sets_rm8, Code.Setb_rm8].entries())
            asm.emit(Instruction.createMem(set, out(slot * SLOT + 16 + c)));
          asm.storeGpr(Register.RAX, slot * SLOT).endBlock();
          labels[slot++] = `${op.name} 0x${a.toString(16)} by ${count}`;
        }
      }
    }
    await bothAgree(
      dir,
      asm.bytes(),
      new Uint8Array(8),
      slot * SLOT,
      "narrow-unary",
      () => false,
      (i) => `${labels[Math.floor(i / 4)]} word ${i % 4}`,
    );
  });

  it("32-bit lea and addresses whose register sum wraps below a displacement", async () => {
    // Input: 16 bytes at DATA. [rcx + DATA + 8] with rcx = -8 reads DATA + 0: a
    // negative index plus a table address, summed modulo 2^64 (= 2^32 here).
    const input = Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i);
    const asm = new Assembler();
    let slot = 0;
    const cases: [bigint, number][] = [
      [-8n, DATA + 8],
      [-1n, DATA + 1],
      [3n, DATA],
    ];
    for (const [index, displacement] of cases) {
      asm.movImm(Register.RCX, index).movImm(Register.RAX, -1n);
      asm.emit(
        Instruction.createRegMem(
          Code.Mov_r32_rm32,
          Register.EAX,
          new MemoryOperand(
            Register.None,
            Register.RCX,
            1,
            BigInt(displacement),
            4,
            false,
            Register.None,
          ),
        ),
      );
      asm.storeGpr(Register.RAX, slot++ * 8);
      // lea edx, [rcx*4 + 0x7ffffff0]: the 32-bit destination keeps the low half.
      asm.movImm(Register.RDX, -1n);
      asm.emit(
        Instruction.createRegMem(
          Code.Lea_r32_m,
          Register.EDX,
          new MemoryOperand(Register.None, Register.RCX, 4, 0x7ffffff0n, 4, false, Register.None),
        ),
      );
      asm.storeGpr(Register.RDX, slot++ * 8).endBlock();
    }
    await bothAgree(dir, asm.bytes(), input, slot * 8, "narrow-address", () => false);
  });
});
