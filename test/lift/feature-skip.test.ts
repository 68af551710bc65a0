// Functions the CPU model never selects become trap stubs (feature-skip.ts):
// the decision counts the instructions needing a missing CPUID feature.
import { describe, expect, it } from "vitest";
import { CodeDecoder, type DecodedInstruction } from "../../src/lift/decode.js";
import type { DiscoveredFunction } from "../../src/lift/discover.js";
import { unselectableFeature } from "../../src/lift/feature-skip.js";

const VPBROADCASTB = [0xc4, 0xe2, 0x7d, 0x78, 0xc1]; // AVX2
const VMOVDQU_YMM = [0xc5, 0xfe, 0x6f, 0x07]; // AVX
const MOV_RAX_RDI = [0x48, 0x89, 0xf8];
const XGETBV = [0x0f, 0x01, 0xd0]; // XSAVE

/** One block holding the given instructions, decoded at 0x401000. */
function fnOf(code: readonly (readonly number[])[]): DiscoveredFunction {
  const bytes = new Uint8Array(code.flat());
  const decoder = new CodeDecoder([{ address: 0x401000, bytes }]);
  try {
    const instructions: DecodedInstruction[] = [];
    for (let at = 0x401000; at < 0x401000 + bytes.length;) {
      const ins = decoder.decodeAt(at) as DecodedInstruction;
      instructions.push(ins);
      at += ins.length;
    }
    const end = 0x401000 + bytes.length;
    const block = { start: 0x401000, instructions, end, undecodable: false };
    return { entry: 0x401000, blocks: new Map([[0x401000, block]]) };
  } finally {
    decoder.dispose();
  }
}

describe("unselectableFeature", () => {
  it("names the feature most instructions of an ifunc variant need", () => {
    const avx2 = fnOf([
      MOV_RAX_RDI,
      ...Array<number[]>(5).fill(VPBROADCASTB),
      ...Array<number[]>(2).fill(VMOVDQU_YMM),
      ...Array<number[]>(8).fill(MOV_RAX_RDI),
    ]);
    expect(unselectableFeature(avx2)).toBe("AVX2");
  });

  it("keeps a function that only tests for a feature", () => {
    // init_cpu_features: one xgetbv among many ordinary instructions.
    expect(unselectableFeature(fnOf([XGETBV, ...Array<number[]>(30).fill(MOV_RAX_RDI)]))).toBe(
      undefined,
    );
    // Too few needing instructions to decide, even at a high fraction.
    expect(unselectableFeature(fnOf([VMOVDQU_YMM, VMOVDQU_YMM, MOV_RAX_RDI]))).toBe(undefined);
  });
});
