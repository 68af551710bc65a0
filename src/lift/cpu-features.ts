// Which instructions the CPU model (cpu-model.ts) lets a program reach.
// iced-x86 names the CPUID feature(s) each instruction needs; this file maps
// those names to the CPUID bits that announce them (SDM Vol. 2A "CPUID",
// Tables 3-8 to 3-10 and the leaf 07H / 80000001H / 0DH descriptions) and
// reads the bits from the model, so a feature the model starts reporting is
// accepted here without a second edit. Code needing a missing feature is only
// reachable through an ifunc resolver or a CPUID check that sees it missing.
import { CpuidFeature, Mnemonic } from "iced-x86";
import { cpuid, type CpuidResult } from "./cpu-model.js";

type Bit = readonly [leaf: number, subleaf: number, register: keyof CpuidResult, bit: number];

const FEATURE_BITS: ReadonlyMap<CpuidFeature, Bit> = new Map<CpuidFeature, Bit>([
  [CpuidFeature.SSE3, [1, 0, "ecx", 0]],
  [CpuidFeature.PCLMULQDQ, [1, 0, "ecx", 1]],
  [CpuidFeature.SSSE3, [1, 0, "ecx", 9]],
  [CpuidFeature.FMA, [1, 0, "ecx", 12]],
  [CpuidFeature.CMPXCHG16B, [1, 0, "ecx", 13]],
  [CpuidFeature.SSE4_1, [1, 0, "ecx", 19]],
  [CpuidFeature.SSE4_2, [1, 0, "ecx", 20]],
  [CpuidFeature.MOVBE, [1, 0, "ecx", 22]],
  [CpuidFeature.POPCNT, [1, 0, "ecx", 23]],
  [CpuidFeature.AES, [1, 0, "ecx", 25]],
  [CpuidFeature.XSAVE, [1, 0, "ecx", 26]],
  [CpuidFeature.AVX, [1, 0, "ecx", 28]],
  [CpuidFeature.F16C, [1, 0, "ecx", 29]],
  [CpuidFeature.RDRAND, [1, 0, "ecx", 30]],
  [CpuidFeature.FSGSBASE, [7, 0, "ebx", 0]],
  [CpuidFeature.BMI1, [7, 0, "ebx", 3]],
  [CpuidFeature.AVX2, [7, 0, "ebx", 5]],
  [CpuidFeature.BMI2, [7, 0, "ebx", 8]],
  [CpuidFeature.RTM, [7, 0, "ebx", 11]],
  [CpuidFeature.AVX512F, [7, 0, "ebx", 16]],
  [CpuidFeature.AVX512DQ, [7, 0, "ebx", 17]],
  [CpuidFeature.RDSEED, [7, 0, "ebx", 18]],
  [CpuidFeature.ADX, [7, 0, "ebx", 19]],
  [CpuidFeature.AVX512_IFMA, [7, 0, "ebx", 21]],
  [CpuidFeature.CLFLUSHOPT, [7, 0, "ebx", 23]],
  [CpuidFeature.CLWB, [7, 0, "ebx", 24]],
  [CpuidFeature.AVX512CD, [7, 0, "ebx", 28]],
  [CpuidFeature.SHA, [7, 0, "ebx", 29]],
  [CpuidFeature.AVX512BW, [7, 0, "ebx", 30]],
  [CpuidFeature.AVX512VL, [7, 0, "ebx", 31]],
  [CpuidFeature.AVX512_VBMI, [7, 0, "ecx", 1]],
  [CpuidFeature.AVX512_VBMI2, [7, 0, "ecx", 6]],
  [CpuidFeature.GFNI, [7, 0, "ecx", 8]],
  [CpuidFeature.VAES, [7, 0, "ecx", 9]],
  [CpuidFeature.VPCLMULQDQ, [7, 0, "ecx", 10]],
  [CpuidFeature.AVX512_VNNI, [7, 0, "ecx", 11]],
  [CpuidFeature.AVX512_BITALG, [7, 0, "ecx", 12]],
  [CpuidFeature.AVX512_VPOPCNTDQ, [7, 0, "ecx", 14]],
  [CpuidFeature.RDPID, [7, 0, "ecx", 22]],
  [CpuidFeature.XSAVEOPT, [0xd, 1, "eax", 0]],
  [CpuidFeature.XSAVEC, [0xd, 1, "eax", 1]],
  [CpuidFeature.XSAVES, [0xd, 1, "eax", 3]],
  [CpuidFeature.LZCNT, [0x80000001, 0, "ecx", 5]],
  [CpuidFeature.RDTSCP, [0x80000001, 0, "edx", 27]],
]);

/**
 * Features every x86-64 CPU has, or whose instructions execute as no-ops
 * where the feature is absent: endbr64 (CET_IBT) and rdssp (CET_SS) sit in
 * the hint-NOP space, xacquire/xrelease (HLE) and bnd (MPX) are ignored
 * prefixes, prefetchw is a NOP (SDM Vol. 2B "PREFETCHW").
 */
const BASELINE = new Set<CpuidFeature>([
  CpuidFeature.INTEL8086,
  CpuidFeature.INTEL186,
  CpuidFeature.INTEL286,
  CpuidFeature.INTEL386,
  CpuidFeature.INTEL486,
  CpuidFeature.X64,
  CpuidFeature.CPUID,
  CpuidFeature.MULTIBYTENOP,
  CpuidFeature.PAUSE,
  CpuidFeature.FPU,
  CpuidFeature.FPU287,
  CpuidFeature.FPU387,
  CpuidFeature.CMOV,
  CpuidFeature.CX8,
  CpuidFeature.TSC,
  CpuidFeature.MMX,
  CpuidFeature.SSE,
  CpuidFeature.SSE2,
  CpuidFeature.FXSR,
  CpuidFeature.CLFSH,
  CpuidFeature.SYSCALL,
  CpuidFeature.CET_IBT,
  CpuidFeature.CET_SS,
  CpuidFeature.HLE,
  CpuidFeature.MPX,
  CpuidFeature.PREFETCHW,
]);

const reported = new Map<CpuidFeature, boolean>();

function modelReports(feature: CpuidFeature): boolean {
  const known = reported.get(feature);
  if (known !== undefined) return known;
  const bit = FEATURE_BITS.get(feature);
  // Anything else (AMX, AVX-VNNI, XOP, SGX, …) the model never reports.
  const yes =
    BASELINE.has(feature) ||
    (bit !== undefined && ((cpuid(bit[0], bit[1])[bit[2]] >>> bit[3]) & 1) === 1);
  reported.set(feature, yes);
  return yes;
}

/**
 * The name of a feature in `features` (iced's list for one instruction) the
 * CPU model does not report, e.g. "AVX2"; undefined when the model has them
 * all. The last missing one is named: iced lists qualifiers such as
 * AVX512VL before the extension itself (AVX512F, AVX512BW).
 */
export function missingFeature(
  features: ArrayLike<number>,
  mnemonic?: Mnemonic,
): string | undefined {
  // `rep bsf` is TZCNT's encoding; a CPU without BMI1 runs it as BSF, and
  // gcc emits it for known non-zero operands, where both agree (SDM Vol. 2B
  // "TZCNT": "on processors that do not support TZCNT, the instruction
  // byte encoding is executed as BSF").
  if (mnemonic === Mnemonic.Tzcnt) return undefined;
  let missing: string | undefined;
  for (let i = 0; i < features.length; i++) {
    const f = features[i] as CpuidFeature;
    if (!modelReports(f)) missing = CpuidFeature[f];
  }
  return missing;
}
