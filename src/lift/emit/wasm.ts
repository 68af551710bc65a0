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

export class Wasm {
  constructor(readonly m: binaryen.Module) {}

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

  /** Zero-extends the low `size` bytes of an i64. */
  truncate(value: Expr, size: Size): Expr {
    return size === 8 ? value : this.m.i64.and(value, this.mask(size));
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
    return this.m.i32.wrap(address);
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

  /** Bit `bit` of an i64 as an i32 0/1. */
  bit(value: Expr, bit: number): Expr {
    return this.m.i32.wrap(this.m.i64.and(this.m.i64.shr_u(value, this.c64(bit)), this.c64(1)));
  }

  block(children: Expr[]): Expr {
    return this.m.block(null, children, binaryen.none);
  }
}
