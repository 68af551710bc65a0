// The x87 register stack and control/status registers as they sit in the
// process's state block (guest-layout.ts; SDM Vol. 1 §8.1): TOP-relative
// access to ST(i), push and pop with the tag bits, the masked responses to
// stack overflow and underflow (§8.5.1.1: IE and SF set, C1 tells which,
// the result is the real indefinite), and exception bookkeeping.
import { STATE_X87_CW, STATE_X87_SW, STATE_X87_TAG, stateX87 } from "../../lift/guest-layout.js";
import { classify, INDEFINITE, readFloat80, writeFloat80, type Float80 } from "./float80.js";
import { extendedWithPrecision, IE, type Format, type RoundingMode } from "./round.js";

/** Status word bits (SDM Vol. 1 Figure 8-4). */
export const SW_SF = 0x0040;
export const SW_ES = 0x0080;
export const SW_C0 = 0x0100;
export const SW_C1 = 0x0200;
export const SW_C2 = 0x0400;
export const SW_C3 = 0x4000;
export const SW_CC = SW_C0 | SW_C1 | SW_C2 | SW_C3;
export const SW_B = 0x8000;
const SW_TOP = 0x3800;

/** Precision-control field → significand bits (Vol. 1 Table 8-2; 01 is reserved). */
const PRECISION = [24, 64, 53, 64];

export class X87State {
  constructor(readonly view: DataView) {}

  get cw(): number {
    return this.view.getUint16(STATE_X87_CW, true);
  }
  set cw(value: number) {
    this.view.setUint32(STATE_X87_CW, value & 0xffff, true);
  }
  get sw(): number {
    return this.view.getUint16(STATE_X87_SW, true);
  }
  set sw(value: number) {
    this.view.setUint32(STATE_X87_SW, value & 0xffff, true);
  }
  /** Abridged tag: bit i set when physical register i holds a value. */
  get tags(): number {
    return this.view.getUint8(STATE_X87_TAG);
  }
  set tags(value: number) {
    this.view.setUint8(STATE_X87_TAG, value & 0xff);
  }

  get top(): number {
    return (this.sw >> 11) & 7;
  }
  set top(value: number) {
    this.sw = (this.sw & ~SW_TOP) | ((value & 7) << 11);
  }

  get rc(): RoundingMode {
    return ((this.cw >> 10) & 3) as RoundingMode;
  }
  /** The extended format with the precision-control significand (§8.1.5.2). */
  get precisionFormat(): Format {
    return extendedWithPrecision(PRECISION[(this.cw >> 8) & 3] as number);
  }

  physical(i: number): number {
    return (this.top + i) & 7;
  }
  isEmpty(i: number): boolean {
    return (this.tags & (1 << this.physical(i))) === 0;
  }
  readPhysical(r: number): Float80 {
    return readFloat80(this.view, stateX87(r));
  }
  writePhysical(r: number, v: Float80): void {
    writeFloat80(this.view, stateX87(r), v);
  }

  /** ST(i); an empty register is a stack underflow answered with the indefinite. */
  st(i: number): Float80 {
    if (this.isEmpty(i)) {
      this.raise(IE | SW_SF);
      this.setC1(false);
      return INDEFINITE;
    }
    return this.readPhysical(this.physical(i));
  }

  /** The raw content of ST(i), empty or not (FXAM, FXCH). */
  peek(i: number): Float80 {
    return this.readPhysical(this.physical(i));
  }

  setSt(i: number, v: Float80): void {
    const r = this.physical(i);
    this.writePhysical(r, v);
    this.tags |= 1 << r;
  }

  push(v: Float80): void {
    const top = (this.top - 1) & 7;
    this.top = top;
    if ((this.tags & (1 << top)) !== 0) {
      // Stack overflow (§8.5.1.1): C1 = 1 and the indefinite is loaded.
      this.raise(IE | SW_SF);
      this.setC1(true);
      this.writePhysical(top, INDEFINITE);
    } else this.writePhysical(top, v);
    this.tags |= 1 << top;
  }

  pop(): void {
    this.tags &= ~(1 << this.top);
    this.top = this.top + 1;
  }

  free(i: number): void {
    this.tags &= ~(1 << this.physical(i));
  }

  /** Sets exception flags; an unmasked one also sets ES and B (§8.1.3.1). */
  raise(flags: number): void {
    let sw = this.sw | (flags & 0x7f);
    if ((flags & ~this.cw & 0x3f) !== 0) sw |= SW_ES | SW_B;
    this.sw = sw;
  }

  setC1(on: boolean): void {
    this.sw = on ? this.sw | SW_C1 : this.sw & ~SW_C1;
  }

  /** Replaces C0–C3 with `bits` (status-word positions). */
  setConditionCodes(bits: number): void {
    this.sw = (this.sw & ~SW_CC) | (bits & SW_CC);
  }

  /** The full tag word of FNSTENV/FNSAVE (§8.1.7): 00 valid, 01 zero, 10 special, 11 empty. */
  fullTagWord(): number {
    let word = 0;
    for (let r = 0; r < 8; r++) {
      let tag = 3;
      if ((this.tags & (1 << r)) !== 0) {
        const k = classify(this.readPhysical(r));
        tag = k === "normal" ? 0 : k === "zero" ? 1 : 2;
      }
      word |= tag << (2 * r);
    }
    return word;
  }

  /** FNINIT (Vol. 2A "FINIT/FNINIT"): CW 0x37f, SW 0, all registers empty. */
  init(): void {
    this.cw = 0x37f;
    this.sw = 0;
    this.tags = 0;
  }
}
