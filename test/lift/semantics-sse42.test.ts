// pcmpistri/pcmpistrm/pcmpestri/pcmpestrm (SDM Vol. 2B §4.1): every imm8
// mode (format × aggregation × polarity × index/mask output) over a table of
// string pairs — implicit lengths with the null at every kind of position,
// explicit lengths negative, zero, saturated and 64-bit — run natively and
// lifted; results (ECX or XMM0) and flags must be equal. A few results are
// also checked against the SDM by hand.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, Instruction, MemoryOperand, Register } from "iced-x86";
import { afterAll, describe, expect, it } from "vitest";
import { Assembler, bothAgree, programElf, runLiftedElf } from "./semantics-harness.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-sse42-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One input record: xmm1 bytes, xmm2 bytes, RAX, RDX. */
interface Pair {
  readonly a: number[];
  readonly b: number[];
  readonly rax: bigint;
  readonly rdx: bigint;
}
const RECORD = 48;

const text = (s: string): number[] => {
  const bytes = [...Buffer.from(s, "latin1")];
  return [...bytes, ...new Array<number>(16 - bytes.length).fill(0)].slice(0, 16);
};

/** A deterministic generator (an LCG), so the table is the same every run. */
function randomPairs(count: number): Pair[] {
  let seed = 12345;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed >> 8;
  };
  const alphabet = [0x00, 0x61, 0x62, 0x63, 0x80, 0xff, 0x7f, 0x01, 0x61, 0x62];
  const lengths = [0n, 3n, 5n, 8n, 15n, 16n, 17n, -3n, -9n, -20n, 0x80000000n, 0x100000004n];
  const vector = (): number[] =>
    Array.from({ length: 16 }, () => alphabet[next() % alphabet.length] as number);
  return Array.from({ length: count }, () => ({
    a: vector(),
    b: vector(),
    rax: lengths[next() % lengths.length] as bigint,
    rdx: lengths[next() % lengths.length] as bigint,
  }));
}

