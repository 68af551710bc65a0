// The x87 soft-float against known 80-bit bit patterns (values checked with
// mpmath at 300 bits and on hardware; beyond these, 100 000 random operands
// of these operations matched an AMD x86-64 bit for bit, status word too): rounding in the four modes and under
// precision control, over- and underflow, NaN rules, conversions to and
// from memory formats, comparisons, FPREM/FPREM1, FRNDINT, FSCALE, FXTRACT.
import { describe, expect, it } from "vitest";
import { add, divide, multiply, sqrt } from "../../../src/vkernel/x87/arith.js";
import { compare } from "../../../src/vkernel/x87/compare.js";
import {
  loadDouble,
  loadSingle,
  storeDouble,
  storeInteger,
  storeSingle,
} from "../../../src/vkernel/x87/convert.js";
import { extract, roundToIntegral, scale } from "../../../src/vkernel/x87/exponent.js";
import { float80, hex80, toExact, type Float80 } from "../../../src/vkernel/x87/float80.js";
import { partialRemainder } from "../../../src/vkernel/x87/remainder.js";
import {
  DE,
  EXTENDED,
  extendedWithPrecision,
  IE,
  OE,
  PE,
  round80,
  UE,
  ZE,
  type RoundingMode,
} from "../../../src/vkernel/x87/round.js";
import { f80 } from "./f80.js";
import { xorshift64 } from "../../helpers/xorshift.js";

const ONE = f80("3fff:8000000000000000");
const THREE = f80("4000:c000000000000000");
const LDBL_MAX = f80("7ffe:ffffffffffffffff");
const LDBL_MIN = f80("0001:8000000000000000");
const INF = f80("7fff:8000000000000000");
const env = (rc: RoundingMode, precision = 64) => ({ rc, fmt: extendedWithPrecision(precision) });

describe("x87 arithmetic rounds once, by RC and precision control", () => {
  it("divides 1 by 3 in every rounding mode", () => {
    const q = (rc: RoundingMode) => hex80(divide(ONE, THREE, env(rc)).value);
    expect(q(0)).toBe("3ffd:aaaaaaaaaaaaaaab");
    expect(q(1)).toBe("3ffd:aaaaaaaaaaaaaaaa");
    expect(q(2)).toBe("3ffd:aaaaaaaaaaaaaaab");
    expect(q(3)).toBe("3ffd:aaaaaaaaaaaaaaaa");
    expect(divide(ONE, THREE, env(0)).flags).toBe(PE);
    expect(divide(ONE, THREE, env(0)).roundedUp).toBe(true);
  });

  it("honours precision control (24 and 53 bits, extended exponent range)", () => {
    expect(hex80(divide(ONE, THREE, env(0, 53)).value)).toBe("3ffd:aaaaaaaaaaaaa800");
    expect(hex80(divide(ONE, THREE, env(0, 24)).value)).toBe("3ffd:aaaaab0000000000");
    // The exponent range stays extended: LDBL_MAX/2 is still finite at 53 bits.
    expect(hex80(multiply(LDBL_MAX, f80("3ffe:8000000000000000"), env(3, 53)).value)).toBe(
      "7ffd:fffffffffffff800",
    );
  });

  it("ties to even and gives signed zeros as IEEE 754 says", () => {
    const tiny = f80("3fbf:8000000000000000"); // 2^-64: half an ulp of 1
    expect(hex80(add(ONE, tiny, env(0)).value)).toBe("3fff:8000000000000000");
    expect(hex80(add(ONE, tiny, env(2)).value)).toBe("3fff:8000000000000001");
    expect(hex80(add(ONE, ONE, env(0), true).value)).toBe("0000:0000000000000000");
    expect(hex80(add(ONE, ONE, env(1), true).value)).toBe("8000:0000000000000000");
  });

  it("overflows to infinity or the largest finite value by RC", () => {
    const two = f80("4000:8000000000000000");
    expect(hex80(multiply(LDBL_MAX, two, env(0)).value)).toBe("7fff:8000000000000000");
    expect(hex80(multiply(LDBL_MAX, two, env(3)).value)).toBe("7ffe:ffffffffffffffff");
    expect(multiply(LDBL_MAX, two, env(0)).flags).toBe(OE | PE);
  });

  it("underflows gradually to denormals, signalling UE only when inexact", () => {
    const four = f80("4001:8000000000000000");
    const exact = divide(LDBL_MIN, four, env(0));
    expect(hex80(exact.value)).toBe("0000:2000000000000000");
    expect(exact.flags).toBe(0);
    const inexact = divide(LDBL_MIN, THREE, env(0));
    expect(hex80(inexact.value)).toBe("0000:2aaaaaaaaaaaaaab");
    expect(inexact.flags).toBe(UE | PE);
    expect(add(f80("0000:0000000000000003"), ONE, env(0)).flags & DE).toBe(DE);
  });

  it("propagates NaNs and answers invalid operations with the indefinite", () => {
    const qnan = f80("7fff:c000000000001234");
    const snan = f80("7fff:8000000000000001");
    expect(hex80(add(ONE, qnan, env(0)).value)).toBe("7fff:c000000000001234");
    const quieted = multiply(snan, ONE, env(0));
    expect(hex80(quieted.value)).toBe("7fff:c000000000000001");
    expect(quieted.flags).toBe(IE);
    expect(hex80(add(INF, INF, env(0), true).value)).toBe("ffff:c000000000000000");
    expect(hex80(sqrt(f80("bfff:8000000000000000"), env(0)).value)).toBe("ffff:c000000000000000");
    const byZero = divide(ONE, f80("0000:0000000000000000"), env(0));
    expect(hex80(byZero.value)).toBe("7fff:8000000000000000");
    expect(byZero.flags).toBe(ZE);
  });

  it("takes exact square roots", () => {
    expect(hex80(sqrt(f80("4002:9000000000000000"), env(0)).value)).toBe("4000:c000000000000000");
    expect(hex80(sqrt(f80("4000:8000000000000000"), env(0)).value)).toBe("3fff:b504f333f9de6484");
    expect(hex80(sqrt(f80("4000:8000000000000000"), env(1)).value)).toBe("3fff:b504f333f9de6484");
    expect(hex80(sqrt(f80("4000:8000000000000000"), env(2)).value)).toBe("3fff:b504f333f9de6485");
  });
});

