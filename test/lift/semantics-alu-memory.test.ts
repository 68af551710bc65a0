// Integer instructions with a memory operand, natively and lifted, in every
// operand size: the read-modify-write ones with a memory destination — add,
// or, adc, sbb, and, sub, xor, cmp, test, xchg, xadd, cmpxchg, inc, dec,
// neg, not, the shifts and rotates by 1, imm8 and CL, and the bit tests —
// and those that read a memory source: mul, imul (all three forms), div,
// idiv, movzx, movsx, movsxd. The memory operand, RAX, RDX and the flags
// the SDM defines for each must be equal (the program masks out the
// undefined ones).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, Instruction, MemoryOperand, Register } from "iced-x86";
import { afterAll, describe, it } from "vitest";
import { Assembler, bothAgree, out } from "./semantics-harness.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-alu-memory-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FORM =
  /^(Add|Or|Adc|Sbb|And|Sub|Xor|Cmp|Test|Xchg|Xadd|Cmpxchg|Inc|Dec|Neg|Not|Shl|Shr|Sar|Rol|Ror|Rcl|Rcr|Bt|Bts|Btr|Btc)_rm(8|16|32|64)(_(r8|r16|r32|r64|imm8|imm16|imm32|1|CL))?$/;

const CF = 0x1;
const PF = 0x4;
const AF = 0x10;
const ZF = 0x40;
const SF = 0x80;
const OF = 0x800;
const ALL = CF | PF | AF | ZF | SF | OF;

/** The flags the SDM defines after each mnemonic (the others are undefined). */
function definedFlags(mnemonic: string): number {
  if (["And", "Or", "Xor", "Test"].includes(mnemonic)) return ALL & ~AF;
  if (["Shl", "Shr", "Sar"].includes(mnemonic)) return ALL & ~(AF | OF);
  if (["Rol", "Ror", "Rcl", "Rcr"].includes(mnemonic)) return ALL & ~OF;
  if (mnemonic.startsWith("Bt")) return CF;
  return ALL;
}

/** (memory, register operand, carry in) triples; the register doubles as a bit offset. */
const VALUES: readonly [bigint, bigint, boolean][] = [
  [0x7fffffffffffffffn, 1n, false],
  [0x8000000000000000n, 0xffffffffffffffffn, true],
  [0x00000000000000ffn, 0x0000000000000081n, true],
  [0x123456789abcdef0n, 0x0fedcba987654321n, false],
  [0n, 0n, true],
];
/** Immediates, shift counts (CL and imm8), and bit offsets for the register bit tests. */
const IMM = [0x01n, 0x7fn, 0x80n, 0xffn, 0x8000n, 0x80000000n];
const COUNTS = [0n, 1n, 5n, 31n, 33n, 65n];
const BIT_OFFSETS = [3n, 70n, 0xfffffffffffffffbn];

const SLOT = 32;
const REG: Record<string, Register> = {
  r8: Register.DL,
  r16: Register.DX,
  r32: Register.EDX,
  r64: Register.RDX,
};

interface Case {
  readonly label: string;
  readonly ins: (memory: MemoryOperand) => Instruction;
  readonly memory: bigint;
  readonly rdx: bigint;
  readonly rcx: bigint;
  readonly carry: boolean;
  readonly flags: number;
  readonly rax: bigint;
}

/** iced's instruction codes whose names `form` matches, with the match. */
function codesMatching(form: RegExp): { name: string; code: Code; m: RegExpExecArray }[] {
  return Object.keys(Code).flatMap((name) => {
    const m = form.exec(name);
    return m === null ? [] : [{ name, code: Code[name as keyof typeof Code], m }];
  });
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const { name, code, m } of codesMatching(FORM)) {
    const [, mnemonic = "", , , second] = m;
    const flags = definedFlags(mnemonic);
    VALUES.forEach(([memory, value, carry], k) => {
      // cmpxchg compares RAX with the memory: equal for even k, not for odd.
      const rax = k % 2 === 0 ? memory : memory ^ 1n;
      const base = { memory, carry, flags, rax, rcx: 0n, rdx: value };
      if (second === undefined) {
        out.push({
          ...base,
          label: `${name} ${k}`,
          ins: (mem) => Instruction.createMem(code, mem),
        });
      } else if (second in REG) {
        const reg = REG[second] as Register;
        const offsets = mnemonic.startsWith("Bt") ? BIT_OFFSETS : [value];
        for (const rdx of offsets) {
          out.push({
            ...base,
            rdx,
            label: `${name} ${k} ${rdx}`,
            ins: (mem) => Instruction.createMemReg(code, mem, reg),
          });
        }
      } else if (second === "CL") {
        for (const rcx of COUNTS) {
          out.push({
            ...base,
            rcx,
            label: `${name} ${k} cl=${rcx}`,
            ins: (mem) => Instruction.createMemReg(code, mem, Register.CL),
          });
        }
      } else if (second === "1") {
        out.push({
          ...base,
          label: `${name} ${k}`,
          ins: (mem) => Instruction.createMemU32(code, mem, 1),
        });
      } else {
        const bits = second === "imm8" ? 8 : second === "imm16" ? 16 : 32;
        const shift = ["Shl", "Shr", "Sar", "Rol", "Ror", "Rcl", "Rcr"].includes(mnemonic);
        for (const imm of (shift ? COUNTS : IMM).filter((v) => v < 1n << BigInt(bits))) {
          // The encoder takes an immediate as the signed value of its width.
          const signed = Number(BigInt.asIntN(bits, imm));
          out.push({
            ...base,
            label: `${name} ${k} imm=${imm}`,
            ins: (mem) => Instruction.createMemI32(code, mem, signed),
          });
        }
      }
    });
  }
  return out;
}

