// ucomisd/comisd/ucomiss/comiss set ZF, PF and CF (SDM Vol. 2A "UCOMISD"),
// and the lifter keeps them as one lazy record: a setcc or jcc that reads
// only those flags becomes one float comparison (flags.ts fusedFloat), and
// flags still needed after the block are computed one by one (floatFlag).
// Every condition code, fused and after a block end, against the CPU, over
// ordered, equal, signed-zero, infinite and NaN operand pairs.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, Instruction, MemoryOperand, Register } from "iced-x86";
import { afterAll, describe, expect, it } from "vitest";
import { Assembler, bothAgree, data, SETCC } from "./semantics-harness.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-fcmp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PAIRS: readonly (readonly [number, number])[] = [
  [1, 2],
  [2, 1],
  [1.5, 1.5],
  [0, -0],
  [Number.NaN, 1],
  [1, Number.NaN],
  [Number.NaN, Number.NaN],
  [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY],
  [-3, -2.5],
];
/** Per pair: a and b as doubles, then as floats. */
const RECORD = 32;

const VARIANTS = [
  { name: "ucomisd", code: Code.Ucomisd_xmm_xmmm64, load: Code.Movsd_xmm_xmmm64, a: 0, b: 8 },
  { name: "comisd", code: Code.Comisd_xmm_xmmm64, load: Code.Movsd_xmm_xmmm64, a: 0, b: 8 },
  { name: "ucomiss", code: Code.Ucomiss_xmm_xmmm32, load: Code.Movss_xmm_xmmm32, a: 16, b: 20 },
  { name: "comiss", code: Code.Comiss_xmm_xmmm32, load: Code.Movss_xmm_xmmm32, a: 16, b: 20 },
] as const;

/** Output per (pair, variant): the flags, 16 fused setcc bytes, 16 after a block end. */
const CASE_BYTES = 8 + 2 * SETCC.length;

function input(): Uint8Array {
  const bytes = Buffer.alloc(PAIRS.length * RECORD);
  PAIRS.forEach(([a, b], i) => {
    bytes.writeDoubleLE(a, i * RECORD);
    bytes.writeDoubleLE(b, i * RECORD + 8);
    bytes.writeFloatLE(a, i * RECORD + 16);
    bytes.writeFloatLE(b, i * RECORD + 20);
  });
  return bytes;
}

const byteOut = (offset: number): MemoryOperand =>
  MemoryOperand.createBaseDispl(Register.R15, BigInt(offset));

function program(): Uint8Array {
  const asm = new Assembler();
  let offset = 0;
  const setAll = (): void => {
    for (const code of SETCC) {
      asm.emit(Instruction.createReg(code, Register.AL));
      asm.emit(Instruction.createMemReg(Code.Mov_rm8_r8, byteOut(offset++), Register.AL));
    }
  };
  PAIRS.forEach((_, p) => {
    for (const v of VARIANTS) {
      asm.emit(Instruction.createRegMem(v.load, Register.XMM0, data(p * RECORD + v.a)));
      asm.emit(Instruction.createRegMem(v.load, Register.XMM1, data(p * RECORD + v.b)));
      asm.emit(Instruction.createRegReg(v.code, Register.XMM0, Register.XMM1));
      asm.storeFlags(offset);
      offset += 8;
      setAll();
      asm.endBlock();
      setAll();
    }
  });
  return asm.bytes();
}

describe("float compares: flags and conditions against the CPU", () => {
  it("every condition code after (u)comisd and (u)comiss, fused and after a block end", async () => {
    const wordsPerCase = CASE_BYTES / 8;
    const out = await bothAgree(
      dir,
      program(),
      input(),
      PAIRS.length * VARIANTS.length * CASE_BYTES,
      "fcmp",
      (i) => i % wordsPerCase === 0,
      (i) => {
        const c = Math.floor(i / wordsPerCase);
        const pair = PAIRS[Math.floor(c / VARIANTS.length)];
        const variant = VARIANTS[c % VARIANTS.length]?.name;
        return `${variant} ${String(pair)} word ${i % wordsPerCase}`;
      },
    );
    // By hand: ucomisd 1, 2 → CF=1 (jb taken, ja not); NaN, 1 → PF=1, ZF=1, CF=1.
    const setcc = (pair: number, cc: number): number =>
      out[pair * VARIANTS.length * CASE_BYTES + 8 + cc] as number;
    expect([setcc(0, 2), setcc(0, 7)]).toEqual([1, 0]);
    expect([setcc(4, 10), setcc(4, 4), setcc(4, 2), setcc(4, 7)]).toEqual([1, 1, 1, 0]);
  });
});
