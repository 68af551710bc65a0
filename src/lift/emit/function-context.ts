// The state of one guest function while it is lifted: guest registers as
// wasm locals (i64 GPRs, v128 XMMs, i32 flags; ARCHITECTURE.md "Lifting" 2),
// the statements of the block being built, and the per-flag sources of the
// lazy flag scheme. Semantics read and write guest state only through here.
import binaryen from "binaryen";
import { ConditionCode, Register } from "iced-x86";
import { gprIndex, type DecodedInstruction, type MemoryOperand } from "../decode.js";
import { STATE_FS_BASE, STATE_GS_BASE, STATE_RIP, stateGpr, stateXmm } from "../guest-layout.js";
import {
  composeCondition,
  conditionFlags,
  FLAG_BITS,
  FlagEvaluator,
  type FlagRecord,
  type FlagSource,
  type LazyOp,
} from "./flags.js";
import { RESULT_DISPATCH, RESULT_HALT } from "../abi.js";
import { EVERY_REGISTER, type RegisterMask } from "./dirty-registers.js";
import { RegisterTracker } from "./register-tracker.js";
import { eachRegister, type ReloadPoint } from "./reload-points.js";
import { KnownValues } from "./known-values.js";
import { i32, i64, v128, Wasm, type Expr, type Size, type WasmType } from "./wasm.js";

/** Collects trap messages; the lifted code passes their index to the kernel. */
export interface TrapRegistry {
  register(pc: number, reason: string): number;
}

/** Internal name of the kernel's trap import: (pc: i64, trapId: i32) → void. */
export const TRAP_IMPORT = "kernel_trap";

export const PARAM_EXPECTED_RETURN = 0;
export const PARAM_ENTRY = 1;
const FIRST_GPR = 2;
const FIRST_XMM = FIRST_GPR + 16;
const FIRST_FLAG = FIRST_XMM + 16;
const FIRST_TEMP = FIRST_FLAG + FLAG_BITS.length;

export function registerSize(reg: Register): Size {
  if (reg >= Register.RAX && reg <= Register.R15) return 8;
  if (reg >= Register.EAX && reg <= Register.R15D) return 4;
  if (reg >= Register.AX && reg <= Register.R15W) return 2;
  return 1;
}

const isHigh8 = (reg: Register): boolean => reg >= Register.AH && reg <= Register.BH;

export class FunctionContext {
  readonly m: binaryen.Module;
  readonly flagEval: FlagEvaluator;
  /** Statements of the block being lifted. */
  stmts: Expr[] = [];
  /** The instruction being lifted (for diagnostics and traps). */
  ins!: DecodedInstruction;
  private readonly temps: WasmType[] = [];
  /** Temporaries by type, reused block after block (no value lives across blocks). */
  private readonly pools = new Map<WasmType, { locals: number[]; used: number }>();
  private flags: FlagSource[] = FLAG_BITS.map(() => ({ kind: "canonical" }) as const);
  /** The local counting loop back-edges before the CPU budget is charged (budget.ts). */
  budgetTicks: number | undefined;
  /** Dirty and live register locals (register-tracker.ts). */
  readonly registers = new RegisterTracker();
  /** Whether spill() stores only the dirty registers; off, it stores them all. */
  trackDirty = true;
  /** What this block knows about register and let() values (known-values.ts). */
  private readonly known: KnownValues;
  private readonly reloadPoints: ReloadPoint[] = [];

  constructor(
    readonly w: Wasm,
    readonly gprMask: number,
    readonly xmmMask: number,
    private readonly traps: TrapRegistry,
  ) {
    this.m = w.m;
    this.flagEval = new FlagEvaluator(w);
    this.known = new KnownValues(w);
  }

  /** Local types after the two parameters, for addFunction. */
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

  /**
   * Starts a new block: temporaries are free again and every flag is in its
   * canonical local. Lazy flag records never outlive their block, which is
   * what makes the reuse safe.
   */
  startBlock(): void {
    for (const pool of this.pools.values()) pool.used = 0;
    this.flags = FLAG_BITS.map(() => ({ kind: "canonical" }) as const);
    this.forgetValues();
  }

  /**
   * Drops what is known about register and let() values: at a block start,
   * before code that is built out of execution order (edge code, built after
   * every block) and before a loop whose body re-reads what it writes.
   */
  forgetValues(): void {
    this.known.forget();
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
    this.emit(this.m.local.set(FIRST_XMM + index, value));
  }

  // ---- memory ------------------------------------------------------------------

