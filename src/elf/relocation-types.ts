// x86-64 relocation types (System V x86-64 psABI, "Relocation Types",
// table 4.9 and the TLS supplement), numbered and named as in <elf.h>. A
// lifter meets only the dynamic ones (RELATIVE, GLOB_DAT, JUMP_SLOT, 64,
// IRELATIVE, COPY and the TLS trio); the rest are named for readable output.

export const R_X86_64_NONE = 0;
export const R_X86_64_64 = 1;
export const R_X86_64_PC32 = 2;
export const R_X86_64_COPY = 5;
export const R_X86_64_GLOB_DAT = 6;
export const R_X86_64_JUMP_SLOT = 7;
export const R_X86_64_RELATIVE = 8;
export const R_X86_64_DTPMOD64 = 16;
export const R_X86_64_DTPOFF64 = 17;
export const R_X86_64_TPOFF64 = 18;
export const R_X86_64_TLSDESC = 36;
export const R_X86_64_IRELATIVE = 37;
export const R_X86_64_RELATIVE64 = 38;

const NAMES: readonly string[] = [
  "NONE",
  "64",
  "PC32",
  "GOT32",
  "PLT32",
  "COPY",
  "GLOB_DAT",
  "JUMP_SLOT",
  "RELATIVE",
  "GOTPCREL",
  "32",
  "32S",
  "16",
  "PC16",
  "8",
  "PC8",
  "DTPMOD64",
  "DTPOFF64",
  "TPOFF64",
  "TLSGD",
  "TLSLD",
  "DTPOFF32",
  "GOTTPOFF",
  "TPOFF32",
  "PC64",
  "GOTOFF64",
  "GOTPC32",
  "GOT64",
  "GOTPCREL64",
  "GOTPC64",
  "GOTPLT64",
  "PLTOFF64",
  "SIZE32",
  "SIZE64",
  "GOTPC32_TLSDESC",
  "TLSDESC_CALL",
  "TLSDESC",
  "IRELATIVE",
  "RELATIVE64",
  "", // 39, 40: deprecated and unassigned
  "",
  "GOTPCRELX",
  "REX_GOTPCRELX",
];

/** "R_X86_64_RELATIVE" for 8; "R_X86_64_<n>" for a number the psABI does not define. */
export function x86RelocationName(type: number): string {
  const name = NAMES[type];
  return `R_X86_64_${name === undefined || name === "" ? String(type) : name}`;
}