describe("x87 addition of far-apart operands", () => {
  /** The sum by full alignment: what add() computed before it bounded the gap. */
  const reference = (a: Float80, b: Float80, rc: RoundingMode, precision: number) => {
    const x = toExact(a);
    const y = toExact(b);
    const e = Math.min(x.exp, y.exp);
    const sx = x.mag << BigInt(x.exp - e);
    const sy = y.mag << BigInt(y.exp - e);
    const sum = (x.sign ? -sx : sx) + (y.sign ? -sy : sy);
    if (sum === 0n) return undefined; // the zero-sign rules: checked by hand above
    const r = round80(
      { sign: sum < 0n ? 1 : 0, mag: sum < 0n ? -sum : sum, exp: e },
      rc,
      extendedWithPrecision(precision),
    );
    return { value: hex80(r.value), flags: r.flags, roundedUp: r.roundedUp };
  };

  it("gives what full alignment gives, in every mode and precision, and adds zeros exactly", () => {
    const random = xorshift64(0x2545f4914f6cdd1dn);
    const mismatches: string[] = [];
    for (let i = 0; i < 400; i++) {
      const big = random();
      // Exponents up to the whole range apart; significands with the top bit
      // set, powers of two among them (a sum that crosses a binade).
      const ea = 1 + Number(big % 32766n);
      const gap = [0, 1, 40, 63, 64, 65, 66, 67, 70, 71, 72, 80, 200, 16000][i % 14] as number;
      const eb = Math.max(1, ea - gap);
      const sig = (r: bigint): bigint => (i % 5 === 0 ? 1n << 63n : r | (1n << 63n));
      const a = float80((Number(big >> 60n) & 1) as 0 | 1, ea, sig(random()));
      const b = float80((Number(big >> 61n) & 1) as 0 | 1, eb, sig(random()));
      for (const rc of [0, 1, 2, 3] as RoundingMode[]) {
        for (const precision of [64, 53, 24]) {
          for (const [x, y] of [
            [a, b],
            [b, a],
          ] as const) {
            const want = reference(x, y, rc, precision);
            if (want === undefined) continue;
            const got = add(x, y, env(rc, precision));
            const result = { value: hex80(got.value), flags: got.flags, roundedUp: got.roundedUp };
            if (JSON.stringify(result) !== JSON.stringify(want)) {
              mismatches.push(`${hex80(x)} + ${hex80(y)} rc ${rc} p ${precision}`);
            }
          }
        }
      }
    }
    expect(mismatches.slice(0, 8)).toEqual([]);
    // x + 0 is x, rounded to the precision: no alignment with the zero's exponent.
    const zero = f80("0000:0000000000000000");
    expect(hex80(add(ONE, zero, env(0)).value)).toBe(hex80(ONE));
    expect(hex80(add(zero, THREE, env(1, 24)).value)).toBe(hex80(THREE));
  });
});