/**
 * Runs every case (its memory operand in its own output slot, flags set
 * from `carry`), then records the memory, the defined flags, RAX and RDX.
 */
async function agree(list: readonly Case[], name: string): Promise<void> {
  const asm = new Assembler();
  list.forEach((c, i) => {
    const at = i * SLOT;
    asm.setFlags(c.carry ? 0x3 : 0x2);
    asm.movImm(Register.R8, c.memory);
    asm.emit(Instruction.createMemReg(Code.Mov_rm64_r64, out(at), Register.R8));
    asm.movImm(Register.RAX, c.rax).movImm(Register.RDX, c.rdx).movImm(Register.RCX, c.rcx);
    asm.emit(c.ins(out(at)));
    asm.emit(Instruction.create(Code.Pushfq), Instruction.createReg(Code.Pop_r64, Register.R9));
    asm.emit(Instruction.createRegI32(Code.And_rm64_imm32, Register.R9, c.flags));
    asm.storeGpr(Register.R9, at + 8).storeGpr(Register.RAX, at + 16);
    asm.storeGpr(Register.RDX, at + 24);
    asm.endBlock();
  });
  await bothAgree(
    dir,
    asm.bytes(),
    new Uint8Array(16),
    list.length * SLOT,
    name,
    () => false,
    (i) => `${list[Math.floor(i / 4)]?.label} ${["memory", "flags", "rax", "rdx"][i % 4]}`,
  );
}

describe("integer read-modify-write instructions on memory against the CPU", () => {
  it("every size and operand form, over sign, carry and overflow edges", async () => {
    await agree(cases(), "alu-memory");
  });

  it("mul, imul, div, idiv, movzx, movsx and movsxd with a memory source", async () => {
    await agree(sourceCases(), "mul-div-memory");
  });
});

const SOURCE_FORM =
  /^(Mul|Imul|Div|Idiv)_rm(8|16|32|64)$|^Imul_r(16|32|64)_rm(16|32|64)(_imm8|_imm16|_imm32)?$|^(Movzx|Movsx|Movsxd)_r(16|32|64)_rm(8|16|32)$/;
/** Memory operands: divisors that never fault, factors with and without overflow. */
const SOURCES = [7n, 0xfffffffffffffffdn, 1n, 0x80n, 0x7fffffffffffff81n];
/** Dividends (RDX:RAX) whose quotient fits for every divisor above, by operand size. */
const DIVIDENDS: Record<number, { div: [bigint, bigint]; idiv: [bigint, bigint] }> = {
  8: { div: [0x00f0n, 0n], idiv: [0xff9cn, 0n] },
  16: { div: [0xf000n, 0n], idiv: [0xff9cn, 0xffffn] },
  32: { div: [0xf0000000n, 0n], idiv: [0xffffff9cn, 0xffffffffn] },
  64: { div: [0xf000000000000000n, 0n], idiv: [-100n, -1n] },
};

function sourceCases(): Case[] {
  const list: Case[] = [];
  for (const { name, code } of codesMatching(SOURCE_FORM)) {
    const mnemonic = name.split("_")[0] ?? "";
    const size = Number(/_rm(\d+)/.exec(name)?.[1]);
    const destination = /_r(16|32|64)_/.exec(name)?.[1];
    const reg = destination === undefined ? undefined : REG[`r${destination}`];
    const imm = /_imm(8|16|32)$/.exec(name)?.[1];
    // Flags: mul and imul define CF and OF only, div and idiv none, the moves change none.
    const flags = mnemonic.endsWith("ul") ? CF | OF : mnemonic.endsWith("iv") ? 0 : ALL;
    SOURCES.forEach((memory, k) => {
      let [rax, rdx] = [0x0123456789abcdefn, 0xfedcba9876543210n];
      if (mnemonic === "Div" || mnemonic === "Idiv") {
        [rax, rdx] = DIVIDENDS[size]?.[mnemonic === "Div" ? "div" : "idiv"] ?? [0n, 0n];
      }
      const base = { memory, rax, rdx, rcx: 0n, carry: false, flags };
      const label = `${name} ${k}`;
      if (reg === undefined) {
        list.push({ ...base, label, ins: (mem) => Instruction.createMem(code, mem) });
      } else if (imm === undefined) {
        list.push({ ...base, label, ins: (mem) => Instruction.createRegMem(code, reg, mem) });
      } else {
        for (const value of [3, -2, 0x40]) {
          list.push({
            ...base,
            label: `${label} imm=${value}`,
            ins: (mem) => Instruction.createRegMemI32(code, reg, mem, value),
          });
        }
      }
    });
  }
  return list;
}
