// rcpps, rcpss, rsqrtps and rsqrtss return approximations whose low bits
// differ between CPU models (the SDM bounds the relative error by
// 1.5·2⁻¹²). The lifted forms return the correctly rounded value, the same
// on every host; this test checks that value exactly, checks that it is
// within the architectural bound of what this machine's CPU returns, and
// checks the special cases (±0, ±∞, NaN, denormal and negative sources)
// bit for bit against the CPU. The other SSE forms are compared exactly in
// semantics-sse-sweep.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, Instruction, Register } from "iced-x86";
import { afterAll, describe, expect, it } from "vitest";
import { Assembler, data, programElf, runLiftedElf, runNativeElf } from "./semantics-harness.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-sse-approximate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Finite normal sources, and the special ones: compared bit for bit where
 * the exact result is not a finite normal float (±0, ±∞, NaN and denormal
 * sources, a negative rsqrt source, a reciprocal too small to be normal).
 */
const NORMAL = [1, 3, -7.5, 0.1, 1e-30, 1e30, 4, 0.25, 12345.678, -1e-20, 1.5e-38];
const SPECIAL_BITS = [
  0x00000000, // +0
  0x80000000, // −0
  0x7f800000, // +∞
  0xff800000, // −∞
  0x7fc01234, // quiet NaN with a payload
  0x7f800abc, // signaling NaN
  0x00012345, // +denormal: counts as +0
  0x80012345, // −denormal
  0xc0800000, // −4: rsqrt's default NaN
  0x7f000000, // 2^127: its reciprocal is tiny, flushed to +0
];

const FORMS = [
  { name: "rcpps", code: Code.Rcpps_xmm_xmmm128, exact: (x: number) => 1 / x },
  { name: "rsqrtps", code: Code.Rsqrtps_xmm_xmmm128, exact: (x: number) => 1 / Math.sqrt(x) },
  { name: "rcpss", code: Code.Rcpss_xmm_xmmm32, exact: (x: number) => 1 / x },
  { name: "rsqrtss", code: Code.Rsqrtss_xmm_xmmm32, exact: (x: number) => 1 / Math.sqrt(x) },
] as const;

function sources(): Buffer {
  const b = Buffer.alloc(Math.ceil((NORMAL.length + SPECIAL_BITS.length) / 4) * 16);
  NORMAL.forEach((v, i) => b.writeFloatLE(v, i * 4));
  SPECIAL_BITS.forEach((v, i) => b.writeUInt32LE(v, (NORMAL.length + i) * 4));
  return b;
}

describe("reciprocal approximations", () => {
  it("are correctly rounded, within 1.5·2⁻¹² of the CPU's, and equal to it on special values", async () => {
    const input = sources();
    const count = input.length / 4;
    const asm = new Assembler();
    // Each source on its own in lane 0 (scalar forms) or all at once (packed forms).
    let slot = 0;
    for (const form of FORMS) {
      for (let i = 0; i < count; i++) {
        asm.emit(Instruction.createRegMem(Code.Movss_xmm_xmmm32, Register.XMM1, data(i * 4)));
        asm.emit(Instruction.createRegReg(Code.Pcmpeqd_xmm_xmmm128, Register.XMM0, Register.XMM0));
        asm.emit(Instruction.createRegReg(form.code, Register.XMM0, Register.XMM1));
        asm.storeXmm(Register.XMM0, 16 * slot++);
      }
    }
    const elf = programElf(asm.bytes(), input, 16 * slot);
    const cpuRun = runNativeElf(elf, dir, "sse-approximate");
    expect(cpuRun.status).toBe(0);
    const liftedRun = await runLiftedElf(elf, dir);
    expect(liftedRun.stderr).toBe("");
    expect(liftedRun.status).toBe(0);
    const native = cpuRun.stdout;
    const lifted = liftedRun.stdout;
    const wrong: string[] = [];
    slot = 0;
    for (const form of FORMS) {
      for (let i = 0; i < count; i++, slot++) {
        const at = slot * 16;
        const label = `${form.name} of 0x${input.readUInt32LE(i * 4).toString(16)}`;
        // Lanes 1–3: the reciprocals of +0 (packed) or the all-ones marker (scalar).
        if (!lifted.subarray(at + 4, at + 16).equals(native.subarray(at + 4, at + 16)))
          wrong.push(`${label}: upper lanes`);
        const ours = lifted.readUInt32LE(at);
        const theirs = native.readUInt32LE(at);
        const x = input.readFloatLE(i * 4);
        const exact = form.exact(x);
        const denormal = x !== 0 && Math.abs(x) < 2 ** -126;
        if (denormal || !Number.isFinite(exact) || Math.abs(exact) < 2 ** -126) {
          if (ours !== theirs)
            wrong.push(`${label}: lifted 0x${ours.toString(16)}, CPU 0x${theirs.toString(16)}`);
          continue;
        }
        const value = lifted.readFloatLE(at);
        if (value !== Math.fround(exact))
          wrong.push(`${label}: ${value}, correctly rounded ${Math.fround(exact)}`);
        const cpu = native.readFloatLE(at);
        if (Math.abs(value - cpu) > 1.5 * 2 ** -12 * Math.abs(exact))
          wrong.push(`${label}: ${value} is not within 1.5·2⁻¹² of the CPU's ${cpu}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
