// rcl/rcr (every size, count 1 / CL / imm8, counts 0, masked and modulo
// 9/17 — SDM Vol. 2B "RCL/RCR/ROL/ROR"), the flag-control instructions
// clc/stc/cmc/lahf/sahf/pushfq/popfq (SDM Vol. 1 §7.3.13), xlatb and
// cmpxchg/cmpxchg8b/cmpxchg16b: each sweep runs natively and lifted and the
// two outputs (results and EFLAGS) must be equal.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, Instruction, MemoryOperand, Register } from "iced-x86";
import { afterAll, describe, expect, it } from "vitest";
import { Assembler, bothAgree, out } from "./semantics-harness.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-rotate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every arithmetic flag set, or none: a rotate by 0 must leave either as it was. */
const FLAG_PATTERNS = [0x202 | 0x8d5, 0x202];

type Form = "one" | "cl" | "imm" | "mem";
const SIZES = [
  {
    reg: Register.AL,
    codes: { one: Code.Rcl_rm8_1, cl: Code.Rcl_rm8_CL, imm: Code.Rcl_rm8_imm8 },
    rcr: { one: Code.Rcr_rm8_1, cl: Code.Rcr_rm8_CL, imm: Code.Rcr_rm8_imm8 },
  },
  {
    reg: Register.AX,
    codes: { one: Code.Rcl_rm16_1, cl: Code.Rcl_rm16_CL, imm: Code.Rcl_rm16_imm8 },
    rcr: { one: Code.Rcr_rm16_1, cl: Code.Rcr_rm16_CL, imm: Code.Rcr_rm16_imm8 },
  },
  {
    reg: Register.EAX,
    codes: { one: Code.Rcl_rm32_1, cl: Code.Rcl_rm32_CL, imm: Code.Rcl_rm32_imm8 },
    rcr: { one: Code.Rcr_rm32_1, cl: Code.Rcr_rm32_CL, imm: Code.Rcr_rm32_imm8 },
  },
  {
    reg: Register.RAX,
    codes: { one: Code.Rcl_rm64_1, cl: Code.Rcl_rm64_CL, imm: Code.Rcl_rm64_imm8 },
    rcr: { one: Code.Rcr_rm64_1, cl: Code.Rcr_rm64_CL, imm: Code.Rcr_rm64_imm8 },
  },
];
const VALUES = [0x8000000000000001n, 0x123456789abcdef0n, 0x4000000000000080n];
const COUNTS = [0, 1, 2, 8, 9, 16, 17, 18, 31, 32, 33, 63, 64, 255];

describe("rcl and rcr against the CPU", () => {
  for (const left of [true, false]) {
    it(`${left ? "rcl" : "rcr"}: every size, count form and flag pattern`, async () => {
      const asm = new Assembler();
      let slot = 0;
      const labels: string[] = [];
      for (const size of SIZES) {
        const codes = left ? size.codes : size.rcr;
        for (const form of ["one", "cl", "imm", "mem"] as Form[]) {
          for (const count of form === "one" ? [1] : COUNTS) {
            for (const value of VALUES) {
              for (const pattern of FLAG_PATTERNS) {
                asm
                  .setFlags(pattern)
                  .movImm(Register.RAX, value)
                  .movImm(Register.RCX, BigInt(count));
                if (form === "one") asm.emit(Instruction.createRegU32(codes.one, size.reg, 1));
                else if (form === "cl")
                  asm.emit(Instruction.createRegReg(codes.cl, size.reg, Register.CL));
                else if (form === "imm")
                  asm.emit(Instruction.createRegU32(codes.imm, size.reg, count));
                else {
                  // The memory form: rotate [R15 + slot*16] in place, then read it back.
                  asm.storeGpr(Register.RAX, slot * 16);
                  asm.emit(Instruction.createMemReg(codes.cl, out(slot * 16), Register.CL));
                  asm.emit(
                    Instruction.createRegMem(Code.Mov_r64_rm64, Register.RAX, out(slot * 16)),
                  );
                }
                asm
                  .storeGpr(Register.RAX, slot * 16)
                  .storeFlags(slot * 16 + 8)
                  .endBlock();
                labels[slot] =
                  `${Register[size.reg]} ${form} count ${count} of 0x${value.toString(16)} flags 0x${pattern.toString(16)}`;
                slot++;
              }
            }
          }
        }
      }
      const result = await bothAgree(
        dir,
        asm.bytes(),
        new Uint8Array(16),
        slot * 16,
        left ? "rcl" : "rcr",
        (i) => i % 2 === 1,
        (i) => `${labels[i >> 1]} ${i % 2 ? "flags" : "value"}`,
      );
      expect(result.length).toBe(slot * 16);
    });
  }
});

describe("shifts and rotates by zero", () => {
  it("leave flags alone but still zero-extend a 32-bit register", async () => {
    const asm = new Assembler();
    let slot = 0;
    const byImm = [
      Code.Shl_rm32_imm8,
      Code.Shr_rm32_imm8,
      Code.Sar_rm32_imm8,
      Code.Rol_rm32_imm8,
      Code.Ror_rm32_imm8,
      Code.Rcl_rm32_imm8,
      Code.Rcr_rm32_imm8,
    ];
    const byCl = [
      Code.Shl_rm32_CL,
      Code.Shr_rm32_CL,
      Code.Sar_rm32_CL,
      Code.Rol_rm32_CL,
      Code.Ror_rm32_CL,
      Code.Rcl_rm32_CL,
      Code.Rcr_rm32_CL,
    ];
    for (const pattern of FLAG_PATTERNS) {
      for (const [k, code] of [...byImm, ...byCl].entries()) {
        asm.setFlags(pattern).movImm(Register.RAX, 0xdeadbeef80000001n).movImm(Register.RCX, 0x40n);
        asm.emit(
          k < byImm.length
            ? Instruction.createRegU32(code, Register.EAX, 0)
            : Instruction.createRegReg(code, Register.EAX, Register.CL),
        );
        asm
          .storeGpr(Register.RAX, slot * 16)
          .storeFlags(slot * 16 + 8)
          .endBlock();
        slot++;
      }
    }
    await bothAgree(
      dir,
      asm.bytes(),
      new Uint8Array(16),
      slot * 16,
      "zero-count",
      (i) => i % 2 === 1,
    );
  });
});

