// A harness for instruction tests that need more than snippet-elf.ts's four
// registers: test code is assembled with iced-x86's encoder, reads inputs
// from a data segment (R14 = DATA) and writes any results it likes to an
// output area (R15 = OUT), which the epilogue writes to stdout. The same ELF
// runs natively and lifted, so expectations come from the real CPU.
import { spawnSync } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Code, Encoder, Instruction, MemoryOperand, Register } from "iced-x86";
import { expect } from "vitest";
import { liftElf } from "../../src/lift/lift-elf.js";
import { runLifted } from "../../src/vkernel/run.js";

const BASE = 0x400000;
const CODE_OFFSET = 0x100;
/** Inputs: file-backed, read-write. */
export const DATA = 0x600000;
/** Outputs: the same segment's zero-filled tail. */
export const OUT = 0x700000;

/** Assembles instructions one after another from the code start address. */
export class Assembler {
  private readonly encoder = new Encoder(64);
  private readonly chunks: Uint8Array[] = [];
  private ip = BigInt(BASE + CODE_OFFSET);

  emit(...instructions: Instruction[]): this {
    for (const ins of instructions) {
      const length = this.encoder.encode(ins, this.ip);
      this.chunks.push(this.encoder.takeBuffer());
      this.ip += BigInt(length);
      ins.free();
    }
    return this;
  }

  /** Raw bytes (for forms the encoder builder does not cover). */
  raw(bytes: readonly number[]): this {
    this.chunks.push(Uint8Array.from(bytes));
    this.ip += BigInt(bytes.length);
    return this;
  }

  /**
   * jmp to the next instruction: ends the lifted block, so a long test
   * sequence becomes many small blocks (each reuses its temporaries; one huge
   * block would give the wasm function a local per temporary).
   */
  endBlock(): this {
    return this.raw([0xeb, 0x00]);
  }

  /** The address of the next instruction (a branch target). */
  here(): number {
    return Number(this.ip);
  }

  /** jnz rel32 back (or forward) to `target`. */
  jnzTo(target: number): this {
    const rel = target - (Number(this.ip) + 6);
    const le = [0, 8, 16, 24].map((s) => (rel >> s) & 0xff);
    return this.raw([0x0f, 0x85, ...le]);
  }

  movImm(reg: Register, value: bigint): this {
    return this.emit(Instruction.createRegU64(Code.Mov_r64_imm64, reg, BigInt.asUintN(64, value)));
  }

  /** mov [R15 + offset], reg64 */
  storeGpr(reg: Register, offset: number): this {
    return this.emit(Instruction.createMemReg(Code.Mov_rm64_r64, out(offset), reg));
  }

  /** pushfq; pop qword [R15 + offset] */
  storeFlags(offset: number): this {
    return this.emit(
      Instruction.create(Code.Pushfq),
      Instruction.createMem(Code.Pop_rm64, out(offset)),
    );
  }

  /** mov rax, value; push rax; popfq — every arithmetic flag and DF at once. */
  setFlags(value: number): this {
    this.movImm(Register.RAX, BigInt(value));
    return this.emit(
      Instruction.createReg(Code.Push_r64, Register.RAX),
      Instruction.create(Code.Popfq),
    );
  }

  storeXmm(xmm: Register, offset: number): this {
    return this.emit(Instruction.createMemReg(Code.Movdqu_xmmm128_xmm, out(offset), xmm));
  }

  loadXmm(xmm: Register, dataOffset: number): this {
    return this.emit(Instruction.createRegMem(Code.Movdqu_xmm_xmmm128, xmm, data(dataOffset)));
  }

  bytes(): Uint8Array {
    this.encoder.free();
    return Buffer.concat(this.chunks);
  }
}

/** setcc into an 8-bit register, in condition-code order (o no b ae e ne be a s ns p np l ge le g). */
export const SETCC = [
  Code.Seto_rm8,
  Code.Setno_rm8,
  Code.Setb_rm8,
  Code.Setae_rm8,
  Code.Sete_rm8,
  Code.Setne_rm8,
  Code.Setbe_rm8,
  Code.Seta_rm8,
  Code.Sets_rm8,
  Code.Setns_rm8,
  Code.Setp_rm8,
  Code.Setnp_rm8,
  Code.Setl_rm8,
  Code.Setge_rm8,
  Code.Setle_rm8,
  Code.Setg_rm8,
];

/** [R15 + offset]: the output area. */
export const out = (offset: number): MemoryOperand =>
  MemoryOperand.createBaseDispl(Register.R15, BigInt(offset));
/** [R14 + offset]: the input data. */
export const data = (offset: number): MemoryOperand =>
  MemoryOperand.createBaseDispl(Register.R14, BigInt(offset));

function epilogue(outBytes: number): number[] {
  const le32 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24];
  return [
    ...[0xb8, ...le32(1)], // mov eax, 1 (write)
    ...[0xbf, ...le32(1)], // mov edi, 1
    ...[0xbe, ...le32(OUT)], // mov esi, OUT
    ...[0xba, ...le32(outBytes)], // mov edx, outBytes
    ...[0x0f, 0x05], // syscall
    ...[0xb8, ...le32(231)], // mov eax, 231 (exit_group)
    ...[0x31, 0xff], // xor edi, edi
    ...[0x0f, 0x05], // syscall
  ];
}

