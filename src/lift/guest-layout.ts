// The guest address space and the per-process state block, shared by the
// lifter (which bakes these addresses into code) and the vkernel (which
// fills them). ARCHITECTURE.md "Lifting" 3: wasm32 linear memory, guest
// address = memory offset, a null guard page, non-PIE executables at their
// link address, PIE executables at a fixed base, stack/brk/mmap below 4 GiB.

/** First byte past the null guard page. */
export const NULL_GUARD_END = 0x1000;

/** The state block: registers spilled at calls, syscalls and exits. */
export const STATE_BASE = 0x1000;
/** GPR i (RAX=0, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8 … R15) as u64. */
export const stateGpr = (index: number): number => STATE_BASE + index * 8;
/** The guest PC where the dispatcher continues. */
export const STATE_RIP = STATE_BASE + 0x80;
export const STATE_FS_BASE = STATE_BASE + 0x88;
export const STATE_GS_BASE = STATE_BASE + 0x90;
/** EFLAGS.DF as an i32 (0 or 1): only cld/std write it (SDM Vol. 1 §3.4.3.2). */
export const STATE_DF = STATE_BASE + 0x98;
/** Arithmetic flags as i32 0/1, in the order of FLAG_NAMES. */
export const stateFlag = (index: number): number => STATE_BASE + 0xa0 + index * 4;
/** XMM i as 16 bytes. */
export const stateXmm = (index: number): number => STATE_BASE + 0x100 + index * 16;
/** MXCSR (SDM Vol. 1 §10.2.3); default 0x1f80. */
export const STATE_MXCSR = STATE_BASE + 0x200;
/**
 * x87 (SDM Vol. 1 §8.1), kept by the vkernel's soft-float: control word,
 * status word (TOP in bits 11–13), the abridged tag byte (bit i set:
 * physical register i is not empty; 0 = all empty, as after FNINIT) and the
 * physical registers R0–R7 as 80-bit values (ST(i) is R((TOP + i) mod 8)).
 */
export const STATE_X87_CW = STATE_BASE + 0x204;
export const STATE_X87_SW = STATE_BASE + 0x208;
export const STATE_X87_TAG = STATE_BASE + 0x20c;
export const stateX87 = (index: number): number => STATE_BASE + 0x210 + index * 10;
/**
 * Non-zero (FLAG_WATCH) once the program has read or written MXCSR in a
 * fenv function (feclearexcept, fetestexcept…): from then on float code
 * runs in its checked flavour, which raises the exception flags of
 * arithmetic (semantics/sse-directed.ts).
 */
export const STATE_FLAG_WATCH = STATE_BASE + 0x260;
export const FLAG_WATCH = 0x10000;
/** The trap record the lifted code fills before it stops: pc, kind, detail. */
export const STATE_TRAP_PC = STATE_BASE + 0x280;
export const STATE_TRAP_ID = STATE_BASE + 0x288;
export const STATE_END = STATE_BASE + 0x300;

/** Where a static PIE (ET_DYN without PT_INTERP) is placed. */
export const PIE_BASE = 0x0100_0000;
/** mmap allocations grow upward from here. */
export const MMAP_BASE = 0x1000_0000;
/** The stack occupies [STACK_BOTTOM, STACK_TOP); it grows down from STACK_TOP. */
export const STACK_BOTTOM = 0x3c00_0000;
export const STACK_TOP = 0x4000_0000;
/** Initial linear memory: everything up to STACK_TOP (untouched pages cost nothing). */
export const INITIAL_MEMORY_PAGES = STACK_TOP / 65536;
export const MAXIMUM_MEMORY_PAGES = 65536;
export const PAGE_SIZE = 4096;

/** Names of the arithmetic flags in state order; also the bit order of FlagMask. */
export const FLAG_NAMES = ["CF", "PF", "AF", "ZF", "SF", "OF"] as const;
export type FlagName = (typeof FLAG_NAMES)[number];