describe("flag control, xlatb and compare-exchange against the CPU", () => {
  it("clc/stc/cmc/lahf/sahf/pushfq/popfq", async () => {
    const asm = new Assembler();
    let slot = 0;
    const keep = (): void => {
      asm
        .storeGpr(Register.RAX, slot * 16)
        .storeFlags(slot * 16 + 8)
        .endBlock();
      slot++;
    };
    for (const pattern of [0x202, 0x202 | 0x8d5, 0x202 | 0x41, 0x202 | 0x884, 0x202 | 0x400]) {
      for (const code of [Code.Clc, Code.Stc, Code.Cmc]) {
        asm.setFlags(pattern).emit(Instruction.create(code));
        keep();
      }
      // lahf: AH = SF:ZF:0:AF:0:PF:1:CF; the rest of RAX is kept.
      asm
        .setFlags(pattern)
        .movImm(Register.RAX, 0x1122334455667788n)
        .emit(Instruction.create(Code.Lahf));
      keep();
      // sahf from every interesting AH, with OF set or clear beforehand.
      for (const ah of [0x00, 0xff, 0xd5, 0x2a, 0x41]) {
        asm
          .setFlags(pattern)
          .movImm(Register.RAX, BigInt(ah << 8))
          .emit(Instruction.create(Code.Sahf));
        keep();
      }
      // cld after a popfq that set DF: DF must be cleared again.
      asm.setFlags(pattern).emit(Instruction.create(Code.Cld));
      keep();
    }
    await bothAgree(dir, asm.bytes(), new Uint8Array(16), slot * 16, "flags", (i) => i % 2 === 1);
  });

  it("xlatb, cmpxchg (RAX untouched on success), cmpxchg8b and cmpxchg16b", async () => {
    const input = new Uint8Array(256);
    input.forEach((_, i) => (input[i] = (i * 37 + 11) & 0xff));
    const asm = new Assembler();
    let slot = 0;
    const flagSlots = new Set<number>();
    const keep = (...regs: Register[]): void => {
      for (const r of regs) asm.storeGpr(r, slot++ * 8);
      flagSlots.add(slot);
      asm.storeFlags(slot++ * 8).endBlock();
    };
    // xlatb: AL = [RBX + AL]; the rest of RAX stays.
    for (const al of [0n, 5n, 0x80n, 0xffn]) {
      asm
        .movImm(Register.RBX, 0x600000n)
        .movImm(Register.RAX, 0xaabbccddeeff0000n | al)
        .emit(
          Instruction.createMem(
            Code.Xlat_m8,
            MemoryOperand.createBaseIndex(Register.RBX, Register.AL),
          ),
        );
      keep(Register.RAX);
    }
    // cmpxchg r/m32 with RAX's upper half set: equal and unequal.
    for (const expected of [0x11223344n, 0x55667788n]) {
      asm.movImm(Register.RDX, 0x11223344n).storeGpr(Register.RDX, 0x800);
      asm.movImm(Register.RAX, 0xdeadbeef00000000n | expected).movImm(Register.RCX, 0x99n);
      asm.emit(Instruction.createMemReg(Code.Cmpxchg_rm32_r32, out(0x800), Register.ECX));
      asm.emit(Instruction.createRegMem(Code.Mov_r64_rm64, Register.RSI, out(0x800)));
      keep(Register.RAX, Register.RSI);
    }
    // cmpxchg8b / cmpxchg16b: success stores RCX:RBX, failure loads RDX:RAX; only ZF changes.
    for (const [code, width] of [
      [Code.Cmpxchg8b_m64, 4],
      [Code.Cmpxchg16b_m128, 8],
    ] as const) {
      for (const match of [true, false]) {
        const lo = 0x0123456789abcdefn,
          hi = 0xfedcba9876543210n;
        asm
          .movImm(Register.RSI, lo)
          .storeGpr(Register.RSI, 0x900)
          .movImm(Register.RSI, hi)
          .storeGpr(Register.RSI, 0x908);
        const mask = (1n << BigInt(width * 8)) - 1n;
        const wantLo =
          width === 4
            ? (lo & mask) | (match ? 0n : 1n) | 0x7700000000000000n
            : lo ^ (match ? 0n : 1n);
        const wantHi = width === 4 ? (lo >> 32n) | 0x6600000000000000n : hi;
        asm.setFlags(0x202 | 0x8d5);
        asm.movImm(Register.RAX, wantLo).movImm(Register.RDX, wantHi);
        asm.movImm(Register.RBX, 0x1111111122222222n).movImm(Register.RCX, 0x3333333344444444n);
        asm.emit(Instruction.createMem(code, out(0x900)));
        asm.emit(Instruction.createRegMem(Code.Mov_r64_rm64, Register.RSI, out(0x900)));
        asm.emit(Instruction.createRegMem(Code.Mov_r64_rm64, Register.RDI, out(0x908)));
        keep(Register.RAX, Register.RDX, Register.RSI, Register.RDI);
      }
    }
    await bothAgree(dir, asm.bytes(), input, 0x1000, "cmpxchg", (i) => flagSlots.has(i));
  });
});
