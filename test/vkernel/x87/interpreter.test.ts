// The x87 hypercall on a bare state block and memory: the register stack
// (TOP, tags, overflow and underflow), memory formats, FCOMI's EFLAGS bits,
// FNSTSW, FXAM, the FPREM loop, and the FNSTENV/FNSAVE/FXSAVE images.
import { beforeEach, describe, expect, it } from "vitest";
import { STATE_MXCSR, STATE_X87_TAG, stateXmm } from "../../../src/lift/guest-layout.js";
import {
  encodeX87,
  X87_CONST,
  X87_MEM,
  X87_OP,
  type X87Instruction,
} from "../../../src/lift/semantics/x87-ops.js";
import { hex80, readFloat80 } from "../../../src/vkernel/x87/float80.js";
import { executeX87 } from "../../../src/vkernel/x87/interpreter.js";

const SCRATCH = 0x8000;
let view: DataView;

function x87(op: X87Instruction["op"], o: Partial<X87Instruction> = {}, address = SCRATCH): number {
  const id = encodeX87({ op, reg: 0, toReg: false, pops: 0, mem: X87_MEM.NONE, ...o });
  return executeX87(view, id, address);
}
const sw = (): number => x87(X87_OP.STSW);
const top = (): number => (sw() >> 11) & 7;

/** Stores ST(0) as m80 at SCRATCH and returns it as hex (FSTP m80 when `pop`). */
function st0(pop = false): string {
  x87(X87_OP.ST, { mem: X87_MEM.FP80, pops: pop ? 1 : 0 });
  return hex80(readFloat80(view, SCRATCH));
}

beforeEach(() => {
  view = new DataView(new ArrayBuffer(0x10000));
  x87(X87_OP.INIT);
});

