// The state of one guest function while it is lifted: on top of its
// registers as locals (register-locals.ts), the instruction's operands and
// memory addresses, the per-flag sources of the lazy flag scheme, and the
// state block (spills, reloads, traps, exits to the dispatcher). Semantics
// read and write guest state only through here.
import binaryen from "binaryen";
import { ConditionCode, Register } from "iced-x86";
import type { MemoryOperand } from "../decode.js";
import { STATE_FS_BASE, STATE_GS_BASE, STATE_RIP, stateGpr, stateXmm } from "../guest-layout.js";
import {
  CF,
  composeCondition,
  conditionFlags,
  FLAG_BITS,
  PF,
  ZF,
  FlagEvaluator,
  type FlagRecord,
  type FlagSource,
  type LazyOp,
} from "./flags.js";
import { RESULT_DISPATCH, RESULT_HALT } from "../abi.js";
import { EVERY_REGISTER, type RegisterMask } from "./dirty-registers.js";
import { eachRegister, type ReloadPoint } from "./reload-points.js";
import {
  FIRST_FLAG,
  FIRST_GPR,
  FIRST_XMM,
  RegisterLocals,
  registerSize,
} from "./register-locals.js";
import { i32, i64, type Expr, type Size, type Wasm } from "./wasm.js";

export { registerSize } from "./register-locals.js";

/** Collects trap messages; the lifted code passes their index to the kernel. */
export interface TrapRegistry {
  register(pc: number, reason: string): number;
}

/** Internal name of the kernel's trap import: (pc: i64, trapId: i32) → void. */
export const TRAP_IMPORT = "kernel_trap";

const RSP = 4;

export const PARAM_EXPECTED_RETURN = 0;
export const PARAM_ENTRY = 1;
/**
 * The RSP a normal return leaves (the caller's, before it pushed the return
 * address): `ret` returns to the wasm caller only when both match, so the
 * caller keeps its RSP in its local instead of reloading it (control-flow.ts).
 */
export const PARAM_EXPECTED_RSP = 2;

/** Every lifted function's parameters: (expected return, entry index, expected RSP) → result code. */
export function liftedParams(): binaryen.Type {
  return binaryen.createType([i64, i32, i64]);
}

export class FunctionContext extends RegisterLocals {
  readonly flagEval: FlagEvaluator;
  private flags: FlagSource[] = FLAG_BITS.map(() => ({ kind: "canonical" }) as const);
  /** The local counting loop back-edges before the CPU budget is charged (budget.ts). */
  budgetTicks: number | undefined;
  /** Per inlined call site, the local holding the RSP from before its push (inline-calls.ts). */
  private readonly siteRsp = new Map<number, number>();
  /** Whether spill() stores only the dirty registers; off, it stores them all. */
  trackDirty = true;
  /**
   * Whether float operations that round check MXCSR.RC and honour a
   * directed mode (sse-directed.ts); off, they round to nearest, and the
   * function forwards to its checked twin whenever RC is not nearest
   * (rounding-twins.ts).
   */
  roundingChecked = false;
  /** Whether an unchecked function has a checked twin (rounding-twins.ts). */
  roundingTwin = false;
  /** The flush flavour: MXCSR is FTZ|DAZ, rounding to nearest (sse-flush.ts). */
  flushing = false;
  /**
   * Whether the function reads the x87 exception state too (fnstsw,
   * fnstenv): a fenv function (fetestexcept, feclearexcept), whose stmxcsr
   * or ldmxcsr starts the watch on MXCSR's flags (semantics/sse-directed.ts).
   */
  fenvFunction = false;
  private readonly reloadPoints: ReloadPoint[] = [];

  constructor(
    w: Wasm,
    gprMask: number,
    xmmMask: number,
    private readonly traps: TrapRegistry,
  ) {
    super(w, gprMask, xmmMask);
    this.flagEval = new FlagEvaluator(w);
  }

  /**
   * Starts a new block: temporaries are free again and every flag is in its
   * canonical local. Lazy flag records never outlive their block, which is
   * what makes the reuse safe.
   */
  startBlock(): void {
    this.freeTemps();
    this.flags = FLAG_BITS.map(() => ({ kind: "canonical" }) as const);
    this.forgetValues();
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

  /**
   * ucomisd/comisd (size 8) and ucomiss/comiss (size 4) of the float locals
   * `a` and `b`: ZF, PF and CF from a lazy record, so that a jcc becomes one
   * float comparison (flags.ts).
   */
  setFloatCompareFlags(size: 4 | 8, a: number, b: number): void {
    this.assignFlags(ZF | PF | CF, {
      kind: "record",
      record: { op: "fcmp", size, a, b, result: a },
    });
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
   * (of those in `only`: after a call, what the callee can have written),
   * or RSP from `rsp` when the caller knows the value the state block holds.
   */
  reload(only: RegisterMask = EVERY_REGISTER, rsp?: Expr): Expr[] {
    const gprs = this.gprMask & only.gpr;
    const xmms = this.xmmMask & only.xmm;
    this.registers.reloaded(gprs, xmms);
    const registers = eachRegister(gprs, xmms);
    const block = this.w.block(
      registers.flatMap((r) =>
        rsp !== undefined && r.gpr === 1 << RSP ? [this.setRsp(rsp)] : this.load(r),
      ),
    );
    this.reloadPoints.push({ block, registers, use: this.registers.usePoint() });
    return [block];
  }

  /** RSP's local set to `value`, which the state block holds too (clean). */
  private setRsp(value: Expr): Expr {
    this.known.gprSet(RSP, undefined);
    return this.m.local.set(FIRST_GPR + RSP, value);
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
        this.xmmReplaced(i);
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

  /**
   * The local of inlined call site `site` holding the RSP from before its
   * push. A loop variant holding a copy's exit but not its call leaves it 0:
   * the callee's `ret` then misses and goes through the dispatcher, correctly.
   */
  inlineSiteRsp(site: number): number {
    let local = this.siteRsp.get(site);
    if (local === undefined) this.siteRsp.set(site, (local = this.dedicatedLocal(i64)));
    return local;
  }
}
