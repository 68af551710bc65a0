// The one thin typed wrapper over binaryen.js that lifted code is emitted
// through: constants (i64 takes a BigInt), sized guest-memory loads and
// stores (guest address = linear-memory offset, always unaligned-safe) and
// the few compound helpers every semantic needs. Semantics never call
// binaryen directly for memory access, so the memory model lives here.
import binaryen from "binaryen";

export type Expr = binaryen.ExpressionRef;
export type WasmType = binaryen.Type;
export const i32 = binaryen.i32;
export const i64 = binaryen.i64;
export const f32 = binaryen.f32;
export const f64 = binaryen.f64;
export const v128 = binaryen.v128;
export const none = binaryen.none;

export type Size = 1 | 2 | 4 | 8;

/**
 * The wasm features lifted code uses (Node 20 runs all of them): the lifter
 * emits with these and the compile stage re-reads the megabinary with them.
 */
export const LIFTED_FEATURES =
  binaryen.Features.MVP |
  binaryen.Features.SIMD128 |
  binaryen.Features.TailCall |
  binaryen.Features.BulkMemory |
  binaryen.Features.SignExt |
  binaryen.Features.MutableGlobals |
  binaryen.Features.NontrappingFPToInt;

/** The static expression accessors binaryen.js has at run time but its .d.ts does not declare. */
interface ExpressionAccessors {
  readonly Unary: { getOp(e: Expr): binaryen.Operations; getValue(e: Expr): Expr };
  readonly Binary: { getOp(e: Expr): binaryen.Operations; getRight(e: Expr): Expr };
  readonly Load: { getBytes(e: Expr): number; isSigned(e: Expr): boolean };
  readonly Const: { getValueI64(e: Expr): bigint };
}
const peek = binaryen as unknown as ExpressionAccessors;

/** The fewest bytes (1, 2, 4, 8) that hold an unsigned value. */
function constantWidth(value: bigint): Size {
  const v = BigInt.asUintN(64, value);
  return v <= 0xffn ? 1 : v <= 0xffffn ? 2 : v <= 0xffffffffn ? 4 : 8;
}

/**
 * How many low bytes of an i64 expression can be non-zero, as far as its top
 * node shows (8 when unknown). Lets truncate() skip a mask the value already
 * satisfies: each redundant one costs a `movl r, r` in V8's optimised code.
 */
export function knownWidth(e: Expr): Size {
  switch (binaryen.getExpressionId(e)) {
    case binaryen.UnaryId:
      return peek.Unary.getOp(e) === binaryen.ExtendUInt32 ? 4 : 8;
    case binaryen.LoadId: {
      if (binaryen.getExpressionType(e) !== i64 || peek.Load.isSigned(e)) return 8;
      return peek.Load.getBytes(e) as Size;
    }
    case binaryen.ConstId:
      return binaryen.getExpressionType(e) === i64 ? constantWidth(peek.Const.getValueI64(e)) : 8;
    case binaryen.BinaryId: {
      if (peek.Binary.getOp(e) !== binaryen.AndInt64) return 8;
      const right = peek.Binary.getRight(e);
      return binaryen.getExpressionId(right) === binaryen.ConstId
        ? constantWidth(peek.Const.getValueI64(right))
        : 8;
    }
    default:
      return 8;
  }
}

/** The value of an i64 constant expression, or undefined for any other expression. */
export function constantValue(e: Expr): bigint | undefined {
  if (binaryen.getExpressionId(e) !== binaryen.ConstId || binaryen.getExpressionType(e) !== i64) {
    return undefined;
  }
  return peek.Const.getValueI64(e);
}

/** Integer operations arith() emits at the operand size. */
export type IntOp = "add" | "sub" | "and" | "or" | "xor";

export class Wasm {
  /**
   * Widths vouched for expressions whose top node does not show them (a
   * local.get of a local known to hold a zero-extended 32-bit value): lets
   * truncate() emit no wrap/extend round trip for them (FunctionContext
   * vouches; forgetWidths() drops the entries at the end of their block).
   */
  private readonly vouched = new Map<Expr, Size>();

  constructor(readonly m: binaryen.Module) {}

  /** Records that `e` has at most `size` non-zero low bytes; returns `e`. */
  vouch(e: Expr, size: Size): Expr {
    if (size < 8) this.vouched.set(e, size);
    return e;
  }

  forgetWidths(): void {
    this.vouched.clear();
  }

  /** knownWidth() that also knows the vouched expressions. */
  widthOf(e: Expr): Size {
    return this.vouched.get(e) ?? knownWidth(e);
  }

  c32(value: number): Expr {
    return this.m.i32.const(value | 0);
  }

  c64(value: bigint | number): Expr {
    const v = typeof value === "bigint" ? BigInt.asIntN(64, value) : BigInt(value);
    // binaryen 132 takes one BigInt here; its .d.ts still declares (low, high).
    return (this.m.i64.const as unknown as (value: bigint) => Expr)(v);
  }

