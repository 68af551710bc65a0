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

// At 0: 128 distinct bytes; DIFFER_AT_3: their first 3, then different
// ones; EQUAL_AT_4: 4 different ones, then theirs.
const DIFFER_AT_3 = 128;
const EQUAL_AT_4 = 256;

function input(): Buffer {
  const b = Buffer.alloc(384);
  for (let i = 0; i < 128; i++) {
    const v = (i * 37 + 11) & 0xff;
    b[i] = v;
    b[DIFFER_AT_3 + i] = i < 3 ? v : v ^ 0x5a;
    b[EQUAL_AT_4 + i] = i < 4 ? v ^ 1 : v;
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
const I = Instruction;
const backwards = { backwards: true } as const;
/** A case: its instruction, RSI and RDI (input offsets or "out"), RCX, and RAX or DF. */
function c(
  name: string,
  make: () => Instruction,
  rsi: number,
  rdi: number | "out",
  rcx: number,
  more: { rax?: bigint; backwards?: boolean } = {},
): Case {
  return { name, make, rsi, rdi, rcx, ...more };
}
const byte5 = BigInt((5 * 37 + 11) & 0xff);
const CASES: readonly Case[] = [
  c("rep movsb", () => I.createRepMovsb(64), 1, "out", 5),
  c("rep movsw", () => I.createRepMovsw(64), 2, "out", 3),
  c("rep movsd", () => I.createRepMovsd(64), 4, "out", 4),
  c("rep movsq", () => I.createRepMovsq(64), 8, "out", 3),
  c("rep movsb backwards", () => I.createRepMovsb(64), 20, "out", 6, backwards),
  c("rep movsq backwards", () => I.createRepMovsq(64), 40, "out", 2, backwards),
  c("rep movsb, count 0", () => I.createRepMovsb(64), 1, "out", 0),
  c("movsb", () => I.createMovsb(64, none, rep), 3, "out", 9),
  c("rep stosb", () => I.createRepStosb(64), 0, "out", 7, { rax: 0x1122334455667788n }),
  c("rep stosw backwards", () => I.createRepStosw(64), 0, "out", 3, { rax: 0xa1b2n, ...backwards }),
  c("rep stosq", () => I.createRepStosq(64), 0, "out", 3, { rax: -2n }),
  c("lodsb", () => I.createLodsb(64, none, rep), 5, 0, 1, { rax: -1n }),
  c("lodsw backwards", () => I.createLodsw(64, none, rep), 6, 0, 1, { rax: -1n, ...backwards }),
  c("lodsd", () => I.createLodsd(64, none, rep), 7, 0, 1, { rax: -1n }),
  c("repe cmpsb stops at the first difference", () => I.createRepeCmpsb(64), 0, DIFFER_AT_3, 8),
  c("repe cmpsb, count 0", () => I.createRepeCmpsb(64), 0, DIFFER_AT_3, 0),
  c("repne cmpsb stops at the first equal byte", () => I.createRepneCmpsb(64), 0, EQUAL_AT_4, 8),
  c("repe cmpsq", () => I.createRepeCmpsq(64), 0, DIFFER_AT_3, 4),
  c("repe cmpsw backwards", () => I.createRepeCmpsw(64), 16, DIFFER_AT_3 + 16, 3, backwards),
  c("cmpsd", () => I.createCmpsd(64, none, rep), 8, 12, 1),
  c("repne scasb finds the byte", () => I.createRepneScasb(64), 0, 0, 16, { rax: byte5 }),
  c("repne scasb runs out", () => I.createRepneScasb(64), 0, 0, 4, { rax: byte5 }),
  c("repe scasb", () => I.createRepeScasb(64), 0, 0, 10, { rax: 11n }),
  c("scasw", () => I.createScasw(64, rep), 0, 2, 1, { rax: 0xffffn }),
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
