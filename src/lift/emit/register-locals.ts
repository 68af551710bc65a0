// Guest registers as wasm locals while a function is lifted (ARCHITECTURE.md
// "Lifting" 2): i64 GPRs and v128 XMMs with x86-64's partial-register rules,
// the block's temporaries and statements, and what the block knows about
// values (known-values.ts). FunctionContext (function-context.ts) builds
// operands, flags and the state block on top of this.
import type binaryen from "binaryen";
import { Register } from "iced-x86";
import { gprIndex, type DecodedInstruction } from "../decode.js";
import { FLAG_BITS } from "./flags.js";
import { RegisterTracker } from "./register-tracker.js";
import { KnownValues } from "./known-values.js";
import { f64, i32, i64, v128, type Expr, type Size, type Wasm, type WasmType } from "./wasm.js";

// Local layout after the three parameters (function-context.ts): GPRs, XMMs,
// flags, temporaries.
export const FIRST_GPR = 3;
export const FIRST_XMM = FIRST_GPR + 16;
export const FIRST_FLAG = FIRST_XMM + 16;
const FIRST_TEMP = FIRST_FLAG + FLAG_BITS.length;

export function registerSize(reg: Register): Size {
  if (reg >= Register.RAX && reg <= Register.R15) return 8;
  if (reg >= Register.EAX && reg <= Register.R15D) return 4;
  if (reg >= Register.AX && reg <= Register.R15W) return 2;
  return 1;
}

const isHigh8 = (reg: Register): boolean => reg >= Register.AH && reg <= Register.BH;

export class RegisterLocals {
  readonly m: binaryen.Module;
  /** Statements of the block being lifted. */
  stmts: Expr[] = [];
  /** The instruction being lifted (for diagnostics and traps). */
  ins!: DecodedInstruction;
  private readonly temps: WasmType[] = [];
  /** Temporaries by type, reused block after block (no value lives across blocks). */
  private readonly pools = new Map<WasmType, { locals: number[]; used: number }>();
  /** Dirty and live register locals (register-tracker.ts). */
  readonly registers = new RegisterTracker();
  /** What this block knows about register and let() values (known-values.ts). */
  protected readonly known: KnownValues;
  /**
   * The f64/f32 local each XMM register's lane 0 was last set from by
   * setXmmLow in this block: a scalar read takes it instead of extracting
   * the lane, so the merge into the v128 is off the dependency chain.
   */
  private xmmLow: ({ type: WasmType; local: number } | undefined)[] = [];

  constructor(
    readonly w: Wasm,
    readonly gprMask: number,
    readonly xmmMask: number,
  ) {
    this.m = w.m;
    this.known = new KnownValues(w);
  }

  /** Local types after the three parameters, for addFunction. */
  localTypes(): WasmType[] {
    return [
      ...Array<WasmType>(16).fill(i64),
      ...Array<WasmType>(16).fill(v128),
      ...Array<WasmType>(FLAG_BITS.length).fill(i32),
      ...this.temps,
    ];
  }

  emit(...exprs: Expr[]): void {
    this.stmts.push(...exprs);
  }

  /** Takes the statements built so far (the block's code). */
  takeStatements(): Expr[] {
    const s = this.stmts;
    this.stmts = [];
    return s;
  }

  /** A temporary local for use within the current block. */
  temp(type: WasmType): number {
    let pool = this.pools.get(type);
    if (pool === undefined) {
      pool = { locals: [], used: 0 };
      this.pools.set(type, pool);
    }
    if (pool.used < pool.locals.length) return pool.locals[pool.used++] as number;
    this.temps.push(type);
    const local = FIRST_TEMP + this.temps.length - 1;
    pool.locals.push(local);
    pool.used++;
    return local;
  }

  /** A local that no other block reuses (e.g. the relooper's label helper). */
  dedicatedLocal(type: WasmType): number {
    this.temps.push(type);
    return FIRST_TEMP + this.temps.length - 1;
  }

  /** Frees every temporary for reuse (a new block). */
  protected freeTemps(): void {
    for (const pool of this.pools.values()) pool.used = 0;
  }

  /**
   * Drops what is known about register and let() values: at a block start,
   * before code that is built out of execution order (edge code, built after
   * every block) and before a loop whose body re-reads what it writes.
   */
  forgetValues(): void {
    this.known.forget();
    this.xmmLow = [];
    this.mxcsrMode = undefined;
  }

  /**
   * An i32 local, loaded once per block, holding MXCSR's RC, FTZ and DAZ
   * bits (sse-directed.ts); forgotten with the block's other values and by
   * an instruction that may change MXCSR (forgetRounding).
   */
  private mxcsrMode: number | undefined;

  floatMode(load: () => Expr): Expr {
    this.mxcsrMode ??= this.let(load(), i32);
    return this.get(this.mxcsrMode, i32);
  }

  forgetRounding(): void {
    this.mxcsrMode = undefined;
  }

