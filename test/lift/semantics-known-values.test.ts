// Emission rules that rely on what a block knows about values
// (emit/known-values.ts) and the reloads pruned by liveness after a call
// (emit/reload-points.ts), against the CPU: a 32-bit write followed by
// narrower writes that merge or fold, constant rotate counts, and registers
// a callee changes that the caller reads in the same block, a later block,
// or overwrites without reading.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, Instruction, Register } from "iced-x86";
import { afterAll, describe, it } from "vitest";
import { Assembler, bothAgree, out } from "./semantics-harness.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-known-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BIG = 0x1111_2222_8765_4321n;
const le32 = (v: number): number[] => [0, 8, 16, 24].map((s) => (v >> s) & 0xff);

describe("known values and pruned reloads against the CPU", () => {
  it("narrow writes after 32-bit and constant writes in one block", async () => {
    const asm = new Assembler();
    const words: string[] = [];
    const store = (reg: Register, what: string): void => {
      asm.storeGpr(reg, words.length * 8);
      words.push(what);
    };
    const rr = (code: Code, a: Register, b: Register): void => {
      asm.emit(Instruction.createRegReg(code, a, b));
    };
    asm.movImm(Register.RCX, BIG).movImm(Register.RDX, 0x7fff_ffff_ffff_fff0n);
    // xor eax, eax; cmp ecx, edx; setb al: the merge into a known zero folds.
    asm.movImm(Register.RAX, -1n);
    rr(Code.Xor_r32_rm32, Register.EAX, Register.EAX);
    rr(Code.Cmp_r32_rm32, Register.ECX, Register.EDX);
    asm.emit(Instruction.createReg(Code.Setb_rm8, Register.AL));
    store(Register.RAX, "setb al after xor eax, eax");
    // mov eax, ecx (32-bit, upper half zero); mov al, dl merges; mov ah, dl merges.
    asm.movImm(Register.RAX, -1n);
    rr(Code.Mov_r32_rm32, Register.EAX, Register.ECX);
    rr(Code.Mov_r8_rm8, Register.AL, Register.DL);
    store(Register.RAX, "mov al, dl after mov eax, ecx");
    rr(Code.Mov_r8_rm8, Register.AH, Register.DL);
    store(Register.RAX, "mov ah, dl");
    // mov eax, 5 then mov al, 0x80 and mov ax, dx: constants as narrow as the write.
    asm.emit(Instruction.createRegU32(Code.Mov_r32_imm32, Register.EAX, 5));
    asm.emit(Instruction.createRegU32(Code.Mov_r8_imm8, Register.AL, 0x80));
    store(Register.RAX, "mov al, 0x80 after mov eax, 5");
    asm.emit(Instruction.createRegU32(Code.Mov_r32_imm32, Register.EAX, 0x1_0005));
    asm.emit(Instruction.createRegU32(Code.Mov_r8_imm8, Register.AL, 0x80));
    store(Register.RAX, "mov al, 0x80 after mov eax, 0x10005");
    asm.emit(Instruction.createRegU32(Code.Mov_r32_imm32, Register.EAX, 7));
    rr(Code.Mov_r16_rm16, Register.AX, Register.DX);
    store(Register.RAX, "mov ax, dx after mov eax, 7");
    // 32-bit rotates by constants, then a 32-bit add of the rotated values.
    rr(Code.Mov_r32_rm32, Register.EBX, Register.ECX);
    asm.emit(Instruction.createRegU32(Code.Ror_rm32_imm8, Register.EBX, 6));
    asm.emit(Instruction.createMem(Code.Setb_rm8, out(0x800)));
    rr(Code.Mov_r32_rm32, Register.ESI, Register.ECX);
    asm.emit(Instruction.createRegU32(Code.Rol_rm32_imm8, Register.ESI, 7));
    rr(Code.Add_r32_rm32, Register.EBX, Register.ESI);
    store(Register.RBX, "ror/rol/add");
    asm.storeGpr(Register.RSI, words.length * 8);
    words.push("rol esi, 7");
    await bothAgree(
      dir,
      asm.bytes(),
      new Uint8Array(8),
      0x808,
      "known-narrow",
      () => false,
      (i) => (i < words.length ? (words[i] as string) : `word ${i}`),
    );
  });

  it("registers a callee writes, read after the call or overwritten unread", async () => {
    const asm = new Assembler();
    // jmp over the callee: sub: mov rbx, BIG; mov rsi, BIG+1; mov r8, BIG+2; mov eax, 3; ret
    const jmpAt = asm.here();
    asm.raw([0xe9, 0, 0, 0, 0]);
    const sub = asm.here();
    asm
      .movImm(Register.RBX, BIG)
      .movImm(Register.RSI, BIG + 1n)
      .movImm(Register.R8, BIG + 2n);
    asm.emit(Instruction.createRegU32(Code.Mov_r32_imm32, Register.EAX, 3));
    asm.raw([0xc3]);
    const main = asm.here();
    const body = asm;
    // Patch the jmp: rel32 from the end of the jmp to main.
    const patch = le32(main - (jmpAt + 5));
    // Before the call: 32-bit writes that the callee then replaces.
    body.emit(Instruction.createRegU32(Code.Mov_r32_imm32, Register.EBX, 1));
    body.emit(Instruction.createRegU32(Code.Mov_r32_imm32, Register.ESI, 2));
    body.emit(Instruction.createRegU32(Code.Mov_r32_imm32, Register.R8D, 9));
    body.emit(Instruction.createRegU32(Code.Mov_r32_imm32, Register.EAX, 0x44));
    const callAt = body.here();
    body.raw([0xe8, ...le32(sub - (callAt + 5))]);
    body.storeGpr(Register.RBX, 0); // read in the same block
    body.emit(Instruction.createRegU32(Code.Mov_r8_imm8, Register.AL, 0x80)); // merge into the callee's eax
    body.storeGpr(Register.RAX, 8);
    body.emit(Instruction.createRegU32(Code.Mov_r32_imm32, Register.R8D, 7)); // overwritten unread
    body.storeGpr(Register.R8, 16);
    body.endBlock();
    body.storeGpr(Register.RSI, 24); // read in a later block
    const bytes = body.bytes();
    bytes.set(patch, 1);
    await bothAgree(dir, bytes, new Uint8Array(8), 32, "known-call", () => false);
  });
});
