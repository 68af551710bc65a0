// Rounding to an integral value (SDM Vol. 1 §4.8.4, §10.2.3.3): the mode
// MXCSR.RC selects, and roundss/roundsd/roundps/roundpd (SSE4.1, SDM Vol. 2B
// "ROUNDPD"), whose imm8 names the mode or defers to MXCSR.RC. Wasm's
// nearest/floor/ceil/trunc are exactly the four x86 modes.
import { Mnemonic } from "iced-x86";
import type { FunctionContext } from "../emit/function-context.js";
import { f32, f64, i32, v128, type Expr, type WasmType } from "../emit/wasm.js";
import { STATE_MXCSR } from "../guest-layout.js";
import { dazPacked, dazScalar } from "./sse-directed.js";
import { imm8, readV, scalar, setLow, writeV, type Width } from "./sse-operands.js";
import type { SemanticsEntry } from "./types.js";

/** The four modes in RC order: to nearest even, down, up, toward zero. */
const MODES = ["nearest", "floor", "ceil", "trunc"] as const;
type Mode = (typeof MODES)[number];
type Rounder = Record<Mode, (x: Expr) => Expr>;

/** MXCSR.RC (bits 13–14) as an i32 local. */
function roundingControl(ctx: FunctionContext): number {
  const m = ctx.m;
  const w = ctx.w;
  return ctx.let(
    m.i32.and(m.i32.shr_u(m.i32.load(0, 4, w.c32(STATE_MXCSR)), w.c32(13)), w.c32(3)),
    i32,
  );
}

/** `x` (of `type`) rounded by `ops` in the mode MXCSR.RC names. */
function byMxcsr(ctx: FunctionContext, ops: Rounder, type: WasmType, x: Expr): Expr {
  const m = ctx.m;
  const value = ctx.let(x, type);
  const rc = roundingControl(ctx);
  const is = (mode: number): Expr => m.i32.eq(ctx.get(rc, i32), ctx.w.c32(mode));
  const v = (): Expr => ctx.get(value, type);
  return m.select(
    is(0),
    ops.nearest(v()),
    m.select(is(1), ops.floor(v()), m.select(is(2), ops.ceil(v()), ops.trunc(v()))),
  );
}

/** A scalar rounded to an integral value the way MXCSR.RC says. */
export function roundByMxcsr(ctx: FunctionContext, width: Width, x: Expr): Expr {
  return byMxcsr(ctx, width === "d" ? ctx.m.f64 : ctx.m.f32, width === "d" ? f64 : f32, x);
}

/** Every lane of a packed float rounded to an integral value the way MXCSR.RC says. */
export function roundPackedByMxcsr(ctx: FunctionContext, width: Width, x: Expr): Expr {
  return byMxcsr(ctx, width === "d" ? ctx.m.f64x2 : ctx.m.f32x4, v128, x);
}

/** The rounding imm8 bits 1–0 name, or MXCSR.RC when bit 2 is set (bit 3 masks #P: moot here). */
function rounded(ctx: FunctionContext, ops: Rounder, type: WasmType, x: Expr): Expr {
  const control = imm8(ctx);
  if ((control & 4) !== 0) return byMxcsr(ctx, ops, type, x);
  return ops[MODES[control & 3] as Mode](x);
}

/** roundss/roundsd: the source's low lane into the destination's; the other lanes stay. */
function roundScalar(width: Width) {
  return (ctx: FunctionContext): void => {
    const ops = width === "d" ? ctx.m.f64 : ctx.m.f32;
    const type = width === "d" ? f64 : f32;
    setLow(ctx, width, rounded(ctx, ops, type, dazScalar(ctx, type, scalar(ctx, 1, width))));
  };
}

function roundPacked(width: Width) {
  return (ctx: FunctionContext): void => {
    const ops = width === "d" ? ctx.m.f64x2 : ctx.m.f32x4;
    const source = dazPacked(ctx, width === "d" ? "f64" : "f32", readV(ctx, 1));
    writeV(ctx, 0, rounded(ctx, ops, v128, source));
  };
}

export const sseRoundingSemantics: readonly SemanticsEntry[] = [
  [Mnemonic.Roundss, roundScalar("s")],
  [Mnemonic.Roundsd, roundScalar("d")],
  [Mnemonic.Roundps, roundPacked("s")],
  [Mnemonic.Roundpd, roundPacked("d")],
];