  /** The effective address as an i64 (SDM Vol. 1 §3.7.5), including an FS/GS base. */
  effectiveAddress(mem: MemoryOperand): Expr {
    const m = this.m;
    let address: Expr | undefined;
    const add = (e: Expr): void => {
      address = address === undefined ? e : m.i64.add(address, e);
    };
    if (mem.base !== Register.None) add(this.readReg(mem.base));
    if (mem.index !== Register.None) {
      const index = this.readReg(mem.index);
      add(mem.scale === 1 ? index : m.i64.shl(index, this.w.c64(Math.log2(mem.scale))));
    }
    if (mem.displacement !== 0n || address === undefined) add(this.w.c64(mem.displacement));
    if (mem.segment === Register.FS) add(m.i64.load(0, 8, this.w.c32(STATE_FS_BASE)));
    if (mem.segment === Register.GS) add(m.i64.load(0, 8, this.w.c32(STATE_GS_BASE)));
    const ea = address as Expr;
    // Address-size override (67h) is rare in 64-bit code; registers are already 32-bit then.
    return ea;
  }

  /**
   * The effective address as a linear-memory pointer. Guest address =
   * offset in a 32-bit memory, so the sum is taken modulo 2^32 and computed
   * in i32 from the start: V8 folds it into one x86 addressing mode (a
   * 32-bit lea already zero-extends), where the i64 sum needed a wrap after
   * it. The displacement stays in the sum, not in the load's offset field:
   * a negative index register plus a table address must wrap, not trap.
   */
  pointer(mem: MemoryOperand): Expr {
    const m = this.m;
    const w = this.w;
    let address: Expr | undefined;
    const add = (e: Expr): void => {
      address = address === undefined ? e : m.i32.add(address, e);
    };
    if (mem.base !== Register.None) add(w.wrap32(this.readReg(mem.base)));
    if (mem.index !== Register.None) {
      const index = w.wrap32(this.readReg(mem.index));
      add(mem.scale === 1 ? index : m.i32.shl(index, w.c32(Math.log2(mem.scale))));
    }
    const displacement = Number(BigInt.asIntN(32, mem.displacement));
    if (displacement !== 0 || address === undefined) add(w.c32(displacement));
    if (mem.segment === Register.FS) add(m.i32.load(0, 4, w.c32(STATE_FS_BASE)));
    if (mem.segment === Register.GS) add(m.i32.load(0, 4, w.c32(STATE_GS_BASE)));
    return address as Expr;
  }

  memory(): MemoryOperand {
    const mem = this.ins.memory;
    if (mem === undefined) throw new Error("instruction has no memory operand");
    return mem;
  }

  // ---- operands ----------------------------------------------------------------

  operandSize(index: number): Size {
    const op = this.ins.operands[index];
    if (op?.kind === "reg") return registerSize(op.reg);
    if (op?.kind === "mem") return (this.memory().size || 8) as Size;
    if (op?.kind === "imm") return op.size as Size;
    return 8;
  }

  /** Operand `index` zero-extended to i64; immediates sign-extended to `size` first. */
  read(index: number, size: Size = this.operandSize(0)): Expr {
    const op = this.ins.operands[index];
    if (op === undefined) throw new Error(`missing operand ${index}`);
    switch (op.kind) {
      case "reg":
        return this.readReg(op.reg);
      case "mem":
        return this.w.load(this.operandSize(index), this.pointer(this.memory()));
      case "imm":
        return this.w.c64(BigInt.asUintN(size * 8, op.value));
      case "branch":
        return this.w.c64(op.target);
    }
  }

  write(index: number, value: Expr): void {
    const op = this.ins.operands[index];
    if (op?.kind === "reg") return this.writeReg(op.reg, value);
    if (op?.kind === "mem") {
      this.emit(this.w.store(this.operandSize(index), this.pointer(this.memory()), value));
      return;
    }
    throw new Error(`operand ${index} is not writable`);
  }

  // ---- flags -------------------------------------------------------------------

  /** Records `op` over (a, b) → result for the flags in `mask`; returns the result local. */
  setLazyFlags(
    op: LazyOp,
    size: Size,
    a: Expr,
    b: Expr,
    result: Expr,
    mask: number,
    carry?: number,
  ): number {
    const w = this.w;
    const record: FlagRecord = {
      op,
      size,
      a: this.let(w.truncate(a, size)),
      b: this.let(w.truncate(b, size)),
      result: this.let(w.truncate(result, size)),
      carry,
    };
    this.assignFlags(mask, { kind: "record", record });
    return record.result;
  }

  /** Sets one flag to an i32 0/1 value. */
  setFlag(bit: number, value: Expr): void {
    this.assignFlags(bit, { kind: "value", local: this.let(value, i32) });
  }

  /** Sets the flags in `mask` to 0 (used for flags the SDM leaves undefined). */
  clearFlags(mask: number): void {
    if (mask === 0) return;
    this.assignFlags(mask, { kind: "value", local: this.let(this.w.c32(0), i32) });
  }

  private assignFlags(mask: number, source: FlagSource): void {
    FLAG_BITS.forEach((bit, k) => {
      if ((mask & bit) !== 0) this.flags[k] = source;
    });
  }

  /** The current value of one flag as i32 0/1. */
  flag(bit: number): Expr {
    const k = FLAG_BITS.indexOf(bit as (typeof FLAG_BITS)[number]);
    const source = this.flags[k];
    if (source === undefined) throw new Error(`flag bit ${bit}`);
    switch (source.kind) {
      case "canonical":
        return this.m.local.get(FIRST_FLAG + k, i32);
      case "value":
        return this.m.local.get(source.local, i32);
      case "record":
        return this.flagEval.flag(source.record, bit);
    }
  }

