// Decoding into compact records: operands, memory operands (RIP-relative
// resolved, FS segment kept), flags read/written, implicit registers.
import { Mnemonic, Register } from "iced-x86";
import { describe, expect, it } from "vitest";
import { CodeDecoder, gprIndex } from "../../src/lift/decode.js";
import { CF, OF, SF, ZF } from "../../src/lift/emit/flags.js";

function decodeOne(bytes: number[], address = 0x401000) {
  const decoder = new CodeDecoder([{ address, bytes: new Uint8Array(bytes) }]);
  try {
    return decoder.decodeAt(address);
  } finally {
    decoder.dispose();
  }
}

describe("CodeDecoder", () => {
  it("resolves RIP-relative operands to absolute addresses", () => {
    // lea rsi, [rip+0xff4] at 0x1005 (hello-nolibc's message)
    const ins = decodeOne([0x48, 0x8d, 0x35, 0xf4, 0x0f, 0x00, 0x00], 0x1005);
    expect(ins?.mnemonic).toBe(Mnemonic.Lea);
    expect(ins?.memory?.base).toBe(Register.None);
    expect(ins?.memory?.displacement).toBe(0x2000n);
  });

  it("keeps base, index, scale, displacement and the FS segment", () => {
    // mov rax, fs:[rbx+rcx*8-0x10]
    const ins = decodeOne([0x64, 0x48, 0x8b, 0x44, 0xcb, 0xf0]);
    expect(ins?.memory).toMatchObject({
      base: Register.RBX,
      index: Register.RCX,
      scale: 8,
      displacement: -16n,
      segment: Register.FS,
      size: 8,
    });
    expect(ins?.operands[0]).toEqual({ kind: "reg", reg: Register.RAX });
  });

  it("reports flags read and written from iced's rflags info", () => {
    const cmp = decodeOne([0x48, 0x39, 0xd8]); // cmp rax, rbx
    expect(cmp?.flagsModified && cmp.flagsModified & (CF | ZF | SF | OF)).toBe(CF | ZF | SF | OF);
    expect(cmp?.flagsRead).toBe(0);
    const jl = decodeOne([0x7c, 0x00]); // jl +0
    expect(jl?.flagsRead).toBe(SF | OF);
    expect(jl?.target).toBe(0x401002);
  });

  it("records implicit registers (mul uses RAX and RDX)", () => {
    const mul = decodeOne([0x48, 0xf7, 0xe3]); // mul rbx
    expect(mul?.gprMask).toBe(
      (1 << gprIndex(Register.RAX)) | (1 << gprIndex(Register.RDX)) | (1 << gprIndex(Register.RBX)),
    );
  });

  it("returns null for bytes that do not decode or run past the range", () => {
    expect(decodeOne([0x0f, 0xff])).toBeNull();
    expect(decodeOne([0x48, 0x8b])).toBeNull();
    expect(decodeOne([0x90], 0x401000)?.mnemonic).toBe(Mnemonic.Nop);
  });
});

describe("CodeDecoder: CPUID features the CPU model lacks", () => {
  // cpu-model.ts reports x86-64-v2 without AVX, BMI or XSAVE.
  it("names the missing feature of AVX, AVX2, AVX-512 and BMI instructions", () => {
    expect(decodeOne([0xc5, 0xfe, 0x6f, 0x07])?.requires).toBe("AVX"); // vmovdqu ymm0, [rdi]
    expect(decodeOne([0xc4, 0xe2, 0x7d, 0x78, 0xc1])?.requires).toBe("AVX2"); // vpbroadcastb ymm0, xmm1
    expect(decodeOne([0x62, 0xe1, 0xfe, 0x48, 0x6f, 0x07])?.requires).toBe("AVX512F"); // vmovdqu64 zmm16, [rdi]
    expect(decodeOne([0xc4, 0xe2, 0x78, 0xf2, 0xc1])?.requires).toBe("BMI1"); // andn eax, eax, ecx
  });

  it("accepts baseline and SSE instructions, endbr64 and the rep-bsf form of tzcnt", () => {
    expect(decodeOne([0xf3, 0x0f, 0x6f, 0x07])?.requires).toBeUndefined(); // movdqu xmm0, [rdi]
    expect(decodeOne([0x66, 0x0f, 0x38, 0x00, 0xc1])?.requires).toBeUndefined(); // pshufb (SSSE3)
    expect(decodeOne([0xf3, 0x0f, 0x1e, 0xfa])?.requires).toBeUndefined(); // endbr64
    expect(decodeOne([0xf3, 0x48, 0x0f, 0xbc, 0xc0])?.requires).toBeUndefined(); // tzcnt rax, rax
  });

  it("formats the instruction text on demand", () => {
    expect(decodeOne([0x48, 0x01, 0xd8])?.text).toBe("add rax,rbx");
  });
});
