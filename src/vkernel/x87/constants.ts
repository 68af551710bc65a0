// The FLD1/FLDL2T/FLDL2E/FLDPI/FLDLG2/FLDLN2/FLDZ constants. SDM Vol. 1
// §8.3.8: the processor holds them with extra precision and rounds them to
// the 64-bit significand with the RC field, so their last bit depends on
// the rounding mode. Measured: FLDLG2 in round-to-nearest gives
// ...f799, the exact value rounded, where the 66-bit value would tie to
// ...f798 — so they are rounded from the working-precision value here.
import { ONE, ZERO, type Exact, type Float80 } from "./float80.js";
import { round80, type RoundingMode } from "./round.js";
import { div, fromInt, inexact, LN10, LN2, PI } from "./precise.js";

const internal = (x: Exact): Exact => inexact(x);

/** Indexed by X87_CONST (x87-ops.ts). */
const CONSTANTS: readonly (Exact | Float80)[] = [
  ONE,
  internal(div(LN10, LN2)),
  internal(div(fromInt(1n), LN2)),
  internal(PI),
  internal(div(LN2, LN10)),
  internal(LN2),
  ZERO,
];

export function loadConstant(
  index: number,
  rc: RoundingMode,
): { value: Float80; roundedUp: boolean } {
  const c = CONSTANTS[index] ?? ZERO;
  if ("sig" in c) return { value: c, roundedUp: false };
  const r = round80(c, rc);
  return { value: r.value, roundedUp: r.roundedUp };
}
