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