  /**
   * Evaluates `value` once into a fresh local; returns the local. The local
   * must not be set again (use mutableLocal() for that): get() relies on it
   * to hand out a constant instead of the local, or to skip truncations.
   */
  let(value: Expr, type: WasmType = i64): number {
    const local = this.temp(type);
    if (type === i64) this.known.letSet(local, value);
    this.emit(this.m.local.set(local, value));
    return local;
  }

  /** A fresh local set to `value` that the caller may set again (e.g. in a loop). */
  mutableLocal(value: Expr, type: WasmType = i64): number {
    const local = this.temp(type);
    this.emit(this.m.local.set(local, value));
    return local;
  }

  get(local: number, type: WasmType = i64): Expr {
    const e = this.m.local.get(local, type);
    return type === i64 ? this.known.letGet(local, e) : e;
  }

  // ---- general-purpose registers ------------------------------------------------

  /** The local of GPR `index`, for code that sets it directly (counts as a write). */
  gprLocal(index: number): number {
    this.registers.touched(1 << index, 0);
    this.known.gprSet(index, undefined);
    return FIRST_GPR + index;
  }

  gpr(index: number): Expr {
    this.registers.read(1 << index, 0);
    return this.known.gprGet(index, this.m.local.get(FIRST_GPR + index, i64));
  }

  setGpr(index: number, value: Expr): void {
    this.registers.written(1 << index, 0);
    // A 32-bit write leaves the upper half zero (SDM Vol. 1 §3.4.1.1): later
    // 32-bit reads in this block then need no truncation.
    this.known.gprSet(index, value);
    this.emit(this.m.local.set(FIRST_GPR + index, value));
  }

  /** The register's value zero-extended to i64 (AH…BH read bits 8–15). */
  readReg(reg: Register): Expr {
    const index = gprIndex(reg);
    if (index < 0) throw new Error(`not a general-purpose register: ${reg}`);
    const full = this.gpr(index);
    if (isHigh8(reg)) return this.w.truncate(this.m.i64.shr_u(full, this.w.c64(8)), 1);
    return this.w.truncate(full, registerSize(reg));
  }

  /** Writes with x86-64 rules: 32-bit writes zero-extend, 8/16-bit writes merge (SDM Vol. 1 §3.4.1.1). */
  writeReg(reg: Register, value: Expr): void {
    const index = gprIndex(reg);
    if (index < 0) throw new Error(`not a general-purpose register: ${reg}`);
    const size = registerSize(reg);
    const m = this.m;
    const w = this.w;
    if (size === 8) return this.setGpr(index, value);
    if (size === 4) return this.setGpr(index, w.truncate(value, 4));
    const shift = isHigh8(reg) ? 8 : 0;
    // The bytes above the write are known zero (e.g. `xor eax, eax; setb al`):
    // no merge with the old value.
    const known = this.known.gprWidth(index);
    if (shift === 0 && known !== undefined && known <= size) {
      return this.setGpr(index, w.truncate(value, size));
    }
    const keep = ~(((1n << BigInt(size * 8)) - 1n) << BigInt(shift));
    const low = w.truncate(value, size);
    const inserted = shift === 0 ? low : m.i64.shl(low, w.c64(shift));
    this.setGpr(index, m.i64.or(m.i64.and(this.gpr(index), w.c64(keep)), inserted));
  }

  // ---- XMM registers --------------------------------------------------------------

  xmm(index: number): Expr {
    this.registers.read(0, 1 << index);
    return this.m.local.get(FIRST_XMM + index, v128);
  }

  setXmm(index: number, value: Expr): void {
    this.registers.written(0, 1 << index);
    this.xmmLow[index] = undefined;
    this.emit(this.m.local.set(FIRST_XMM + index, value));
  }

  /**
   * A scalar SSE result (`type` f64 or f32) into lane 0 of XMM `index`, the
   * other lanes kept (SDM Vol. 1 §11.4.1 "scalar" forms). In wasm the merge
   * is a replace_lane, which V8 compiles to a blend: chained scalar
   * operations (a sum of products) would wait for one blend each. The
   * value stays in its own local, and scalar reads of the lane later in
   * the block (xmmLowLane) take that local instead.
   */
  setXmmLow(index: number, type: WasmType, value: Expr): void {
    const local = this.temp(type);
    this.emit(this.m.local.set(local, value));
    const get = this.m.local.get(local, type);
    const old = this.xmm(index);
    this.setXmm(
      index,
      type === f64
        ? this.m.f64x2.replace_lane(old, 0, get)
        : this.m.f32x4.replace_lane(old, 0, get),
    );
    this.xmmLow[index] = { type, local };
  }

  /** Lane 0 of XMM `index` as an f64 or f32 (`type`). */
  xmmLowLane(index: number, type: WasmType): Expr {
    const low = this.xmmLow[index];
    if (low?.type === type) {
      this.registers.read(0, 1 << index);
      return this.m.local.get(low.local, type);
    }
    const v = this.xmm(index);
    return type === f64 ? this.m.f64x2.extract_lane(v, 0) : this.m.f32x4.extract_lane(v, 0);
  }

  /** Forgets what setXmmLow knew of XMM `index`: its local was set from elsewhere. */
  protected xmmReplaced(index: number): void {
    this.xmmLow[index] = undefined;
  }
}
