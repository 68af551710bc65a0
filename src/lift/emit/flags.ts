// Lazy arithmetic flags (Intel SDM Vol. 1 §3.4.3.1 "Status Flags"; Appendix A
// "EFLAGS Cross-Reference"). A flag-writing instruction records its operation
// and operands in fresh locals instead of computing flags; a reader (jcc,
// setcc, cmovcc, adc, …) evaluates only the flags it needs, straight from
// the record — `cmp a,b; jl` becomes `i64.lt_s(a, b)` (fusion). Flags that
// are live at the end of a block are materialised into one i32 local each.
// Records nobody reads are removed by binaryen as dead local sets.
import { ConditionCode } from "iced-x86";
import { floatFlag, fusedFloat } from "./flags-float.js";
import { i32, i64, Wasm, type Expr, type Size } from "./wasm.js";

/** RflagsBits of iced-x86, which the whole lifter uses as its flag mask. */
export const OF = 1;
export const SF = 2;
export const ZF = 4;
export const AF = 8;
export const CF = 16;
export const PF = 32;
export const ALL_FLAGS = 63;
/** State order (guest-layout FLAG_NAMES): CF PF AF ZF SF OF. */
export const FLAG_BITS = [CF, PF, AF, ZF, SF, OF] as const;

/** "fcmp": ucomisd/comisd/ucomiss/comiss, which set ZF, PF and CF only. */
export type LazyOp = "add" | "sub" | "adc" | "sbb" | "logic" | "fcmp";

/**
 * Operands and result, each an i64 local holding a value zero-extended from
 * `size`; for "fcmp", `a` and `b` are f64 (size 8) or f32 (size 4) locals
 * and `result` is unused.
 */
export interface FlagRecord {
  readonly op: LazyOp;
  readonly size: Size;
  readonly a: number;
  readonly b: number;
  readonly result: number;
  /** i32 local with the carry-in of adc/sbb. */
  readonly carry?: number;
}

export type FlagSource =
  | { readonly kind: "canonical" }
  | { readonly kind: "record"; readonly record: FlagRecord }
  | { readonly kind: "value"; readonly local: number };

export class FlagEvaluator {
  constructor(private readonly w: Wasm) {}

  /** The flag `bit` computed from a record, as an i32 0/1. */
  flag(r: FlagRecord, bit: number): Expr {
    if (r.op === "fcmp") return floatFlag(this.w, r, bit);
    const w = this.w;
    const m = w.m;
    const a = (): Expr => m.local.get(r.a, i64);
    const b = (): Expr => m.local.get(r.b, i64);
    const res = (): Expr => m.local.get(r.result, i64);
    const top = r.size * 8 - 1;
    switch (bit) {
      case ZF:
        return m.i64.eqz(res());
      case SF:
        return w.bit(res(), top);
      case PF:
        return m.i32.xor(
          m.i32.and(m.i32.popcnt(m.i32.and(m.i32.wrap(res()), w.c32(0xff))), w.c32(1)),
          w.c32(1),
        );
      case AF:
        if (r.op === "logic") return w.c32(0);
        return w.bit(m.i64.xor(m.i64.xor(a(), b()), res()), 4);
      case CF:
        switch (r.op) {
          case "logic":
            return w.c32(0);
          case "add":
            return m.i64.lt_u(res(), a());
          case "sub":
            return m.i64.lt_u(a(), b());
          case "adc":
            return m.select(
              m.local.get(r.carry ?? 0, i32),
              m.i64.le_u(res(), a()),
              m.i64.lt_u(res(), a()),
            );
          case "sbb":
            return m.select(
              m.local.get(r.carry ?? 0, i32),
              m.i64.le_u(a(), b()),
              m.i64.lt_u(a(), b()),
            );
        }
        break;
      case OF:
        switch (r.op) {
          case "logic":
            return w.c32(0);
          case "add":
          case "adc":
            return w.bit(m.i64.and(m.i64.xor(a(), res()), m.i64.xor(b(), res())), top);
          case "sub":
          case "sbb":
            return w.bit(m.i64.and(m.i64.xor(a(), b()), m.i64.xor(a(), res())), top);
        }
    }
    throw new Error(`flag bit ${bit}`);
  }

