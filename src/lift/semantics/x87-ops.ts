// The x87 hypercall contract between lifted code and the vkernel: an x87
// instruction the wasm fast path (x87-wasm.ts) does not answer becomes
// `kernel.x87(id, address)`, where the i32 `id` packs the operation, its
// register operands, memory format and pop count, and `address` is the
// effective address of the memory operand (0 without one).
// Kept free of binaryen and iced-x86 so the runtime loads without the lifter.

/** Internal name of the kernel import: (id: i32, address: i32) → i32. */
export const X87_IMPORT = "kernel_x87";

/** Operations (bits 0–7 of the id). */
export const X87_OP = {
  // Loads and stores (Vol. 2A "FLD", "FILD", "FST", "FIST", "FISTTP", constants).
  LD: 1,
  ST: 2,
  IST: 3,
  ISTT: 4,
  LDCONST: 5,
  BSTP: 6,
  // Arithmetic: destination op= source; the R forms reverse the operands.
  ADD: 10,
  SUB: 11,
  SUBR: 12,
  MUL: 13,
  DIV: 14,
  DIVR: 15,
  // Comparisons and classification.
  COM: 20,
  UCOM: 21,
  COMI: 22,
  UCOMI: 23,
  TST: 24,
  XAM: 25,
  // One- and two-operand functions on ST(0) (and ST(1)).
  CHS: 30,
  ABS: 31,
  SQRT: 32,
  RNDINT: 33,
  SCALE: 34,
  XTRACT: 35,
  PREM: 36,
  PREM1: 37,
  F2XM1: 38,
  YL2X: 39,
  YL2XP1: 40,
  SIN: 41,
  COS: 42,
  SINCOS: 43,
  PTAN: 44,
  PATAN: 45,
  // Stack and control.
  XCH: 50,
  MOV: 51,
  FREE: 52,
  INCSTP: 53,
  DECSTP: 54,
  INIT: 55,
  CLEX: 56,
  STSW: 57,
  STCW: 58,
  LDCW: 59,
  STENV: 60,
  LDENV: 61,
  SAVE: 62,
  RSTOR: 63,
  FXSAVE: 64,
  FXRSTOR: 65,
} as const;
export type X87Op = (typeof X87_OP)[keyof typeof X87_OP];

/** Memory operand formats (bits 16–19); NONE means the operand is ST(i). */
export const X87_MEM = {
  NONE: 0,
  INT16: 1,
  INT32: 2,
  INT64: 3,
  FP32: 4,
  FP64: 5,
  FP80: 6,
  /** A control image (m2byte, m28byte, m512byte …) whose layout the operation defines. */
  IMAGE: 7,
  /** m80bcd: 18 packed decimal digits and a sign byte (SDM Vol. 1 §4.7). */
  BCD: 8,
} as const;
export type X87Mem = (typeof X87_MEM)[keyof typeof X87_MEM];

/** FLD constants in LDCONST's register field (Vol. 2A "FLD1/FLDL2T/…"). */
export const X87_CONST = { ONE: 0, L2T: 1, L2E: 2, PI: 3, LG2: 4, LN2: 5, Z: 6 } as const;

export interface X87Instruction {
  readonly op: X87Op;
  /** The ST(i) operand (or constant index). */
  readonly reg: number;
  /** Arithmetic writes ST(reg) instead of ST(0). */
  readonly toReg: boolean;
  readonly pops: number;
  readonly mem: X87Mem;
}

export function encodeX87(ins: X87Instruction): number {
  return ins.op | (ins.reg << 8) | (ins.toReg ? 1 << 11 : 0) | (ins.pops << 12) | (ins.mem << 16);
}

export function decodeX87(id: number): X87Instruction {
  return {
    op: (id & 0xff) as X87Op,
    reg: (id >> 8) & 7,
    toReg: ((id >> 11) & 1) === 1,
    pops: (id >> 12) & 3,
    mem: ((id >> 16) & 0xf) as X87Mem,
  };
}

/** FCOMI/FUCOMI results: these bits of the hypercall's return value. */
export const X87_ZF = 1;
export const X87_PF = 2;
export const X87_CF = 4;
