// String instructions (SDM Vol. 1 §7.3.9, Vol. 2B "REP/REPE/REPNE"): movs,
// stos, lods, cmps and scas in every operand size, with and without a rep
// prefix, forwards and backwards (DF), a zero count, and repe/repne stopping
// at the first (mis)match. Native and lifted must leave RSI, RDI, RCX, RAX,
// the flags and the destination bytes equal.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Instruction, RepPrefixKind, Register } from "iced-x86";
import { afterAll, describe, expect, it } from "vitest";
import { Assembler, bothAgree, DATA, OUT } from "./semantics-harness.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-string-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SOURCE = 0; // 128 distinct bytes
const EQUAL_THEN_NOT = 128; // the source's first 3 bytes, then different ones
const NOT_THEN_EQUAL = 256; // different for 4 bytes, then the source's

function input(): Buffer {
  const b = Buffer.alloc(384);
  for (let i = 0; i < 128; i++) {
    const v = (i * 37 + 11) & 0xff;
    b[SOURCE + i] = v;
    b[EQUAL_THEN_NOT + i] = i < 3 ? v : v ^ 0x5a;
    b[NOT_THEN_EQUAL + i] = i < 4 ? v ^ 1 : v;
  }
  return b;
}

interface Case {
  readonly name: string;
  readonly make: () => Instruction;
  readonly backwards?: boolean;
  /** RSI and RDI as offsets in the input; a destination (movs, stos) is in the case's output. */
  readonly rsi: number;
  readonly rdi: number | "out";
  readonly rcx: number;
  readonly rax?: bigint;
}

const none = Register.None;
const rep = RepPrefixKind.None;
const CASES: readonly Case[] = [
  { name: "rep movsb", make: () => Instruction.createRepMovsb(64), rsi: 1, rdi: "out", rcx: 5 },
  { name: "rep movsw", make: () => Instruction.createRepMovsw(64), rsi: 2, rdi: "out", rcx: 3 },
  { name: "rep movsd", make: () => Instruction.createRepMovsd(64), rsi: 4, rdi: "out", rcx: 4 },
  { name: "rep movsq", make: () => Instruction.createRepMovsq(64), rsi: 8, rdi: "out", rcx: 3 },
  {
    name: "rep movsb backwards",
    make: () => Instruction.createRepMovsb(64),
    backwards: true,
    rsi: 20,
    rdi: "out",
    rcx: 6,
  },
  {
    name: "rep movsq backwards",
    make: () => Instruction.createRepMovsq(64),
    backwards: true,
    rsi: 40,
    rdi: "out",
    rcx: 2,
  },
  {
    name: "rep movsb, count 0",
    make: () => Instruction.createRepMovsb(64),
    rsi: 1,
    rdi: "out",
    rcx: 0,
  },
  { name: "movsb", make: () => Instruction.createMovsb(64, none, rep), rsi: 3, rdi: "out", rcx: 9 },
  {
    name: "rep stosb",
    make: () => Instruction.createRepStosb(64),
    rsi: 0,
    rdi: "out",
    rcx: 7,
    rax: 0x1122334455667788n,
  },
  {
    name: "rep stosw backwards",
    make: () => Instruction.createRepStosw(64),
    backwards: true,
    rsi: 0,
    rdi: "out",
    rcx: 3,
    rax: 0xa1b2n,
  },
  {
    name: "rep stosq",
    make: () => Instruction.createRepStosq(64),
    rsi: 0,
    rdi: "out",
    rcx: 3,
    rax: -2n,
  },
  {
    name: "lodsb",
    make: () => Instruction.createLodsb(64, none, rep),
    rsi: 5,
    rdi: 0,
    rcx: 1,
    rax: -1n,
  },
  {
    name: "lodsw backwards",
    make: () => Instruction.createLodsw(64, none, rep),
    backwards: true,
    rsi: 6,
    rdi: 0,
    rcx: 1,
    rax: -1n,
  },
  {
    name: "lodsd",
    make: () => Instruction.createLodsd(64, none, rep),
    rsi: 7,
    rdi: 0,
    rcx: 1,
    rax: -1n,
  },
  {
    name: "repe cmpsb stops at the first difference",
    make: () => Instruction.createRepeCmpsb(64),
    rsi: SOURCE,
    rdi: EQUAL_THEN_NOT,
    rcx: 8,
  },
  {
    name: "repe cmpsb, count 0",
    make: () => Instruction.createRepeCmpsb(64),
    rsi: SOURCE,
    rdi: EQUAL_THEN_NOT,
    rcx: 0,
  },
  {
    name: "repne cmpsb stops at the first equal byte",
    make: () => Instruction.createRepneCmpsb(64),
    rsi: SOURCE,
    rdi: NOT_THEN_EQUAL,
    rcx: 8,
  },
  {
    name: "repe cmpsq",
    make: () => Instruction.createRepeCmpsq(64),
    rsi: SOURCE,
    rdi: EQUAL_THEN_NOT,
    rcx: 4,
  },
  {
    name: "repe cmpsw backwards",
    make: () => Instruction.createRepeCmpsw(64),
    backwards: true,
    rsi: SOURCE + 16,
    rdi: EQUAL_THEN_NOT + 16,
    rcx: 3,
  },
  {
    name: "cmpsd",
    make: () => Instruction.createCmpsd(64, none, rep),
    rsi: SOURCE + 8,
    rdi: SOURCE + 12,
    rcx: 1,
  },
  {
    name: "repne scasb finds the byte",
    make: () => Instruction.createRepneScasb(64),
    rsi: 0,
    rdi: SOURCE,
    rcx: 16,
    rax: BigInt((5 * 37 + 11) & 0xff),
  },
  {
    name: "repne scasb runs out",
    make: () => Instruction.createRepneScasb(64),
    rsi: 0,
    rdi: SOURCE,
    rcx: 4,
    rax: BigInt((5 * 37 + 11) & 0xff),
  },
  {
    name: "repe scasb",
    make: () => Instruction.createRepeScasb(64),
    rsi: 0,
    rdi: SOURCE,
    rcx: 10,
    rax: BigInt(11),
  },
  {
    name: "scasw",
    make: () => Instruction.createScasw(64, rep),
    rsi: 0,
    rdi: SOURCE + 2,
    rcx: 1,
    rax: 0xffffn,
  },
];

