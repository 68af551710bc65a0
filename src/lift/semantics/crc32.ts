// crc32 (SSE4.2, SDM Vol. 2A "CRC32"): accumulates CRC-32C (Castagnoli,
// polynomial 11EDC6F41H) of an 8/16/32/64-bit source into a 32-bit value,
// bit-reflected and without pre- or post-inversion (the caller does those).
// The reflected bitwise form — one polynomial step per source bit, low bit
// first — equals the SDM's BIT_REFLECT/MOD2 definition. The loop lives in
// one shared wasm function added to the module on first use. No flags change.
import binaryen from "binaryen";
import { Mnemonic } from "iced-x86";
import type { FunctionContext } from "../emit/function-context.js";
import { i32, i64, type Expr, type Wasm } from "../emit/wasm.js";
import type { SemanticsEntry } from "./types.js";

const CRC32C = "megalift_crc32c";
/** 11EDC6F41H without its x^32 term, bit-reversed. */
const REFLECTED_POLYNOMIAL = 0x82f63b78;

/** crc32c(crc: i32, data: i64, bits: i32) → i32, added to the module once. */
function ensureCrc32c(w: Wasm): void {
  const m = w.m;
  if (m.getFunction(CRC32C) !== 0) return;
  const [crc, value, bits] = [0, 1, 2];
  const get = (l: number, t: binaryen.Type = i32): Expr => m.local.get(l, t);
  const step = m.block(null, [
    // Low bit of (crc XOR data) decides whether the polynomial is subtracted.
    m.local.set(
      crc,
      m.i32.xor(
        m.i32.shr_u(get(crc), w.c32(1)),
        m.i32.and(
          w.c32(REFLECTED_POLYNOMIAL),
          m.i32.sub(
            w.c32(0),
            m.i32.and(m.i32.xor(get(crc), m.i32.wrap(get(value, i64))), w.c32(1)),
          ),
        ),
      ),
    ),
    m.local.set(value, m.i64.shr_u(get(value, i64), w.c64(1))),
    m.local.set(bits, m.i32.sub(get(bits), w.c32(1))),
    m.br("bit", get(bits)),
  ]);
  const body = m.block(null, [m.loop("bit", step), get(crc)], i32);
  m.addFunction(CRC32C, binaryen.createType([i32, i64, i32]), i32, [], body);
}

function crc32(ctx: FunctionContext): void {
  ensureCrc32c(ctx.w);
  const m = ctx.m;
  const sourceBits = ctx.operandSize(1) * 8;
  const data = ctx.let(ctx.read(1, ctx.operandSize(1)));
  const result = m.call(
    CRC32C,
    [m.i32.wrap(ctx.read(0)), ctx.get(data), ctx.w.c32(sourceBits)],
    i32,
  );
  // The destination is 32 bits wide even in the r64 forms: the upper half is cleared.
  ctx.write(0, m.i64.extend_u(result));
}

export const crc32Semantics: readonly SemanticsEntry[] = [[Mnemonic.Crc32, crc32]];