  /** A condition code as i32 0/1, fused with its producing record when possible. */
  condition(cc: ConditionCode): Expr {
    const needed = conditionFlags(cc);
    let record: FlagRecord | undefined;
    let single = true;
    FLAG_BITS.forEach((bit, k) => {
      if ((needed & bit) === 0) return;
      const s = this.flags[k];
      if (s?.kind !== "record") single = false;
      else if (record === undefined) record = s.record;
      else if (record !== s.record) single = false;
    });
    if (single && record !== undefined) {
      const fused = this.flagEval.fused(record, cc);
      if (fused !== undefined) return fused;
    }
    return composeCondition(this.w, cc, (bit) => this.flag(bit));
  }

  /** Writes the flags in `live` to their canonical locals (end of a block). */
  materializeFlags(live: number): void {
    FLAG_BITS.forEach((bit, k) => {
      if ((live & bit) !== 0 && this.flags[k]?.kind !== "canonical") {
        this.emit(this.m.local.set(FIRST_FLAG + k, this.flag(bit)));
      }
    });
  }

  // ---- state block ---------------------------------------------------------------

  /**
   * Stores the registers this function keeps in locals and has written to
   * the state block (of those in `only`: a call stores what its callee can touch).
   */
  spill(only: RegisterMask = EVERY_REGISTER): Expr[] {
    const out: Expr[] = [];
    const dirty = this.registers.dirty;
    const gprs = (this.trackDirty ? this.gprMask & dirty.gpr : this.gprMask) & only.gpr;
    const xmms = (this.trackDirty ? this.xmmMask & dirty.xmm : this.xmmMask) & only.xmm;
    for (let i = 0; i < 16; i++) {
      if ((gprs & (1 << i)) !== 0) {
        out.push(this.m.i64.store(0, 8, this.w.c32(stateGpr(i)), this.gpr(i)));
      }
      if ((xmms & (1 << i)) !== 0) {
        out.push(this.m.v128.store(0, 16, this.w.c32(stateXmm(i)), this.xmm(i)));
      }
    }
    return out;
  }

  /**
   * Loads the registers this function keeps in locals from the state block
   * (of those in `only`: after a call, what the callee can have written).
   */
  reload(only: RegisterMask = EVERY_REGISTER): Expr[] {
    const gprs = this.gprMask & only.gpr;
    const xmms = this.xmmMask & only.xmm;
    this.registers.reloaded(gprs, xmms);
    const registers = eachRegister(gprs, xmms);
    const block = this.w.block(registers.flatMap((r) => this.load(r)));
    this.reloadPoints.push({ block, registers, use: this.registers.usePoint() });
    return [block];
  }

  /** The reloads emitted since the last call, for pruning (reload-points.ts). */
  takeReloadPoints(): ReloadPoint[] {
    return this.reloadPoints.splice(0);
  }

  /** Loads the registers in `mask` that this function keeps in locals (an entry's live ones). */
  load(mask: RegisterMask): Expr[] {
    const out: Expr[] = [];
    const gprs = this.gprMask & mask.gpr;
    const xmms = this.xmmMask & mask.xmm;
    for (let i = 0; i < 16; i++) {
      if ((gprs & (1 << i)) !== 0) {
        this.known.gprSet(i, undefined);
        out.push(this.m.local.set(FIRST_GPR + i, this.m.i64.load(0, 8, this.w.c32(stateGpr(i)))));
      }
      if ((xmms & (1 << i)) !== 0) {
        out.push(this.m.local.set(FIRST_XMM + i, this.m.v128.load(0, 16, this.w.c32(stateXmm(i)))));
      }
    }
    return out;
  }

  /** The local that holds flag k (FLAG_BITS order) between blocks. */
  canonicalFlagLocal(k: number): number {
    return FIRST_FLAG + k;
  }

  /**
   * Stops the process with a message naming the binary, this instruction's
   * address and `reason` (ARCHITECTURE.md "Lifting" 6): the state is spilled,
   * the kernel's trap import records it, and the code returns RESULT_HALT.
   */
  trap(reason: string, pc: number = this.ins.ip): Expr {
    const id = this.traps.register(pc, reason);
    return this.w.block([
      ...this.spill(),
      this.m.call(TRAP_IMPORT, [this.w.c64(pc), this.w.c32(id)], binaryen.none),
      this.m.return(this.w.c32(RESULT_HALT)),
    ]);
  }

  /** Spill, set the guest PC, and return to the dispatcher. */
  exitToDispatcher(pc: Expr): Expr {
    return this.w.block([
      ...this.spill(),
      this.m.i64.store(0, 8, this.w.c32(STATE_RIP), pc),
      this.m.return(this.w.c32(RESULT_DISPATCH)),
    ]);
  }
}
