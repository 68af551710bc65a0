// div/idiv of every size including 128-by-64 (SDM Vol. 2A "DIV", "IDIV"),
// #DE on a zero divisor or a quotient overflow (native: SIGFPE; lifted: a
// trap naming #DE), crc32 (CRC-32C), psadbw and other SSE2 integer forms,
// cvttpd2dq's integer indefinite, enter, segment register reads, and the
// instructions that fault at CPL 3 — native and lifted compared throughout.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, Instruction, MemoryOperand, Register } from "iced-x86";
import { afterAll, describe, expect, it } from "vitest";
import {
  Assembler,
  bothAgree,
  out,
  programElf,
  runLiftedElf,
  runNativeElf,
} from "./semantics-harness.js";
import { xorshift64 } from "../helpers/xorshift.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-divide-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DIVISORS = {
  8: { div: Code.Div_rm8, idiv: Code.Idiv_rm8, reg: Register.CL },
  16: { div: Code.Div_rm16, idiv: Code.Idiv_rm16, reg: Register.CX },
  32: { div: Code.Div_rm32, idiv: Code.Idiv_rm32, reg: Register.ECX },
  64: { div: Code.Div_rm64, idiv: Code.Idiv_rm64, reg: Register.RCX },
} as const;

/** [bits, signed, rdx, rax, divisor]: none of these faults. */
const DIVISIONS: readonly (readonly [8 | 16 | 32 | 64, boolean, bigint, bigint, bigint])[] = [
  [8, false, 0n, 0x1234n, 0x7fn],
  [8, true, 0n, 0xff85n, 0x07n], // AX = −123
  [8, true, 0n, 0x0080n, 0xffn], // 128 / −1 = −128 fits
  [16, false, 0x12n, 0x3456n, 0x100n],
  [16, true, 0xffffn, 0x8000n, 0x0003n],
  [32, false, 0x7n, 0x89abcdefn, 0x12345678n],
  [32, true, 0xffffffffn, 0x80000000n, 0x2n],
  [32, true, 0xffffffffn, 0x80000000n, 0xfffffffen],
  [64, false, 0n, 0xfedcba9876543210n, 0x1234n],
  [64, false, 0x1234n, 0x56789abcdef01234n, 0x100000000000n],
  [64, false, 0xfffffffffffffffen, 0xffffffffffffffffn, 0xffffffffffffffffn],
  [64, false, 0x7fffffffffffffffn, 0x1n, 0x8000000000000000n],
  [64, true, -1n, -7n, 2n],
  [64, true, -1n, 0x8000000000000000n, 1n], // −2^63 / 1
  [64, true, -1n, 0n, 2n], // −2^64 / 2 = −2^63: the slow path's limit
  [64, true, 0x3fffffffffffffffn, 0x1234n, 0x7fffffffffffffffn],
  [64, true, -0x4000000000000000n, 0x1234n, 0x7fffffffffffffffn],
  [64, true, 0x12n, 0x3456n, -0x100n],
  [64, true, -0x12n, 0x3456n, -0x100n],
];

/** Divisions that raise #DE: [bits, signed, rdx, rax, divisor]. */
const FAULTS: readonly (readonly [8 | 16 | 32 | 64, boolean, bigint, bigint, bigint])[] = [
  [8, false, 0n, 0x100n, 0n],
  [8, false, 0n, 0x1000n, 2n],
  [32, true, 0xffffffffn, 0x80000000n, 0xffffffffn],
  [64, false, 0n, 5n, 0n],
  [64, false, 7n, 0n, 7n],
  [64, true, -1n, 0x8000000000000000n, -1n],
  [64, true, 0n, 0x8000000000000000n, 1n], // +2^63 does not fit
  [64, true, -2n, 0n, 2n], // −2^65 / 2
];

function division(
  asm: Assembler,
  [bits, signed, rdx, rax, divisor]: (typeof DIVISIONS)[number],
): void {
  const d = DIVISORS[bits];
  asm.movImm(Register.RDX, rdx).movImm(Register.RAX, rax).movImm(Register.RCX, divisor);
  asm.emit(Instruction.createReg(signed ? d.idiv : d.div, d.reg));
}

