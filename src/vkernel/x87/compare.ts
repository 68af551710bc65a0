// Comparison and classification (SDM Vol. 2A "FCOM/FCOMP/FCOMPP", "FUCOM",
// "FCOMI/FUCOMI", "FTST", "FXAM"): the ordered compares signal an invalid
// operation for any NaN, the unordered ones only for an SNaN; +0 equals −0.
import { classify, toExact, type Float80 } from "./float80.js";
import { DE, IE } from "./round.js";

export type Order = "lt" | "eq" | "gt" | "unordered";

export function compare(a: Float80, b: Float80, ordered: boolean): { order: Order; flags: number } {
  const ka = classify(a);
  const kb = classify(b);
  if (ka === "unsupported" || kb === "unsupported") return { order: "unordered", flags: IE };
  const nan = (k: string): boolean => k === "qnan" || k === "snan";
  if (nan(ka) || nan(kb)) {
    const signals = ordered || ka === "snan" || kb === "snan";
    return { order: "unordered", flags: signals ? IE : 0 };
  }
  const flags = ka === "denormal" || kb === "denormal" ? DE : 0;
  const sa = signum(a, ka);
  const sb = signum(b, kb);
  if (sa !== sb || sa === 0) return { order: sa < sb ? "lt" : sa > sb ? "gt" : "eq", flags };
  // Same sign, both non-zero: compare magnitudes (infinities are largest).
  let cmp: number;
  if (ka === "infinity" || kb === "infinity") cmp = ka === kb ? 0 : ka === "infinity" ? 1 : -1;
  else {
    const x = toExact(a);
    const y = toExact(b);
    const e = Math.min(x.exp, y.exp);
    const mx = x.mag << BigInt(x.exp - e);
    const my = y.mag << BigInt(y.exp - e);
    cmp = mx > my ? 1 : mx < my ? -1 : 0;
  }
  if (sa < 0) cmp = -cmp;
  return { order: cmp < 0 ? "lt" : cmp > 0 ? "gt" : "eq", flags };
}

function signum(v: Float80, k: string): number {
  if (k === "zero") return 0;
  return v.sign === 1 ? -1 : 1;
}

/** C3 C2 C0 for FCOM/FUCOM/FTST (bits 14, 10, 8 of the status word). */
export function conditionBits(order: Order): number {
  switch (order) {
    case "gt":
      return 0;
    case "lt":
      return 0x0100;
    case "eq":
      return 0x4000;
    default:
      return 0x4500;
  }
}

/** ZF, PF, CF for FCOMI/FUCOMI as bits 0, 1, 2 of the hypercall's result. */
export function eflagsBits(order: Order): number {
  switch (order) {
    case "gt":
      return 0;
    case "lt":
      return 4;
    case "eq":
      return 1;
    default:
      return 7;
  }
}

/** FXAM's C3 C2 C0 class code and C1 sign, as status-word bits. */
export function examine(v: Float80, empty: boolean): number {
  const sign = v.sign === 1 ? 0x0200 : 0;
  if (empty) return sign | 0x4100; // C3 and C0
  switch (classify(v)) {
    case "unsupported":
      return sign;
    case "qnan":
    case "snan":
      return sign | 0x0100;
    case "normal":
      return sign | 0x0400;
    case "infinity":
      return sign | 0x0500;
    case "zero":
      return sign | 0x4000;
    case "denormal":
      return sign | 0x4400;
  }
}
