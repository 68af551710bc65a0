// x87 transcendentals and constants against correctly rounded values
// (mpmath at 300 bits), the FLD constants per rounding mode as measured on
// hardware, and FSIN's reduction by the 66-bit π (fsin(π rounded) = −2^-64).
import { describe, expect, it } from "vitest";
import { loadConstant } from "../../../src/vkernel/x87/constants.js";
import { hex80 } from "../../../src/vkernel/x87/float80.js";
import { IE, PE, ZE } from "../../../src/vkernel/x87/round.js";
import { f2xm1, fpatan, fyl2x, fyl2xp1, trig } from "../../../src/vkernel/x87/transcendental.js";
import { X87_CONST } from "../../../src/lift/semantics/x87-ops.js";
import { f80 } from "./f80.js";

const HALF = f80("3ffe:8000000000000000");
const ONE = f80("3fff:8000000000000000");

describe("x87 transcendental instructions", () => {
  it("F2XM1 is correctly rounded and exact at ±1", () => {
    expect(hex80(f2xm1(HALF, 0).value)).toBe("3ffd:d413cccfe7799211");
    expect(hex80(f2xm1(f80("bffd:8000000000000000"), 0).value)).toBe("bffc:a2ec0cd4a58a542f");
    expect(f2xm1(ONE, 0)).toEqual({ value: ONE, flags: 0, roundedUp: false });
    expect(hex80(f2xm1(f80("bfff:8000000000000000"), 0).value)).toBe("bffe:8000000000000000");
    expect(f2xm1(HALF, 0).flags).toBe(PE);
  });

  it("FYL2X and FYL2XP1", () => {
    const ten = f80("4002:a000000000000000");
    expect(hex80(fyl2x(ten, ONE, 0).value)).toBe("4000:d49a784bcd1b8afe");
    expect(hex80(fyl2x(f80("4000:c000000000000000"), f80("c000:8000000000000000"), 0).value)).toBe(
      "c000:cae00d1cfdeb43d0",
    );
    // log2 of a power of two is exact: 3 × log2(8) = 9, no precision exception.
    const r = fyl2x(f80("4002:8000000000000000"), f80("4000:c000000000000000"), 0);
    expect(r).toMatchObject({ value: f80("4002:9000000000000000"), flags: 0 });
    expect(fyl2x(f80("0000:0000000000000000"), ONE, 0)).toMatchObject({ flags: ZE });
    expect(fyl2x(f80("bfff:8000000000000000"), ONE, 0).flags).toBe(IE);
    expect(hex80(fyl2xp1(f80("3ffc:8000000000000000"), ONE, 0).value)).toBe(
      "3ffc:ae00d1cfdeb43cfd",
    );
  });

  it("FPATAN by quadrant", () => {
    expect(hex80(fpatan(ONE, ONE, 0).value)).toBe("3ffe:c90fdaa22168c235");
    expect(hex80(fpatan(f80("c000:8000000000000000"), ONE, 0).value)).toBe("4000:ab63739cbfad72cc");
    expect(hex80(fpatan(f80("8000:0000000000000000"), f80("0000:0000000000000000"), 0).value)).toBe(
      "4000:c90fdaa22168c235",
    );
  });

  it("FSIN, FCOS, FPTAN, with the 66-bit π reduction", () => {
    const t = trig(HALF, 0);
    expect(hex80(t.sin.value)).toBe("3ffd:f57743a2582f7f44");
    expect(hex80(t.cos.value)).toBe("3ffe:e0a94032dbea7cee");
    expect(hex80(t.tan.value)).toBe("3ffe:8bda7adf9a3a5219");
    expect(hex80(trig(f80("4000:c90fdaa22168c235"), 0).sin.value)).toBe("bfbf:8000000000000000");
    expect(trig(f80("403e:8000000000000000"), 0).outOfRange).toBe(true);
  });
});

describe("FLD constants", () => {
  const all = (index: number): string[] =>
    ([0, 1, 2, 3] as const).map((rc) => hex80(loadConstant(index, rc).value));

  it("round by RC from extra precision (measured on hardware)", () => {
    expect(all(X87_CONST.PI)).toEqual([
      "4000:c90fdaa22168c235",
      "4000:c90fdaa22168c234",
      "4000:c90fdaa22168c235",
      "4000:c90fdaa22168c234",
    ]);
    expect(all(X87_CONST.LG2)[0]).toBe("3ffd:9a209a84fbcff799");
    expect(all(X87_CONST.L2T)[2]).toBe("4000:d49a784bcd1b8aff");
    expect(all(X87_CONST.L2E)[1]).toBe("3fff:b8aa3b295c17f0bb");
    expect(all(X87_CONST.LN2)[0]).toBe("3ffe:b17217f7d1cf79ac");
  });
});