describe("div and idiv", () => {
  it("every size, signed and unsigned, 128-bit dividends, register and memory divisors", async () => {
    const asm = new Assembler();
    let slot = 0;
    for (const c of DIVISIONS) {
      division(asm, c);
      asm
        .storeGpr(Register.RAX, slot++ * 8)
        .storeGpr(Register.RDX, slot++ * 8)
        .endBlock();
      // The same division with the divisor in memory.
      const [bits, signed, rdx, rax, divisor] = c;
      asm.movImm(Register.RDX, rdx).movImm(Register.RAX, rax).movImm(Register.RCX, divisor);
      asm.storeGpr(Register.RCX, 0x8000);
      const code = {
        8: [Code.Div_rm8, Code.Idiv_rm8],
        16: [Code.Div_rm16, Code.Idiv_rm16],
        32: [Code.Div_rm32, Code.Idiv_rm32],
        64: [Code.Div_rm64, Code.Idiv_rm64],
      }[bits][signed ? 1 : 0] as Code;
      asm.emit(Instruction.createMem(code, out(0x8000)));
      asm
        .storeGpr(Register.RAX, slot++ * 8)
        .storeGpr(Register.RDX, slot++ * 8)
        .endBlock();
    }
    const result = await bothAgree(
      dir,
      asm.bytes(),
      new Uint8Array(16),
      0x8008,
      "div",
      () => false,
    );
    // By hand: 0x1234 / 0x7f = 0x24 rem 0x58 → AX = 0x5824 (AH remainder, AL quotient).
    expect(result.readBigUInt64LE(0) & 0xffffn).toBe(0x5824n);
    // −2^64 / 2 = −2^63, remainder 0.
    expect(result.readBigUInt64LE(14 * 32)).toBe(0x8000000000000000n);
  });

  it("128-by-64 unsigned and signed division on random dividends and divisors of every width", async () => {
    const random = xorshift64(0x853c49e6748fea9bn);
    // Divisors of every bit length (every normalisation shift), dividends
    // with rdx below the divisor; then the cases that make Algorithm D's
    // digit estimates too large by one or two.
    const cases: (readonly [boolean, bigint, bigint, bigint])[] = [];
    for (let i = 0; i < 256; i++) {
      const width = BigInt(1 + (i % 64));
      const divisor = (random() >> (64n - width)) | (1n << (width - 1n));
      const rdx = random() % divisor;
      cases.push([false, rdx, random(), divisor]);
    }
    const M = (1n << 64n) - 1n;
    cases.push(
      [false, 0x7fffffffffffffffn, M, 0x8000000000000000n],
      [false, 0x8000000000000000n, 0n, 0x8000000000000001n],
      [false, 0xfffffffe00000000n, M, 0xffffffff00000001n],
      [false, 0x00000000ffffffffn, 0xfffffffe00000000n, 0x0000000100000001n],
      [false, 0x7fffffff00000000n, 0n, 0x800000000000ffffn],
      [false, 1n, 0n, 3n],
      [true, -1n, 0x8000000000000001n, 0x7fffffffffffffffn],
      [true, 0x3fffffffn, 0x123456789abcdefn, -0x100000001n],
    );
    const asm = new Assembler();
    cases.forEach(([signed, rdx, rax, divisor], k) => {
      asm.movImm(Register.RDX, rdx).movImm(Register.RAX, rax).movImm(Register.RCX, divisor);
      asm.emit(Instruction.createReg(signed ? Code.Idiv_rm64 : Code.Div_rm64, Register.RCX));
      asm
        .storeGpr(Register.RAX, k * 16)
        .storeGpr(Register.RDX, k * 16 + 8)
        .endBlock();
    });
    const result = await bothAgree(
      dir,
      asm.bytes(),
      new Uint8Array(16),
      cases.length * 16,
      "div128",
      () => false,
    );
    // By hand against BigInt, so a CPU and lifter that agreed wrongly fail too.
    cases.forEach(([signed, rdx, rax, divisor], k) => {
      if (signed) return;
      const dividend = (BigInt.asUintN(64, rdx) << 64n) | BigInt.asUintN(64, rax);
      expect(result.readBigUInt64LE(k * 16)).toBe(dividend / divisor);
      expect(result.readBigUInt64LE(k * 16 + 8)).toBe(dividend % divisor);
    });
  });

  for (const [k, c] of FAULTS.entries()) {
    const [bits, signed, rdx, rax, divisor] = c;
    it(`#DE: ${signed ? "idiv" : "div"}${bits} of 0x${BigInt.asUintN(128, (rdx << BigInt(bits)) | rax).toString(16)} by ${divisor}`, async () => {
      const asm = new Assembler();
      division(asm, c);
      const elf = programElf(asm.bytes(), new Uint8Array(16), 8);
      expect(runNativeElf(elf, dir, `de-${k}`).signal).toBe("SIGFPE");
      const lifted = await runLiftedElf(elf, dir);
      expect(lifted.status).not.toBe(0);
      expect(lifted.stderr).toContain("divide error (#DE");
    });
  }
});

