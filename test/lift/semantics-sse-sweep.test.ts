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
/** Spread over the fields forms read: low bits (lanes, round modes, compare predicates), high bits (insertps, dpps). */
const IMMEDIATES = [0x00, 0x01, 0x02, 0x04, 0x1b, 0x4e, 0x8d, 0xff];
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
  [/^[A-Z][a-z0-9]+_xmm_xmmm(128|64|32|16)(_imm8)?$/, "xmm,xmm"],
  [/^[A-Z][a-z0-9]+_xmm_imm8$/, "xmm,imm"],
  [/^[A-Z][a-z0-9]+_xmm_xmm$/, "xmm,xmm"],
  [/^[A-Z][a-z0-9]+_(r(32|64)(m8|m16|m32)?_xmm(m128|m64|m32)?|rm(32|64)_xmm)(_imm8)?$/, "gpr,xmm"],
  [/^[A-Z][a-z0-9]+_xmm_(rm(32|64)|r(32|64)m(8|16))(_imm8)?$/, "xmm,gpr"],
  [/^[A-Z][a-z0-9]+_xmm_m(64|128)$/, "xmm,mem"],
  [/^[A-Z][a-z0-9]+_(m64|m128|xmmm64)_xmm$/, "mem,xmm"],
];

const APPROXIMATE = new Set([Mnemonic.Rcpps, Mnemonic.Rcpss, Mnemonic.Rsqrtps, Mnemonic.Rsqrtss]);

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
    // Approximations whose low bits differ between CPUs: semantics-sse-approximate.
    if (APPROXIMATE.has(mnemonic)) continue;
    out.push({ name, code, shape, imm: name.endsWith("_imm8") });
  }
  return out;
}

/**
 * Where a form can take memory: the source (xmm/m, r/m sources such as
 * pinsrb's and cvtsi2sd's, and cvtsd2si's xmm/m), the destination (r/m
 * destinations such as pextrb's and movd's), or nowhere.
 */
function memoryUse(form: Form): "source" | "destination" | "none" {
  if (form.shape === "xmm,xmm") return form.name.endsWith("_xmm_xmm") ? "none" : "source";
  if (form.shape === "xmm,gpr") return /_xmm_(rm|r(32|64)m)/.test(form.name) ? "source" : "none";
  if (form.shape === "gpr,xmm") {
    if (/_xmmm\d+/.test(form.name)) return "source";
    if (/_(rm(32|64)|r(32|64)m\d+)_xmm/.test(form.name)) return "destination";
  }
  return "none";
}

/**
 * The instruction of `form` on XMM0 (or RAX) and XMM1, a GPR source being
 * RCX; with `memory`, that replaces the source operand of a "source" form;
 * a store (a mem,xmm form, or a "destination" form given `memory`) goes to
 * `slot`.
 */
function instance(
  form: Form,
  imm: number | undefined,
  memory: MemoryOperand | undefined,
  slot: MemoryOperand,
): Instruction {
  const { XMM0, XMM1, RAX } = Register;
  const rcx = /_xmm_(rm32|r32m)/.test(form.name) ? Register.ECX : Register.RCX;
  const regMem = (reg: Register, mem: MemoryOperand): Instruction =>
    imm === undefined
      ? Instruction.createRegMem(form.code, reg, mem)
      : Instruction.createRegMemU32(form.code, reg, mem, imm);
  const regReg = (a: Register, b: Register): Instruction =>
    imm === undefined
      ? Instruction.createRegReg(form.code, a, b)
      : Instruction.createRegRegU32(form.code, a, b, imm);
  switch (form.shape) {
    case "xmm,gpr":
      return memory === undefined ? regReg(XMM0, rcx) : regMem(XMM0, memory);
    case "xmm,mem":
      return Instruction.createRegMem(form.code, XMM0, memory ?? slot);
    case "mem,xmm":
      return Instruction.createMemReg(form.code, slot, XMM1);
    case "xmm,xmm":
      return memory === undefined ? regReg(XMM0, XMM1) : regMem(XMM0, memory);
    case "xmm,imm":
      return Instruction.createRegU32(form.code, XMM0, imm ?? 0);
    case "gpr,xmm": {
      const gpr = /_r(m)?32(m\d+)?_/.test(form.name) ? Register.EAX : RAX;
      if (memory === undefined) return regReg(gpr, XMM1);
      if (memoryUse(form) === "source") return regMem(gpr, memory);
      return imm === undefined
        ? Instruction.createMemReg(form.code, slot, XMM1)
        : Instruction.createMemRegU32(form.code, slot, XMM1, imm);
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
      // Memory operands too: the form reads or writes 16, 8, 4, 2 or 1 bytes there.
      const use = memoryUse(form);
      for (const fromMemory of use === "none" ? [false] : [false, true]) {
        for (const imm of form.imm ? IMMEDIATES : [undefined]) {
          for (const [d, s] of PAIRS) {
            const at = labels.length * SLOT;
            asm.loadXmm(Register.XMM0, d * 16).loadXmm(Register.XMM1, s * 16);
            asm.movImm(Register.RAX, 0x1122334455667788n);
            asm.emit(Instruction.createRegMem(Code.Mov_r64_rm64, Register.RCX, data(s * 16)));
            const memory = fromMemory || form.shape === "xmm,mem" ? data(s * 16) : undefined;
            asm.emit(instance(form, imm, memory, out(at)));
            const stored = form.shape === "mem,xmm" || (fromMemory && use === "destination");
            // A store wrote its result to the slot already.
            if (!stored && form.shape === "gpr,xmm") asm.storeGpr(Register.RAX, at);
            else if (!stored) asm.storeXmm(Register.XMM0, at);
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

describe("maskmovdqu against the CPU", () => {
  it("stores exactly the bytes whose mask byte has its top bit set, at [RDI]", async () => {
    const input = Buffer.concat(operands());
    const count = input.length / 16;
    const asm = new Assembler();
    let slot = 0;
    for (let value = 0; value < count; value++) {
      for (let mask = 0; mask < count; mask++) {
        // The slot first holds another operand, so kept bytes are visible.
        asm.loadXmm(Register.XMM2, ((value + 1) % count) * 16).storeXmm(Register.XMM2, 16 * slot);
        asm.loadXmm(Register.XMM0, value * 16).loadXmm(Register.XMM1, mask * 16);
        asm.emit(Instruction.createRegMem(Code.Lea_r64_m, Register.RDI, out(16 * slot)));
        asm.raw([0x66, 0x0f, 0xf7, 0xc1]); // maskmovdqu xmm0, xmm1
        slot++;
      }
    }
    await bothAgree(dir, asm.bytes(), input, 16 * slot, "maskmovdqu", () => false);
  });
});