const PAIRS: readonly Pair[] = [
  { a: text("abc"), b: text("xxabcabc"), rax: 3n, rdx: 8n },
  { a: text("azAZ09"), b: text("Hello, World 42!"), rax: 6n, rdx: 16n },
  { a: text(""), b: text(""), rax: 0n, rdx: 0n },
  { a: text("0123456789abcdef"), b: text("0123456789abcdef"), rax: 16n, rdx: -16n },
  { a: text("0123456789abcdeX"), b: text("0123456789abcdef"), rax: -100n, rdx: 100n },
  {
    a: [0x80, 0xff, 0x01, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    b: text("\x80\x90\xff\x00"),
    rax: 4n,
    rdx: 3n,
  },
  // Words: a zero byte inside a non-zero word is not a terminator.
  {
    a: [0x61, 0, 0x62, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    b: text("a\0b\0c\0a\0b\0"),
    rax: 2n,
    rdx: 5n,
  },
  { a: text("ab"), b: text("cdcdcdab"), rax: 0x100000002n, rdx: -0x7fffffffn },
  ...randomPairs(16),
];

function inputBytes(): Uint8Array {
  const out = new Uint8Array(PAIRS.length * RECORD);
  const v = new DataView(out.buffer);
  PAIRS.forEach((p, k) => {
    out.set(p.a, k * RECORD);
    out.set(p.b, k * RECORD + 16);
    v.setBigUint64(k * RECORD + 32, BigInt.asUintN(64, p.rax), true);
    v.setBigUint64(k * RECORD + 40, BigInt.asUintN(64, p.rdx), true);
  });
  return out;
}

const at = (base: Register, displacement: number): MemoryOperand =>
  MemoryOperand.createBaseDispl(base, BigInt(displacement));

interface Variant {
  readonly name: string;
  readonly code: Code;
  readonly mask: boolean;
  readonly fromMemory?: boolean;
}
const VARIANTS: readonly Variant[] = [
  { name: "pcmpistri", code: Code.Pcmpistri_xmm_xmmm128_imm8, mask: false },
  { name: "pcmpistrm", code: Code.Pcmpistrm_xmm_xmmm128_imm8, mask: true },
  { name: "pcmpestri", code: Code.Pcmpestri_xmm_xmmm128_imm8, mask: false },
  { name: "pcmpestrm", code: Code.Pcmpestrm_xmm_xmmm128_imm8, mask: true },
];
const WIDE_AND_MEMORY: readonly Variant[] = [
  { name: "pcmpestri64", code: Code.Pcmpestri64_xmm_xmmm128_imm8, mask: false },
  { name: "pcmpestrm64", code: Code.Pcmpestrm64_xmm_xmmm128_imm8, mask: true },
  { name: "pcmpistri m128", code: Code.Pcmpistri_xmm_xmmm128_imm8, mask: false, fromMemory: true },
  { name: "pcmpestrm m128", code: Code.Pcmpestrm_xmm_xmmm128_imm8, mask: true, fromMemory: true },
];
/** Slot layout per case: result (ECX, or XMM0's two quadwords), then EFLAGS. */
const CASE_BYTES = 24;

/** Assembles a loop over PAIRS running every (variant, imm8) case; returns the labels. */
function sweep(cases: readonly (readonly [Variant, number])[]): {
  body: Uint8Array;
  labels: string[];
} {
  const asm = new Assembler();
  const R12 = Register.R12;
  const RBX = Register.RBX;
  asm.emit(Instruction.createRegReg(Code.Mov_r64_rm64, R12, Register.R14));
  asm.emit(Instruction.createRegReg(Code.Mov_r64_rm64, RBX, Register.R15));
  asm.movImm(Register.R13, BigInt(PAIRS.length));
  const loop = asm.here();
  const labels: string[] = [];
  cases.forEach(([variant, imm], k) => {
    asm.emit(
      Instruction.createRegMem(Code.Movdqu_xmm_xmmm128, Register.XMM1, at(R12, 0)),
      Instruction.createRegMem(Code.Movdqu_xmm_xmmm128, Register.XMM2, at(R12, 16)),
      Instruction.createRegMem(Code.Mov_r64_rm64, Register.RAX, at(R12, 32)),
      Instruction.createRegMem(Code.Mov_r64_rm64, Register.RDX, at(R12, 40)),
    );
    asm.movImm(Register.RCX, -1n);
    asm.emit(
      variant.fromMemory === true
        ? Instruction.createRegMemU32(variant.code, Register.XMM1, at(R12, 16), imm)
        : Instruction.createRegRegU32(variant.code, Register.XMM1, Register.XMM2, imm),
    );
    const slot = k * CASE_BYTES;
    if (variant.mask)
      asm.emit(Instruction.createMemReg(Code.Movdqu_xmmm128_xmm, at(RBX, slot), Register.XMM0));
    else asm.emit(Instruction.createMemReg(Code.Mov_rm64_r64, at(RBX, slot), Register.RCX));
    asm.emit(
      Instruction.create(Code.Pushfq),
      Instruction.createMem(Code.Pop_rm64, at(RBX, slot + 16)),
    );
    asm.endBlock();
    labels.push(`${variant.name} imm8 0x${imm.toString(16)}`);
  });
  asm.emit(Instruction.createRegI32(Code.Add_rm64_imm32, R12, RECORD));
  asm.emit(Instruction.createRegI32(Code.Add_rm64_imm32, RBX, cases.length * CASE_BYTES));
  asm.emit(Instruction.createReg(Code.Dec_rm64, Register.R13));
  asm.jnzTo(loop);
  return { body: asm.bytes(), labels };
}

async function runSweep(
  name: string,
  cases: readonly (readonly [Variant, number])[],
): Promise<Buffer> {
  const { body, labels } = sweep(cases);
  const perPair = cases.length * CASE_BYTES;
  const wordsPerCase = CASE_BYTES / 8;
  return bothAgree(
    dir,
    body,
    inputBytes(),
    PAIRS.length * perPair,
    name,
    (i) => i % wordsPerCase === 2,
    (i) => {
      const pair = Math.floor((i * 8) / perPair);
      const within = Math.floor(((i * 8) % perPair) / CASE_BYTES);
      return `pair ${pair} ${labels[within]} ${["result", "result high", "flags"][i % wordsPerCase]}`;
    },
  );
}

/** Every meaningful imm8 (bits 0–6); bit 7 is reserved and ignored. */
const ALL_MODES = Array.from({ length: 128 }, (_, i) => i);

describe("SSE4.2 string compares against the CPU", () => {
  for (const variant of VARIANTS) {
    it(`${variant.name}: all 128 imm8 modes over ${PAIRS.length} string pairs`, async () => {
      const output = await runSweep(
        variant.name,
        ALL_MODES.map((imm) => [variant, imm] as const),
      );
      if (variant.name !== "pcmpistri") return;
      // SDM by hand, pair 0 ("abc" in "xxabcabc"): imm8 0x0c (ubyte, equal ordered,
      // +, least index) → ECX = 2; 0x4c (most index) → 5 (the last partial match
      // "abc" at 5 runs into the text's end: no, the last full one); CF=1, ZF=1, SF=1.
      const word = (imm: number, w: number): bigint =>
        output.readBigUInt64LE(imm * CASE_BYTES + w * 8);
      expect(word(0x0c, 0)).toBe(2n);
      expect(word(0x4c, 0)).toBe(5n);
      expect(word(0x0c, 2) & 0x8c1n).toBe(0xc1n); // CF ZF SF set, OF clear
      // Equal any (0x00) of {a,b,c} over "xxabcabc": first hit at 2; none found (0x00 on pair 2) → 16.
      expect(word(0x00, 0)).toBe(2n);
      expect(output.readBigUInt64LE(2 * 128 * CASE_BYTES)).toBe(16n);
    });
  }

  it("REX.W lengths and memory operands", async () => {
    const modes = [
      0x00, 0x04, 0x08, 0x0c, 0x1c, 0x34, 0x3a, 0x41, 0x44, 0x4c, 0x71, 0x7f, 0x80, 0xff,
    ];
    await runSweep(
      "sse42-wide",
      WIDE_AND_MEMORY.flatMap((v) => modes.map((imm) => [v, imm] as const)),
    );
  });
});

describe("the CPU model reports SSE4.2 (x86-64-v2)", () => {
  it("CPUID.1:ECX has SSE4.2 (bit 20) and POPCNT, and no AVX, XSAVE or OSXSAVE", async () => {
    const asm = new Assembler().movImm(Register.RAX, 1n).movImm(Register.RCX, 0n);
    asm.emit(Instruction.create(Code.Cpuid)).storeGpr(Register.RCX, 0);
    const lifted = await runLiftedElf(programElf(asm.bytes(), new Uint8Array(16), 8), dir);
    expect(lifted.status).toBe(0);
    const ecx = Number(lifted.stdout.readBigUInt64LE(0));
    expect(ecx & (1 << 20)).not.toBe(0);
    expect(ecx & (1 << 23)).not.toBe(0);
    expect(ecx & ((1 << 28) | (1 << 26) | (1 << 27))).toBe(0);
  });
});