  /**
   * A condition fused with the record that produced all the flags it reads,
   * or undefined when no shortcut applies (the caller composes flags).
   */
  fused(r: FlagRecord, cc: ConditionCode): Expr | undefined {
    if (r.op === "fcmp") return fusedFloat(this.w, r, cc);
    const w = this.w;
    const m = w.m;
    if (r.size === 4) {
      const narrow = this.fused32(r, cc);
      if (narrow !== undefined) return narrow;
    }
    const a = (): Expr => m.local.get(r.a, i64);
    const b = (): Expr => m.local.get(r.b, i64);
    const res = (): Expr => m.local.get(r.result, i64);
    const sa = (): Expr => w.signExtend(a(), r.size);
    const sb = (): Expr => w.signExtend(b(), r.size);
    const sres = (): Expr => w.signExtend(res(), r.size);
    switch (cc) {
      case ConditionCode.e:
        return m.i64.eqz(res());
      case ConditionCode.ne:
        return m.i64.ne(res(), w.c64(0));
      case ConditionCode.s:
        return m.i64.lt_s(sres(), w.c64(0));
      case ConditionCode.ns:
        return m.i64.ge_s(sres(), w.c64(0));
    }
    if (r.op === "sub") {
      switch (cc) {
        case ConditionCode.b:
          return m.i64.lt_u(a(), b());
        case ConditionCode.ae:
          return m.i64.ge_u(a(), b());
        case ConditionCode.be:
          return m.i64.le_u(a(), b());
        case ConditionCode.a:
          return m.i64.gt_u(a(), b());
        case ConditionCode.l:
          return m.i64.lt_s(sa(), sb());
        case ConditionCode.ge:
          return m.i64.ge_s(sa(), sb());
        case ConditionCode.le:
          return m.i64.le_s(sa(), sb());
        case ConditionCode.g:
          return m.i64.gt_s(sa(), sb());
      }
    }
    if (r.op === "logic") {
      switch (cc) {
        case ConditionCode.b:
        case ConditionCode.o:
          return w.c32(0);
        case ConditionCode.ae:
        case ConditionCode.no:
          return w.c32(1);
        case ConditionCode.be:
          return m.i64.eqz(res());
        case ConditionCode.a:
          return m.i64.ne(res(), w.c64(0));
        case ConditionCode.l:
          return m.i64.lt_s(sres(), w.c64(0));
        case ConditionCode.ge:
          return m.i64.ge_s(sres(), w.c64(0));
        case ConditionCode.le:
          return m.i64.le_s(sres(), w.c64(0));
        case ConditionCode.g:
          return m.i64.gt_s(sres(), w.c64(0));
      }
    }
    if (r.op === "add") {
      if (cc === ConditionCode.b) return this.flag(r, CF);
      if (cc === ConditionCode.ae) return m.i32.eqz(this.flag(r, CF));
    }
    return undefined;
  }

