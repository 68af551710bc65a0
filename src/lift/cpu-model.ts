// The one CPU model the lifted code reports (ARCHITECTURE.md "Lifting" 4):
// x86-64-v2 — SSE2, SSE3, SSSE3, SSE4.1, SSE4.2, POPCNT, CMPXCHG16B,
// LAHF/SAHF — and no AVX, no XSAVE/OSXSAVE, no BMI, no RTM, no shadow
// stacks, so libc ifuncs pick their SSE2, SSSE3 and SSE4.2 variants. Values
// follow the SDM Vol. 2A "CPUID" tables.

export interface CpuidResult {
  readonly eax: number;
  readonly ebx: number;
  readonly ecx: number;
  readonly edx: number;
}

const bits = (...positions: number[]): number =>
  positions.reduce((acc, p) => (acc | (1 << p)) >>> 0, 0);

/** Leaf 1 EDX: FPU TSC CX8 CMOV CLFSH MMX FXSR SSE SSE2. */
const LEAF1_EDX = bits(0, 4, 8, 15, 19, 23, 24, 25, 26);
/**
 * Leaf 1 ECX: SSE3 SSSE3 CX16 SSE4.1 SSE4.2 POPCNT. With SSE4.2 glibc picks
 * its *_sse42 string functions (pcmpistri, semantics/sse42-string.ts) and
 * crc32 is available (semantics/crc32.ts).
 */
const LEAF1_ECX = bits(0, 9, 13, 19, 20, 23);

/** (leaf, subleaf) → registers; subleaf -1 means "any". */
export const CPUID_TABLE: readonly { leaf: number; subleaf: number; result: CpuidResult }[] = [
  // Max basic leaf 7, "GenuineIntel".
  { leaf: 0, subleaf: -1, result: { eax: 7, ebx: 0x756e6547, ecx: 0x6c65746e, edx: 0x49656e69 } },
  // Family 6 model 0x3a stepping 9; CLFLUSH line 8×8 bytes, 1 logical processor.
  {
    leaf: 1,
    subleaf: -1,
    result: { eax: 0x000306a9, ebx: 0x00010800, ecx: LEAF1_ECX, edx: LEAF1_EDX },
  },
  // Descriptor 0xff: "use leaf 4 for cache parameters".
  { leaf: 2, subleaf: -1, result: { eax: 0x00ff0001, ebx: 0, ecx: 0, edx: 0 } },
  // Deterministic cache parameters: L1d 32K/8-way, L1i 32K/8-way, L2 256K/4-way, L3 8M/16-way, 64-byte lines.
  { leaf: 4, subleaf: 0, result: { eax: 0x121, ebx: (7 << 22) | 63, ecx: 63, edx: 0 } },
  { leaf: 4, subleaf: 1, result: { eax: 0x122, ebx: (7 << 22) | 63, ecx: 63, edx: 0 } },
  { leaf: 4, subleaf: 2, result: { eax: 0x143, ebx: (3 << 22) | 63, ecx: 1023, edx: 0 } },
  { leaf: 4, subleaf: 3, result: { eax: 0x163, ebx: (15 << 22) | 63, ecx: 8191, edx: 1 } },
  { leaf: 0x80000000, subleaf: -1, result: { eax: 0x80000008, ebx: 0, ecx: 0, edx: 0 } },
  // LAHF/SAHF in 64-bit mode; SYSCALL, NX, LM.
  {
    leaf: 0x80000001,
    subleaf: -1,
    result: { eax: 0, ebx: 0, ecx: bits(0), edx: bits(11, 20, 29) },
  },
  { leaf: 0x80000008, subleaf: -1, result: { eax: 0x3030, ebx: 0, ecx: 0, edx: 0 } },
];

/** CPUID for a leaf and subleaf; unknown leaves read as zeros. */
export function cpuid(leaf: number, subleaf: number): CpuidResult {
  const hit = CPUID_TABLE.find(
    (e) => e.leaf === leaf >>> 0 && (e.subleaf === -1 || e.subleaf === subleaf),
  );
  return hit?.result ?? { eax: 0, ebx: 0, ecx: 0, edx: 0 };
}

/** XCR0 as XGETBV reports it: x87 and SSE state only (SDM Vol. 1 §13.3). */
export const XCR0 = 0x3;