describe("crc32, SSE2 integer forms, enter and segment registers", () => {
  it("crc32 of every source size", async () => {
    const asm = new Assembler();
    let slot = 0;
    const forms = [
      [Code.Crc32_r32_rm8, Register.EAX, Register.BL],
      [Code.Crc32_r32_rm16, Register.EAX, Register.BX],
      [Code.Crc32_r32_rm32, Register.EAX, Register.EBX],
      [Code.Crc32_r64_rm8, Register.RAX, Register.BL],
      [Code.Crc32_r64_rm64, Register.RAX, Register.RBX],
    ] as const;
    for (const [code, dst, src] of forms)
      for (const [crc, value] of [
        [0n, 0n],
        [0xffffffffn, 0x31n],
        [0xdeadbeef12345678n, 0x0123456789abcdefn],
        [0x1n, -1n],
      ] as const) {
        asm.movImm(Register.RAX, crc).movImm(Register.RBX, value);
        asm.emit(Instruction.createRegReg(code, dst, src));
        asm.storeGpr(Register.RAX, slot++ * 8).endBlock();
      }
    // The check value of CRC-32C: "123456789" with pre- and post-inversion → E3069283H.
    asm.movImm(Register.RAX, 0xffffffffn);
    for (const byte of Buffer.from("123456789")) {
      asm.movImm(Register.RBX, BigInt(byte));
      asm.emit(Instruction.createRegReg(Code.Crc32_r32_rm8, Register.EAX, Register.BL));
    }
    asm.emit(Instruction.createReg(Code.Not_rm32, Register.EAX));
    asm.storeGpr(Register.RAX, slot * 8);
    const result = await bothAgree(
      dir,
      asm.bytes(),
      new Uint8Array(16),
      (slot + 1) * 8,
      "crc32",
      () => false,
    );
    expect(result.readBigUInt64LE(slot * 8)).toBe(0xe3069283n);
  });

  it("psadbw, saturating adds, pmaddwd, pabs, pextrw/pinsrw, cvttpd2dq, movnti", async () => {
    const input = new Uint8Array(96);
    input.forEach((_, i) => (input[i] = (i * 73 + 29) & 0xff));
    const f = new DataView(input.buffer);
    [1.9, -2.5, Number.NaN, 3e9, -2147483648.9, -2147483649].forEach((x, i) =>
      f.setFloat64(48 + i * 8, x, true),
    );
    const asm = new Assembler();
    let slot = 0;
    const rr = [
      Code.Psadbw_xmm_xmmm128,
      Code.Paddsb_xmm_xmmm128,
      Code.Paddsw_xmm_xmmm128,
      Code.Paddusw_xmm_xmmm128,
      Code.Psubsb_xmm_xmmm128,
      Code.Psubsw_xmm_xmmm128,
      Code.Psubusw_xmm_xmmm128,
      Code.Pmaddwd_xmm_xmmm128,
      Code.Pabsb_xmm_xmmm128,
      Code.Pabsw_xmm_xmmm128,
      Code.Pabsd_xmm_xmmm128,
    ];
    for (const code of rr) {
      asm.loadXmm(Register.XMM1, 0).loadXmm(Register.XMM2, 16);
      asm.emit(Instruction.createRegReg(code, Register.XMM1, Register.XMM2));
      asm.storeXmm(Register.XMM1, slot * 16).endBlock();
      slot++;
    }
    for (const offset of [48, 64, 80]) {
      asm.loadXmm(Register.XMM2, offset);
      asm.emit(Instruction.createRegReg(Code.Cvttpd2dq_xmm_xmmm128, Register.XMM1, Register.XMM2));
      asm.storeXmm(Register.XMM1, slot++ * 16).endBlock();
    }
    asm.loadXmm(Register.XMM1, 0).movImm(Register.RAX, -1n);
    asm.emit(
      Instruction.createRegRegU32(Code.Pextrw_r32_xmm_imm8, Register.EAX, Register.XMM1, 13),
    );
    asm.storeGpr(Register.RAX, slot++ * 16);
    asm.movImm(Register.RAX, 0xabcdn);
    asm.emit(
      Instruction.createRegRegU32(Code.Pinsrw_xmm_r32m16_imm8, Register.XMM1, Register.EAX, 6),
    );
    asm.storeXmm(Register.XMM1, slot++ * 16);
    asm.movImm(Register.RAX, 0x1122334455667788n);
    asm.emit(Instruction.createMemReg(Code.Movnti_m64_r64, out(slot++ * 16), Register.RAX));
    await bothAgree(dir, asm.bytes(), input, slot * 16, "sse-arith", () => false);
  });

  it("enter with nesting levels 0, 1 and 3; segment register reads; rdssp leaves its operand", async () => {
    const asm = new Assembler();
    let slot = 0;
    for (const [size, level] of [
      [0x20, 0],
      [0x10, 1],
      [0x8, 3],
    ] as const) {
      // An old frame at OUT + 0x800 whose saved frame pointers are recognisable.
      for (let k = 1; k <= 3; k++) {
        asm.movImm(Register.RAX, BigInt(0x1000 + k)).storeGpr(Register.RAX, 0x800 - 8 * k);
      }
      asm
        .movImm(Register.RBP, 0x700800n)
        .emit(Instruction.createRegReg(Code.Mov_r64_rm64, Register.R8, Register.RSP));
      asm.emit(Instruction.createU32U32(Code.Enterq_imm16_imm8, size, level));
      for (const reg of [Register.RSP, Register.RBP]) {
        asm.emit(Instruction.createRegReg(Code.Mov_r64_rm64, Register.RAX, reg));
        asm.emit(Instruction.createRegReg(Code.Sub_r64_rm64, Register.RAX, Register.R8));
        asm.storeGpr(Register.RAX, slot++ * 8);
      }
      // The copied frame pointers, then the new frame's own (stack-relative).
      for (let k = 1; k <= level; k++) {
        const slotBelow = MemoryOperand.createBaseDispl(Register.RBP, BigInt(-8 * k));
        asm.emit(Instruction.createRegMem(Code.Mov_r64_rm64, Register.RAX, slotBelow));
        if (k === level)
          asm.emit(Instruction.createRegReg(Code.Sub_r64_rm64, Register.RAX, Register.R8));
        asm.storeGpr(Register.RAX, slot++ * 8);
      }
      asm.emit(Instruction.create(Code.Leaveq));
      asm.emit(Instruction.createRegReg(Code.Mov_r64_rm64, Register.RSP, Register.R8)).endBlock();
    }
    for (const sreg of [Register.CS, Register.SS, Register.DS, Register.ES]) {
      asm
        .movImm(Register.RAX, -1n)
        .emit(Instruction.createRegReg(Code.Mov_r32m16_Sreg, Register.EAX, sreg));
      asm.storeGpr(Register.RAX, slot++ * 8);
    }
    asm.movImm(Register.RAX, 0n).emit(Instruction.createReg(Code.Rdsspq_r64, Register.RAX));
    asm.storeGpr(Register.RAX, slot++ * 8);
    await bothAgree(dir, asm.bytes(), new Uint8Array(16), 0x800, "enter", () => false);
  });

  it("cli, port I/O and xtest stop with the fault the CPU model gives", async () => {
    for (const [code, fault, signal] of [
      [Code.Cli, "#GP", "SIGSEGV"],
      [Code.In_AL_DX, "#GP", "SIGSEGV"],
      [Code.Xtest, "#UD", undefined],
    ] as const) {
      const asm = new Assembler().emit(
        code === Code.In_AL_DX
          ? Instruction.createRegReg(code, Register.AL, Register.DX)
          : Instruction.create(code),
      );
      const elf = programElf(asm.bytes(), new Uint8Array(16), 8);
      if (signal !== undefined) expect(runNativeElf(elf, dir, `fault-${code}`).signal).toBe(signal);
      const lifted = await runLiftedElf(elf, dir);
      expect(lifted.status).not.toBe(0);
      expect(lifted.stderr).toContain(fault);
    }
  });
});