describe("x87 conversions", () => {
  const bits = (x: number): bigint => {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, x, true);
    return view.getBigUint64(0, true);
  };

  it("loads doubles and floats exactly, denormals included", () => {
    expect(hex80(loadDouble(bits(1)).value)).toBe("3fff:8000000000000000");
    expect(hex80(loadDouble(bits(-0.1)).value)).toBe("bffb:ccccccccccccd000");
    expect(hex80(loadDouble(bits(5e-324)).value)).toBe("3bcd:8000000000000000");
    expect(hex80(loadSingle(0x3eaaaaab).value)).toBe("3ffd:aaaaab0000000000");
    const snan = loadDouble(0x7ff0000000000001n);
    expect(hex80(snan.value)).toBe("7fff:c000000000000800");
    expect(snan.flags).toBe(IE);
  });

  it("stores to double and float rounding by RC", () => {
    const third = f80("3ffd:aaaaaaaaaaaaaaab");
    expect(storeDouble(third, 0).value).toBe(bits(1 / 3));
    expect(storeDouble(third, 2).value).toBe(bits(1 / 3) + 1n);
    expect(storeSingle(third, 0).value).toBe(0x3eaaaaab);
    expect(storeSingle(third, 3).value).toBe(0x3eaaaaaa);
    expect(storeDouble(LDBL_MAX, 0)).toMatchObject({ value: bits(Infinity), flags: OE | PE });
    expect(storeDouble(LDBL_MIN, 2).value).toBe(1n); // the smallest denormal
    expect(storeDouble(LDBL_MIN, 0).value).toBe(0n);
  });

  it("stores integers by RC, with the integer indefinite on overflow", () => {
    const twoHalf = f80("4000:a000000000000000");
    const minusTwoHalf = f80("c000:a000000000000000");
    expect(storeInteger(twoHalf, 32, 0).value).toBe(2n);
    expect(storeInteger(minusTwoHalf, 32, 0).value).toBe(BigInt.asUintN(32, -2n));
    expect(storeInteger(minusTwoHalf, 32, 1).value).toBe(BigInt.asUintN(32, -3n));
    expect(storeInteger(minusTwoHalf, 32, "truncate").value).toBe(BigInt.asUintN(32, -2n));
    expect(storeInteger(f80("400e:8000000000000000"), 16, 0)).toEqual({
      value: 0x8000n,
      flags: IE,
    });
    expect(storeInteger(f80("400d:fffe000000000000"), 16, 0)).toMatchObject({
      value: 0x7fffn,
      flags: 0,
    });
  });
});

describe("x87 comparisons and exponent operations", () => {
  it("compares with +0 = −0 and NaN unordered", () => {
    expect(compare(f80("0000:0000000000000000"), f80("8000:0000000000000000"), true).order).toBe(
      "eq",
    );
    expect(compare(f80("bfff:8000000000000000"), ONE, true).order).toBe("lt");
    expect(compare(INF, LDBL_MAX, true).order).toBe("gt");
    const qnan = f80("7fff:c000000000000000");
    expect(compare(qnan, ONE, true)).toEqual({ order: "unordered", flags: IE });
    expect(compare(qnan, ONE, false)).toEqual({ order: "unordered", flags: 0 });
  });

  it("computes FPREM and FPREM1 with the quotient bits", () => {
    const x = f80("4001:b000000000000000"); // 5.5
    const y = f80("4000:8000000000000000"); // 2
    const prem = partialRemainder(x, y, false);
    expect(hex80(prem.value)).toBe("3fff:c000000000000000"); // 1.5
    expect(prem.quotientBits).toBe(2);
    const prem1 = partialRemainder(x, y, true);
    expect(hex80(prem1.value)).toBe("bffe:8000000000000000"); // −0.5
    expect(prem1.quotientBits).toBe(3);
    // Partial reductions by 2^(D−N), N = 32 + D mod 32 (values from hardware).
    const far = partialRemainder(f80("fff0:c18ceb94ca02e548"), f80("c018:b8a0daee855a6409"), false);
    expect(far.partial).toBe(true);
    expect(hex80(far.value)).toBe("ffb8:9b69f53dd82b44b2");
    const far1 = partialRemainder(f80("c021:bb68686e72b3dd70"), f80("bfdb:a2d0e03f67599a00"), true);
    expect(hex80(far1.value)).toBe("bffa:89e51986cda2c000");
  });

  it("rounds to integral values, scales and extracts", () => {
    const minusHalf = f80("bffe:8000000000000000");
    expect(hex80(roundToIntegral(minusHalf, 0).value)).toBe("8000:0000000000000000");
    expect(hex80(roundToIntegral(minusHalf, 1).value)).toBe("bfff:8000000000000000");
    expect(hex80(scale(ONE, f80("4001:a000000000000000"), 0).value)).toBe("4004:8000000000000000"); // 1 × 2^5
    const parts = extract(f80("4001:a000000000000000")); // 5 = 1.25 × 2^2
    expect(hex80(parts.exponent)).toBe("4000:8000000000000000");
    expect(hex80(parts.significand)).toBe("3fff:a000000000000000");
    expect(EXTENDED.precision).toBe(64);
  });
});
