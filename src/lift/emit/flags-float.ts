// The flags of a float compare (ucomisd, comisd, ucomiss, comiss; SDM Vol.
// 2A "UCOMISD") from its lazy "fcmp" record (flags.ts): unordered sets ZF,
// PF and CF; otherwise ZF is equal, CF is less than and PF is clear. A
// condition that reads only those flags is one wasm float comparison.
import { ConditionCode } from "iced-x86";
import { CF, conditionFlags, PF, ZF, type FlagRecord } from "./flags.js";
import { f32, f64, type Expr, type Wasm } from "./wasm.js";

function operands(w: Wasm, r: FlagRecord) {
  const m = w.m;
  const type = r.size === 8 ? f64 : f32;
  const ops = r.size === 8 ? m.f64 : m.f32;
  const a = (): Expr => m.local.get(r.a, type);
  const b = (): Expr => m.local.get(r.b, type);
  const unordered = (): Expr => m.i32.or(ops.ne(a(), a()), ops.ne(b(), b()));
  return { m, ops, a, b, unordered };
}

/** Flag `bit` (ZF, PF or CF) of a float compare, as an i32 0/1. */
export function floatFlag(w: Wasm, r: FlagRecord, bit: number): Expr {
  const f = operands(w, r);
  switch (bit) {
    case ZF:
      return f.m.i32.eqz(f.m.i32.or(f.ops.lt(f.a(), f.b()), f.ops.gt(f.a(), f.b())));
    case PF:
      return f.unordered();
    case CF:
      return f.m.i32.eqz(f.ops.ge(f.a(), f.b()));
  }
  throw new Error(`a float compare records ZF, PF and CF, not flag bit ${bit}`);
}

/**
 * A condition that reads only a float compare's flags, as one wasm float
 * comparison (`ucomisd xmm1, xmm0; ja` is `f64.gt`); undefined for the
 * others, which the caller composes from single flags.
 */
export function fusedFloat(w: Wasm, r: FlagRecord, cc: ConditionCode): Expr | undefined {
  const f = operands(w, r);
  switch (cc) {
    case ConditionCode.e:
    case ConditionCode.p:
    case ConditionCode.b:
      return floatFlag(w, r, conditionFlags(cc));
    case ConditionCode.ne:
      return f.m.i32.or(f.ops.lt(f.a(), f.b()), f.ops.gt(f.a(), f.b()));
    case ConditionCode.ae:
      return f.ops.ge(f.a(), f.b());
    case ConditionCode.a:
      return f.ops.gt(f.a(), f.b());
    case ConditionCode.be:
      return f.m.i32.eqz(f.ops.gt(f.a(), f.b()));
    case ConditionCode.np:
      return f.m.i32.and(f.ops.eq(f.a(), f.a()), f.ops.eq(f.b(), f.b()));
  }
  return undefined;
}