/**
 * A static ELF: code at BASE + CODE_OFFSET (prologue R14 = DATA, R15 = OUT,
 * then `body`, then write(1, OUT, outBytes) and exit_group(0)), and a data
 * segment with `input` at DATA and `outBytes` of zeros at OUT.
 */
export function programElf(body: Uint8Array, input: Uint8Array, outBytes: number): Uint8Array {
  const prologue = new Assembler()
    .movImm(Register.R14, BigInt(DATA))
    .movImm(Register.R15, BigInt(OUT));
  const code = Buffer.concat([prologue.bytes(), body, Uint8Array.from(epilogue(outBytes))]);
  const codeEnd = CODE_OFFSET + code.length;
  const dataOffset = Math.ceil(codeEnd / 0x1000) * 0x1000;
  const file = new Uint8Array(dataOffset + input.length);
  const v = new DataView(file.buffer);
  file.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 62, true); // EM_X86_64
  v.setUint32(20, 1, true);
  v.setBigUint64(24, BigInt(BASE + CODE_OFFSET), true);
  v.setBigUint64(32, 64n, true);
  v.setUint16(52, 64, true);
  v.setUint16(54, 56, true);
  v.setUint16(56, 2, true);
  v.setUint16(58, 64, true);
  const segment = (
    at: number,
    flags: number,
    offset: number,
    vaddr: number,
    filesz: number,
    memsz: number,
  ): void => {
    v.setUint32(at, 1, true); // PT_LOAD
    v.setUint32(at + 4, flags, true);
    v.setBigUint64(at + 8, BigInt(offset), true);
    v.setBigUint64(at + 16, BigInt(vaddr), true);
    v.setBigUint64(at + 24, BigInt(vaddr), true);
    v.setBigUint64(at + 32, BigInt(filesz), true);
    v.setBigUint64(at + 40, BigInt(memsz), true);
    v.setBigUint64(at + 48, 0x1000n, true);
  };
  segment(64, 5, 0, BASE, codeEnd, codeEnd); // R X
  segment(64 + 56, 6, dataOffset, DATA, input.length, OUT - DATA + outBytes); // R W
  file.set(code, CODE_OFFSET);
  file.set(input, dataOffset);
  return file;
}

export interface RunResult {
  readonly status: number | null;
  readonly signal: string | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

export async function runLiftedElf(elf: Uint8Array, root: string): Promise<RunResult> {
  const { wasm } = liftElf("harness", elf, { optimize: 1 });
  const stdout: Uint8Array[] = [];
  const stderr: Uint8Array[] = [];
  const status = await runLifted({
    module: await WebAssembly.compile(wasm),
    elfBytes: elf,
    root,
    argv: ["harness"],
    env: [],
    stdout: (b) => stdout.push(Uint8Array.from(b)),
    stderr: (b) => stderr.push(Uint8Array.from(b)),
  });
  return {
    status,
    signal: null,
    stdout: Buffer.concat(stdout),
    stderr: Buffer.concat(stderr).toString(),
  };
}

export function runNativeElf(elf: Uint8Array, dir: string, name: string): RunResult {
  const path = join(dir, name);
  writeFileSync(path, elf);
  chmodSync(path, 0o755);
  const r = spawnSync(path, [], { maxBuffer: 64 << 20 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** EFLAGS bits that are architectural here: CF PF AF ZF SF DF OF. */
export const FLAGS_MASK = 0xcd5n;

/**
 * Runs `body` natively and lifted and expects equal output, 64-bit word by
 * word (words for which `flagSlots` holds are compared under FLAGS_MASK).
 * Returns the native output; mismatches are listed with `label(word)`.
 */
export async function bothAgree(
  dir: string,
  body: Uint8Array,
  input: Uint8Array,
  outBytes: number,
  name: string,
  flagSlots: (i: number) => boolean,
  label: (i: number) => string = (i) => `word ${i}`,
): Promise<Buffer> {
  const elf = programElf(body, input, outBytes);
  const native = runNativeElf(elf, dir, name);
  expect(native.status).toBe(0);
  const lifted = await runLiftedElf(elf, dir);
  expect(lifted.stderr).toBe("");
  expect(lifted.status).toBe(0);
  const words = (b: Buffer): bigint[] =>
    Array.from({ length: b.length / 8 }, (_, i) => {
      const v = b.readBigUInt64LE(i * 8);
      return flagSlots(i) ? v & FLAGS_MASK : v;
    });
  const ours = words(lifted.stdout);
  const theirs = words(native.stdout);
  expect(ours.length).toBe(theirs.length);
  const wrong: string[] = [];
  for (let i = 0; i < theirs.length; i++)
    if (ours[i] !== theirs[i])
      wrong.push(
        `${label(i)}: lifted 0x${ours[i]?.toString(16)}, native 0x${theirs[i]?.toString(16)}`,
      );
  expect(wrong.slice(0, 12)).toEqual([]);
  return native.stdout;
}
