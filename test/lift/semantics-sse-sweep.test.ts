// Every legacy SSE instruction form the lifter has semantics for — xmm,
// xmm/m (the source in a register and in memory), xmm, imm8, r32/r64, xmm,
// xmm, r/m, loads and stores — run natively and lifted over edge-case
// operands: NaNs with payloads, ±0, infinities, denormals, float-to-int
// range edges and integer extremes; forms with an imm8 over a spread of
// immediates. The destination (register or memory) and the arithmetic
// flags must be equal. Written after cvttps2dq turned out to saturate where the
// CPU gives the integer indefinite: a sweep finds what per-family tests
// did not think of.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, Instruction, MemoryOperand, Mnemonic, Register } from "iced-x86";
import { afterAll, describe, expect, it } from "vitest";
import { SEMANTICS } from "../../src/lift/semantics/table.js";
import { Assembler, bothAgree, data, out } from "./semantics-harness.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-sse-sweep-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 16-byte operands, each read as whatever lanes the instruction uses. */
function operands(): Buffer[] {
  const f32 = (...v: number[]): Buffer => {
    const b = Buffer.alloc(16);
    v.forEach((x, i) => b.writeFloatLE(x, i * 4));
    return b;
  };
  const words = (...v: bigint[]): Buffer => {
    const b = Buffer.alloc(16);
    v.forEach((x, i) => b.writeBigUInt64LE(x, i * 8));
    return b;
  };
  return [
    f32(Number.NaN, -0, Number.POSITIVE_INFINITY, 1.5),
    f32(3e9, -3e9, 1e-45, -2.5),
    words(0x7ff8000000000123n, 0xd4adbdb4f4f4a7d1n), // f64 NaN with a payload, −1e300-ish
    words(0x4004000000000000n, 0x8000000000000000n), // f64 2.5, −0
    words(0x7f01ff80807f0001n, 0x0fedcba987654321n), // byte and word extremes
    words(0x800000007fffffffn, 0xffffffff00000001n), // dword extremes
    words(0x7f800001ff800001n, 0x0000000100008000n), // f32 signaling NaNs, denormals
  ];
}

/** (destination, source) operand pairs. */
const PAIRS: readonly [number, number][] = [
  [0, 1],
  [1, 0],
  [2, 3],
  [3, 2],
  [4, 5],
  [5, 4],
  [6, 0],
  [0, 0],
];
const IMMEDIATES = [0x00, 0x01, 0x1b, 0x4e, 0x8d, 0xff];
/** Output per case: the 16-byte result, the flags, padding (movnt* stores need 16-byte alignment). */
const SLOT = 32;

/**
 * How a form's operands are written: xmm, xmm/m; xmm, imm8; r32/r64, xmm;
 * xmm, r/m32 or r/m64 (movd, cvtsi2sd, pinsrw); xmm, m (movhps, lddqu);
 * m, xmm (stores).
 */
type Shape = "xmm,xmm" | "xmm,imm" | "gpr,xmm" | "xmm,gpr" | "xmm,mem" | "mem,xmm";

interface Form {
  readonly name: string;
  readonly code: Code;
  readonly shape: Shape;
  readonly imm: boolean;
}

const SHAPES: readonly [RegExp, Shape][] = [
  [/^[A-Z][a-z0-9]+_xmm_xmmm(128|64|32)(_imm8)?$/, "xmm,xmm"],
  [/^[A-Z][a-z0-9]+_xmm_imm8$/, "xmm,imm"],
  [/^[A-Z][a-z0-9]+_xmm_xmm$/, "xmm,xmm"],
  [/^[A-Z][a-z0-9]+_(r(32|64)_xmm(m128|m64|m32)?|rm(32|64)_xmm)(_imm8)?$/, "gpr,xmm"],
  [/^[A-Z][a-z0-9]+_xmm_(rm(32|64)|r(32|64)m16)(_imm8)?$/, "xmm,gpr"],
  [/^[A-Z][a-z0-9]+_xmm_m(64|128)$/, "xmm,mem"],
  [/^[A-Z][a-z0-9]+_(m64|m128|xmmm64)_xmm$/, "mem,xmm"],
];

