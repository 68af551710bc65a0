// Rotates through the carry flag (SDM Vol. 2B "RCL/RCR/ROL/ROR"): the
// operand and CF form one (N+1)-bit ring. The count is masked to 5 bits (6
// for 64-bit operands); 8- and 16-bit forms then take it modulo 9 and 17.
// A masked count of 0 changes nothing, flags included. OF is defined by the
// SDM only for a count of 1; for larger counts we give what Intel hardware
// gives (RCL: MSB(result) XOR CF; RCR: XOR of the two top result bits),
// which the native-versus-lifted tests check on the machine they run on.
import { Mnemonic } from "iced-x86";
import { CF, OF } from "../emit/flags.js";
import type { FunctionContext } from "../emit/function-context.js";
import { i32, type Expr, type Size } from "../emit/wasm.js";
import type { SemanticsEntry } from "./types.js";

/**
 * A count of 0 changes no flag and no value, but a 32-bit register operand
 * is still written, which clears its upper half (SDM Vol. 1 §3.4.1.1; the
 * CPU does this for shifts and rotates alike).
 */
export function zeroExtendOnly(ctx: FunctionContext): void {
  if (ctx.operandSize(0) === 4 && ctx.ins.operands[0]?.kind === "reg") ctx.write(0, ctx.read(0));
}

/** The masked count (before the modulo) as an i64 local, plus its value when constant. */
function maskedCount(ctx: FunctionContext, size: Size): { local: number; constant?: number } {
  const op = ctx.ins.operands[1];
  const mask = size === 8 ? 63 : 31;
  if (op === undefined) return { local: ctx.let(ctx.w.c64(1)), constant: 1 };
  if (op.kind === "imm") {
    const c = Number(op.value & BigInt(mask));
    return { local: ctx.let(ctx.w.c64(c)), constant: c };
  }
  return { local: ctx.let(ctx.m.i64.and(ctx.read(1, 1), ctx.w.c64(mask))) };
}

/** Rotation of the (bits+1)-bit ring CF:value for 8/16/32-bit operands, by n ∈ [0, bits]. */
function rotateNarrow(
  ctx: FunctionContext,
  left: boolean,
  value: number,
  carry: number,
  n: number,
  size: Size,
): { result: Expr; carryOut: Expr } {
  const m = ctx.m;
  const w = ctx.w;
  const bits = size * 8;
  const ringMask = w.c64((1n << BigInt(bits + 1)) - 1n);
  // At most 33 bits: every shift below stays under 64, so n = 0 needs no special case.
  const ring = ctx.let(
    m.i64.or(ctx.get(value), m.i64.shl(m.i64.extend_u(ctx.get(carry, i32)), w.c64(bits))),
  );
  const back = (): Expr => m.i64.sub(w.c64(bits + 1), ctx.get(n));
  const rotated = left
    ? m.i64.or(m.i64.shl(ctx.get(ring), ctx.get(n)), m.i64.shr_u(ctx.get(ring), back()))
    : m.i64.or(m.i64.shr_u(ctx.get(ring), ctx.get(n)), m.i64.shl(ctx.get(ring), back()));
  const r = ctx.let(m.i64.and(rotated, ringMask));
  return { result: w.truncate(ctx.get(r), size), carryOut: w.bit(ctx.get(r), bits) };
}

/** The 65-bit ring CF:value of 64-bit operands, by n ∈ [1, 63] (n = 0 is selected away). */
function rotateWide(
  ctx: FunctionContext,
  left: boolean,
  value: number,
  carry: number,
  n: number,
): { result: Expr; carryOut: Expr } {
  const m = ctx.m;
  const w = ctx.w;
  const d = (): Expr => ctx.get(value);
  const c = (): Expr => m.i64.extend_u(ctx.get(carry, i32));
  const k = (): Expr => ctx.get(n);
  const rest = (): Expr => m.i64.sub(w.c64(64), k());
  // Shifting by 1 first keeps every wasm shift count in [0, 63] (wasm takes counts mod 64).
  const result = left
    ? m.i64.or(
        m.i64.or(m.i64.shl(d(), k()), m.i64.shl(c(), m.i64.sub(k(), w.c64(1)))),
        m.i64.shr_u(m.i64.shr_u(d(), w.c64(1)), rest()),
      )
    : m.i64.or(
        m.i64.or(m.i64.shr_u(d(), k()), m.i64.shl(c(), rest())),
        m.i64.shl(m.i64.shl(d(), w.c64(1)), rest()),
      );
  const carryOut = left
    ? w.bit(m.i64.shr_u(d(), rest()), 0)
    : w.bit(m.i64.shr_u(d(), m.i64.sub(k(), w.c64(1))), 0);
  return { result, carryOut };
}

function rotateThroughCarry(left: boolean) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const w = ctx.w;
    const size = ctx.operandSize(0);
    const bits = size * 8;
    const count = maskedCount(ctx, size);
    if (count.constant === 0) return zeroExtendOnly(ctx);
    const value = ctx.let(ctx.read(0));
    const carry = ctx.let(ctx.flag(CF), i32);
    const n =
      size === 1 || size === 2
        ? ctx.let(m.i64.rem_u(ctx.get(count.local), w.c64(bits + 1)))
        : count.local;
    const rotated =
      size === 8
        ? rotateWide(ctx, left, value, carry, n)
        : rotateNarrow(ctx, left, value, carry, n, size);
    // A ring position of 0 (count 0, or 9/18/27 for bytes, 17 for words) leaves value and CF as they were.
    const still = (): Expr => m.i64.eqz(ctx.get(n));
    const res = ctx.let(m.select(still(), ctx.get(value), rotated.result));
    const cf = ctx.let(m.select(still(), ctx.get(carry, i32), rotated.carryOut), i32);
    const msb = w.bit(ctx.get(res), bits - 1);
    const of = ctx.let(
      left ? m.i32.xor(msb, ctx.get(cf, i32)) : m.i32.xor(msb, w.bit(ctx.get(res), bits - 2)),
      i32,
    );
    if (count.constant !== undefined) {
      ctx.setFlag(CF, ctx.get(cf, i32));
      ctx.setFlag(OF, ctx.get(of, i32));
    } else {
      // A masked count of 0 leaves every flag alone.
      const zero = ctx.let(m.i64.eqz(ctx.get(count.local)), i32);
      const oldOf = ctx.let(ctx.flag(OF), i32);
      ctx.setFlag(CF, ctx.get(cf, i32));
      ctx.setFlag(OF, m.select(ctx.get(zero, i32), ctx.get(oldOf, i32), ctx.get(of, i32)));
    }
    ctx.write(0, ctx.get(res));
  };
}

export const rotateCarrySemantics: readonly SemanticsEntry[] = [
  [Mnemonic.Rcl, rotateThroughCarry(true)],
  [Mnemonic.Rcr, rotateThroughCarry(false)],
];