  /**
   * fused() for a 4-byte record as i32 comparisons: `cmp eax, ecx; jl`
   * becomes one 32-bit compare instead of two sign extensions and a 64-bit one.
   */
  private fused32(r: FlagRecord, cc: ConditionCode): Expr | undefined {
    const m = this.w.m;
    const a = (): Expr => m.i32.wrap(m.local.get(r.a, i64));
    const b = (): Expr => m.i32.wrap(m.local.get(r.b, i64));
    const res = (): Expr => m.i32.wrap(m.local.get(r.result, i64));
    const zero = (): Expr => m.i32.const(0);
    switch (cc) {
      case ConditionCode.e:
        return m.i32.eqz(res());
      case ConditionCode.ne:
        return m.i32.ne(res(), zero());
      case ConditionCode.s:
        return m.i32.lt_s(res(), zero());
      case ConditionCode.ns:
        return m.i32.ge_s(res(), zero());
    }
    if (r.op === "sub") {
      switch (cc) {
        case ConditionCode.b:
          return m.i32.lt_u(a(), b());
        case ConditionCode.ae:
          return m.i32.ge_u(a(), b());
        case ConditionCode.be:
          return m.i32.le_u(a(), b());
        case ConditionCode.a:
          return m.i32.gt_u(a(), b());
        case ConditionCode.l:
          return m.i32.lt_s(a(), b());
        case ConditionCode.ge:
          return m.i32.ge_s(a(), b());
        case ConditionCode.le:
          return m.i32.le_s(a(), b());
        case ConditionCode.g:
          return m.i32.gt_s(a(), b());
      }
    }
    if (r.op === "logic") {
      switch (cc) {
        case ConditionCode.be:
          return m.i32.eqz(res());
        case ConditionCode.a:
          return m.i32.ne(res(), zero());
        case ConditionCode.l:
          return m.i32.lt_s(res(), zero());
        case ConditionCode.ge:
          return m.i32.ge_s(res(), zero());
        case ConditionCode.le:
          return m.i32.le_s(res(), zero());
        case ConditionCode.g:
          return m.i32.gt_s(res(), zero());
      }
    }
    return undefined;
  }
}

/** The flags a condition code reads (SDM Vol. 2 Appendix B "EFLAGS Condition Codes"). */
export function conditionFlags(cc: ConditionCode): number {
  switch (cc) {
    case ConditionCode.o:
    case ConditionCode.no:
      return OF;
    case ConditionCode.b:
    case ConditionCode.ae:
      return CF;
    case ConditionCode.e:
    case ConditionCode.ne:
      return ZF;
    case ConditionCode.be:
    case ConditionCode.a:
      return CF | ZF;
    case ConditionCode.s:
    case ConditionCode.ns:
      return SF;
    case ConditionCode.p:
    case ConditionCode.np:
      return PF;
    case ConditionCode.l:
    case ConditionCode.ge:
      return SF | OF;
    case ConditionCode.le:
    case ConditionCode.g:
      return ZF | SF | OF;
    default:
      return 0;
  }
}

/** A condition from individual flags (each an i32 0/1 expression builder). */
export function composeCondition(w: Wasm, cc: ConditionCode, flag: (bit: number) => Expr): Expr {
  const m = w.m;
  const not = (e: Expr): Expr => m.i32.eqz(e);
  switch (cc) {
    case ConditionCode.o:
      return flag(OF);
    case ConditionCode.no:
      return not(flag(OF));
    case ConditionCode.b:
      return flag(CF);
    case ConditionCode.ae:
      return not(flag(CF));
    case ConditionCode.e:
      return flag(ZF);
    case ConditionCode.ne:
      return not(flag(ZF));
    case ConditionCode.be:
      return m.i32.or(flag(CF), flag(ZF));
    case ConditionCode.a:
      return not(m.i32.or(flag(CF), flag(ZF)));
    case ConditionCode.s:
      return flag(SF);
    case ConditionCode.ns:
      return not(flag(SF));
    case ConditionCode.p:
      return flag(PF);
    case ConditionCode.np:
      return not(flag(PF));
    case ConditionCode.l:
      return m.i32.ne(flag(SF), flag(OF));
    case ConditionCode.ge:
      return m.i32.eq(flag(SF), flag(OF));
    case ConditionCode.le:
      return m.i32.or(flag(ZF), m.i32.ne(flag(SF), flag(OF)));
    case ConditionCode.g:
      return m.i32.and(not(flag(ZF)), m.i32.eq(flag(SF), flag(OF)));
    default:
      return w.c32(1);
  }
}