/** Register forms of legacy SSE instructions with semantics (no VEX, no MMX). */
function forms(): Form[] {
  const out: Form[] = [];
  for (const name of Object.keys(Code)) {
    const shape = SHAPES.find(([re]) => re.test(name))?.[1];
    if (shape === undefined) continue;
    const code = Code[name as keyof typeof Code];
    const probe = Instruction.create(code);
    const mnemonic = probe.mnemonic;
    probe.free();
    if (!SEMANTICS.has(mnemonic) || mnemonic === Mnemonic.INVALID) continue;
    out.push({ name, code, shape, imm: name.endsWith("_imm8") });
  }
  return out;
}

/**
 * The instruction of `form` on XMM0 (or RAX) and XMM1, or XMM0 and `memory`
 * for xmm/m forms; a GPR source is RCX, a store goes to `slot`.
 */
function instance(
  form: Form,
  imm: number | undefined,
  memory: MemoryOperand | undefined,
  slot: MemoryOperand,
): Instruction {
  const { XMM0, XMM1, RAX } = Register;
  const rcx = /_xmm_(rm32|r32m16)/.test(form.name) ? Register.ECX : Register.RCX;
  switch (form.shape) {
    case "xmm,gpr":
      return imm === undefined
        ? Instruction.createRegReg(form.code, XMM0, rcx)
        : Instruction.createRegRegU32(form.code, XMM0, rcx, imm);
    case "xmm,mem":
      return Instruction.createRegMem(form.code, XMM0, memory ?? slot);
    case "mem,xmm":
      return Instruction.createMemReg(form.code, slot, XMM1);
    case "xmm,xmm":
      if (memory !== undefined) {
        return imm === undefined
          ? Instruction.createRegMem(form.code, XMM0, memory)
          : Instruction.createRegMemU32(form.code, XMM0, memory, imm);
      }
      return imm === undefined
        ? Instruction.createRegReg(form.code, XMM0, XMM1)
        : Instruction.createRegRegU32(form.code, XMM0, XMM1, imm);
    case "xmm,imm":
      return Instruction.createRegU32(form.code, XMM0, imm ?? 0);
    case "gpr,xmm": {
      const gpr = /_rm?32_/.test(form.name) ? Register.EAX : RAX;
      return imm === undefined
        ? Instruction.createRegReg(form.code, gpr, XMM1)
        : Instruction.createRegRegU32(form.code, gpr, XMM1, imm);
    }
  }
}

describe("legacy SSE instructions against the CPU", () => {
  it("every register form with semantics, over edge-case operands", async () => {
    const input = Buffer.concat(operands());
    const list = forms();
    expect(list.filter((f) => f.shape === "xmm,xmm").length).toBeGreaterThan(100);
    expect(list.filter((f) => f.shape !== "xmm,xmm").length).toBeGreaterThan(10);
    const asm = new Assembler();
    const labels: string[] = [];
    for (const form of list) {
      // The source from memory too: the form reads 16, 8 or 4 bytes there.
      const withMemory = form.shape === "xmm,xmm" && !form.name.endsWith("_xmm_xmm");
      for (const fromMemory of withMemory ? [false, true] : [false]) {
        for (const imm of form.imm ? IMMEDIATES : [undefined]) {
          for (const [d, s] of PAIRS) {
            const at = labels.length * SLOT;
            asm.loadXmm(Register.XMM0, d * 16).loadXmm(Register.XMM1, s * 16);
            asm.movImm(Register.RAX, 0x1122334455667788n);
            asm.emit(Instruction.createRegMem(Code.Mov_r64_rm64, Register.RCX, data(s * 16)));
            const memory = fromMemory || form.shape === "xmm,mem" ? data(s * 16) : undefined;
            asm.emit(instance(form, imm, memory, out(at)));
            if (form.shape === "gpr,xmm") asm.storeGpr(Register.RAX, at);
            else if (form.shape !== "mem,xmm") asm.storeXmm(Register.XMM0, at);
            asm.storeFlags(at + 16);
            asm.endBlock();
            const operand = fromMemory ? `[${s}]` : String(s);
            labels.push(`${form.name}${imm === undefined ? "" : ` imm ${imm}`} (${d}, ${operand})`);
          }
        }
      }
    }
    await bothAgree(
      dir,
      asm.bytes(),
      input,
      labels.length * SLOT,
      "sse-sweep",
      (i) => i % 4 === 2,
      (i) => `${labels[Math.floor(i / 4)]} ${["low", "high", "flags", "pad"][i % 4]}`,
    );
  });
});