  /** All-ones of `size` bytes as an i64 constant. */
  mask(size: Size): Expr {
    return this.c64(size === 8 ? -1n : (1n << BigInt(size * 8)) - 1n);
  }

  /**
   * Zero-extends the low `size` bytes of an i64. Four bytes go through i32
   * (extend_u of wrap): V8 folds a wrap of an extend_u away and knows that
   * i32 operations zero the upper half, which it does not for an i64 mask.
   */
  truncate(value: Expr, size: Size): Expr {
    if (size === 8 || this.widthOf(value) <= size) return value;
    if (size === 4) return this.m.i64.extend_u(this.wrap32(value));
    return this.m.i64.and(value, this.mask(size));
  }

  /** The low 32 bits of an i64 as an i32, without the round trip through i64 where it shows. */
  wrap32(value: Expr): Expr {
    switch (binaryen.getExpressionId(value)) {
      case binaryen.UnaryId:
        if (peek.Unary.getOp(value) === binaryen.ExtendUInt32) return peek.Unary.getValue(value);
        break;
      case binaryen.ConstId:
        if (binaryen.getExpressionType(value) === i64) {
          return this.c32(Number(BigInt.asIntN(32, peek.Const.getValueI64(value))));
        }
        break;
    }
    return this.m.i32.wrap(value);
  }

  /**
   * `a op b` over operands of `size` bytes (zero-extended i64s), the result
   * zero-extended from `size`. Four-byte operations run as i32 operations,
   * which V8 compiles to one 32-bit instruction with no re-zero-extension.
   */
  arith(op: IntOp, size: Size, a: Expr, b: Expr): Expr {
    const m = this.m;
    if (size === 4) {
      const x = this.wrap32(a);
      const y = this.wrap32(b);
      const r =
        op === "add"
          ? m.i32.add(x, y)
          : op === "sub"
            ? m.i32.sub(x, y)
            : op === "and"
              ? m.i32.and(x, y)
              : op === "or"
                ? m.i32.or(x, y)
                : m.i32.xor(x, y);
      return m.i64.extend_u(r);
    }
    const r =
      op === "add"
        ? m.i64.add(a, b)
        : op === "sub"
          ? m.i64.sub(a, b)
          : op === "and"
            ? m.i64.and(a, b)
            : op === "or"
              ? m.i64.or(a, b)
              : m.i64.xor(a, b);
    return this.truncate(r, size);
  }

  /** Sign-extends the low `size` bytes of an i64 to 64 bits. */
  signExtend(value: Expr, size: Size): Expr {
    switch (size) {
      case 1:
        return this.m.i64.extend8_s(value);
      case 2:
        return this.m.i64.extend16_s(value);
      case 4:
        return this.m.i64.extend32_s(value);
      default:
        return value;
    }
  }

  /** A guest address (i64) as a linear-memory pointer. */
  pointer(address: Expr): Expr {
    return this.wrap32(address);
  }

  /** Loads `size` bytes at an i32 pointer, zero-extended to i64. */
  load(size: Size, ptr: Expr): Expr {
    switch (size) {
      case 1:
        return this.m.i64.load8_u(0, 1, ptr);
      case 2:
        return this.m.i64.load16_u(0, 1, ptr);
      case 4:
        return this.m.i64.load32_u(0, 1, ptr);
      default:
        return this.m.i64.load(0, 1, ptr);
    }
  }

  /** Stores the low `size` bytes of an i64 at an i32 pointer. */
  store(size: Size, ptr: Expr, value: Expr): Expr {
    switch (size) {
      case 1:
        return this.m.i64.store8(0, 1, ptr, value);
      case 2:
        return this.m.i64.store16(0, 1, ptr, value);
      case 4:
        return this.m.i64.store32(0, 1, ptr, value);
      default:
        return this.m.i64.store(0, 1, ptr, value);
    }
  }

  loadV128(ptr: Expr): Expr {
    return this.m.v128.load(0, 1, ptr);
  }

  storeV128(ptr: Expr, value: Expr): Expr {
    return this.m.v128.store(0, 1, ptr, value);
  }

  /** i32 0/1 → i64 0/1. */
  bool64(value: Expr): Expr {
    return this.m.i64.extend_u(value);
  }

  /**
   * Bit `bit` of an i64 as an i32 0/1. A bit of the low half is taken in
   * i32 (one 32-bit shift and mask, no 64-bit shift and wrap after it).
   */
  bit(value: Expr, bit: number): Expr {
    const m = this.m;
    if (bit < 32) {
      const low = this.wrap32(value);
      return m.i32.and(bit === 0 ? low : m.i32.shr_u(low, this.c32(bit)), this.c32(1));
    }
    return m.i32.wrap(m.i64.and(m.i64.shr_u(value, this.c64(bit)), this.c64(1)));
  }

  block(children: Expr[]): Expr {
    return this.m.block(null, children, binaryen.none);
  }
}