/** Output per case: RSI, RDI, RCX, RAX, flags (40 bytes), padding, then 64 destination bytes. */
const CASE_BYTES = 128;
const DEST = 48;

describe("string instructions against the CPU", () => {
  it("movs, stos, lods, cmps and scas: sizes, rep prefixes, DF, count 0", async () => {
    const asm = new Assembler();
    CASES.forEach((c, k) => {
      const base = k * CASE_BYTES;
      // A destination starts mid-buffer so a backward one has room below it.
      const dest = OUT + base + DEST + 24;
      asm.setFlags(0x2 | (c.backwards === true ? 0x400 : 0));
      asm.movImm(Register.RSI, BigInt(DATA + c.rsi));
      asm.movImm(Register.RDI, BigInt(c.rdi === "out" ? dest : DATA + c.rdi));
      asm.movImm(Register.RCX, BigInt(c.rcx));
      asm.movImm(Register.RAX, c.rax ?? 0x0123456789abcdefn);
      asm.emit(c.make());
      asm.storeGpr(Register.RSI, base).storeGpr(Register.RDI, base + 8);
      asm.storeGpr(Register.RCX, base + 16).storeGpr(Register.RAX, base + 24);
      asm.storeFlags(base + 32);
      asm.setFlags(0x2);
      asm.endBlock();
    });
    const words = CASE_BYTES / 8;
    const output = await bothAgree(
      dir,
      asm.bytes(),
      input(),
      CASES.length * CASE_BYTES,
      "string",
      (i) => i % words === 4,
      (i) => `${CASES[Math.floor(i / words)]?.name} word ${i % words}`,
    );
    // By hand: repe cmpsb stops after the 4th byte (RCX 8 → 4); repne scasb finds
    // the byte at index 5 (RCX 16 → 10).
    const rcx = (name: string): bigint =>
      output.readBigUInt64LE(CASES.findIndex((c) => c.name === name) * CASE_BYTES + 16);
    expect(rcx("repe cmpsb stops at the first difference")).toBe(4n);
    expect(rcx("repne scasb finds the byte")).toBe(10n);
  });
});