describe("x87 interpreter", () => {
  it("pushes, computes and pops through TOP and the tag byte", () => {
    x87(X87_OP.LDCONST, { reg: X87_CONST.ONE });
    view.setFloat64(SCRATCH, 3, true);
    x87(X87_OP.LD, { mem: X87_MEM.FP64 });
    expect(top()).toBe(6);
    expect(view.getUint8(STATE_X87_TAG)).toBe(0xc0);
    // FDIVP ST(1), ST(0): ST(1) = 1 / 3, pop.
    x87(X87_OP.DIV, { reg: 1, toReg: true, pops: 1 });
    expect(st0()).toBe("3ffd:aaaaaaaaaaaaaaab");
    x87(X87_OP.ST, { mem: X87_MEM.FP64, pops: 1 });
    expect(view.getFloat64(SCRATCH, true)).toBe(1 / 3);
    expect(top()).toBe(0);
    expect(view.getUint8(STATE_X87_TAG)).toBe(0);
  });

  it("answers stack overflow and underflow with the indefinite and IE|SF", () => {
    for (let i = 0; i < 9; i++) x87(X87_OP.LDCONST, { reg: X87_CONST.PI });
    expect(sw() & 0x0241).toBe(0x0241); // C1 (overflow), SF, IE
    expect(st0()).toBe("ffff:c000000000000000");
    x87(X87_OP.INIT);
    x87(X87_OP.CHS);
    expect(sw() & 0x0241).toBe(0x0041); // C1 clear: underflow
    expect(st0()).toBe("ffff:c000000000000000");
  });

  it("applies RC and PC from the control word", () => {
    view.setUint16(SCRATCH, 0x027f | 0x0c00, true); // PC 53 bits, round toward zero
    x87(X87_OP.LDCW);
    x87(X87_OP.LDCONST, { reg: X87_CONST.ONE });
    view.setInt32(SCRATCH, 3, true);
    x87(X87_OP.DIV, { mem: X87_MEM.INT32 });
    expect(st0()).toBe("3ffd:aaaaaaaaaaaaa800");
    view.setFloat32(SCRATCH, -2.5, true);
    x87(X87_OP.LD, { mem: X87_MEM.FP32 });
    x87(X87_OP.IST, { mem: X87_MEM.INT16, pops: 1 });
    expect(view.getInt16(SCRATCH, true)).toBe(-2);
  });

  it("returns ZF PF CF for FCOMI and C3 C2 C0 for FCOM", () => {
    x87(X87_OP.LDCONST, { reg: X87_CONST.ONE });
    x87(X87_OP.LDCONST, { reg: X87_CONST.Z });
    expect(x87(X87_OP.COMI, { reg: 1 })).toBe(4); // 0 < 1: CF
    expect(x87(X87_OP.UCOMI, { reg: 0 })).toBe(1); // equal: ZF
    x87(X87_OP.COM, { reg: 1 });
    expect(sw() & 0x4500).toBe(0x0100);
    view.setBigUint64(SCRATCH, 0x7ff8000000000000n, true);
    x87(X87_OP.LD, { mem: X87_MEM.FP64 });
    expect(x87(X87_OP.UCOMI, { reg: 1 })).toBe(7); // unordered
    x87(X87_OP.XAM);
    expect(sw() & 0x4700).toBe(0x0100); // NaN
    x87(X87_OP.FREE, { reg: 0 });
    x87(X87_OP.XAM);
    expect(sw() & 0x4500).toBe(0x4100); // empty
  });

  it("loads and stores packed BCD (FBLD, FBSTP)", () => {
    const bcd = (bytes: number[]): void => bytes.forEach((b, i) => view.setUint8(SCRATCH + i, b));
    const stored = (): number[] => [...new Uint8Array(view.buffer, SCRATCH, 10)];
    bcd([0x34, 0x12, 0, 0, 0, 0, 0, 0, 0, 0x80]); // −1234
    x87(X87_OP.LD, { mem: X87_MEM.BCD });
    expect(st0()).toBe("c009:9a40000000000000");
    view.setFloat64(SCRATCH, 98765.5, true);
    x87(X87_OP.LD, { mem: X87_MEM.FP64 });
    x87(X87_OP.BSTP, { mem: X87_MEM.BCD, pops: 1 }); // ties to even: 98766
    expect(stored()).toEqual([0x66, 0x87, 0x09, 0, 0, 0, 0, 0, 0, 0]);
    view.setFloat64(SCRATCH, 1e18, true);
    x87(X87_OP.LD, { mem: X87_MEM.FP64 });
    x87(X87_OP.BSTP, { mem: X87_MEM.BCD, pops: 1 });
    expect(stored()).toEqual([0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff]);
    expect(sw() & 1).toBe(1);
  });

  it("loops FPREM until C2 clears and leaves the exact remainder", () => {
    view.setFloat64(SCRATCH, 0.7, true);
    x87(X87_OP.LD, { mem: X87_MEM.FP64 });
    view.setFloat64(SCRATCH, 1e30, true);
    x87(X87_OP.LD, { mem: X87_MEM.FP64 });
    let steps = 0;
    do {
      x87(X87_OP.PREM);
      steps++;
    } while ((sw() & 0x0400) !== 0);
    expect(steps).toBeGreaterThan(1);
    expect(st0()).toBe("3ffe:97e332a9892a5000");
  });

  it("writes the FNSTENV, FNSAVE and FXSAVE images", () => {
    x87(X87_OP.LDCONST, { reg: X87_CONST.Z });
    x87(X87_OP.LDCONST, { reg: X87_CONST.ONE });
    x87(X87_OP.STENV);
    expect(view.getUint32(SCRATCH, true)).toBe(0xffff037f);
    expect(view.getUint32(SCRATCH + 4, true)).toBe(0xffff3000);
    expect(view.getUint32(SCRATCH + 8, true)).toBe(0xffff4fff); // R7 zero, R6 valid
    x87(X87_OP.LDENV);
    view.setUint32(STATE_MXCSR, 0x1f80, true);
    view.setBigUint64(stateXmm(3), 0x1122334455667788n, true);
    x87(X87_OP.FXSAVE);
    expect(view.getUint8(SCRATCH + 4)).toBe(0xc0);
    expect(view.getUint32(SCRATCH + 24, true)).toBe(0x1f80);
    expect(hex80(readFloat80(view, SCRATCH + 32))).toBe("3fff:8000000000000000");
    expect(view.getBigUint64(SCRATCH + 160 + 3 * 16, true)).toBe(0x1122334455667788n);
    x87(X87_OP.SAVE, {}, SCRATCH + 0x400);
    expect(top()).toBe(0); // FNSAVE reinitialises
    x87(X87_OP.FXRSTOR);
    expect(top()).toBe(6);
    expect(st0()).toBe("3fff:8000000000000000");
  });
});
