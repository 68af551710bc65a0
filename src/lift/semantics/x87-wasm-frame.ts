// The scaffolding of an x87 fast-path helper (x87-wasm.ts): a wasm function
// (address: i32) → i32 for one packed instruction id, whose body checks
// everything it needs first — registers not empty, operands of the classes
// it handles, the control word's precision — and branches to `slow` if
// anything is off, before it writes a byte. `slow` calls kernel.x87 with the
// same id and address, so the soft float answers every case the fast path
// leaves (and the state it sees is untouched).
//
// The status word, control word and tag byte are read once into locals and
// written back at the end, in the widths the soft float writes them
// (vkernel/x87/state.ts: the words as u32, the tags as a byte), so that both
// paths leave identical bytes in the state block.
import binaryen from "binaryen";
import { i32, i64, type Expr, type Wasm } from "../emit/wasm.js";
import { STATE_X87_CW, STATE_X87_SW, STATE_X87_TAG, stateX87 } from "../guest-layout.js";
import { X87_IMPORT } from "./x87-ops.js";

export interface Local {
  readonly index: number;
  readonly type: binaryen.Type;
}

/** A register value: 64-bit significand and sign<<15 | biased exponent. */
export interface Value {
  readonly sig: Local;
  readonly se: Local;
}

/** Status word bits (SDM Vol. 1 Figure 8-4) and exception flags. */
export const SW_C1 = 0x0200;
export const SW_CC = 0x4700;
const SW_TOP = 0x3800;
const SW_ES_B = 0x8080;
export const PE = 0x20;
export const EXP_BIAS = 16383;
export const INTEGER_BIT = 1n << 63n;

const R0 = stateX87(0);

export class X87Frame {
  readonly m: binaryen.Module;
  private readonly vars: binaryen.Type[] = [];
  private readonly body: Expr[] = [];
  /** The memory operand's address (the helper's parameter). */
  readonly address: Local = { index: 0, type: i32 };
  readonly sw: Local;
  readonly cw: Local;
  readonly tags: Local;
  readonly top: Local;

  constructor(readonly w: Wasm) {
    this.m = w.m;
    this.sw = this.local(i32);
    this.cw = this.local(i32);
    this.tags = this.local(i32);
    this.top = this.local(i32);
    const m = this.m;
    this.emit(
      this.set(this.sw, m.i32.load16_u(0, 2, this.c32(STATE_X87_SW))),
      this.set(this.cw, m.i32.load16_u(0, 2, this.c32(STATE_X87_CW))),
      this.set(this.tags, m.i32.load8_u(0, 1, this.c32(STATE_X87_TAG))),
      this.set(this.top, m.i32.and(m.i32.shr_u(this.get(this.sw), this.c32(11)), this.c32(7))),
    );
  }

  local(type: binaryen.Type): Local {
    this.vars.push(type);
    return { index: this.vars.length, type };
  }
  value(): Value {
    return { sig: this.local(i64), se: this.local(i32) };
  }
  get(l: Local): Expr {
    return this.m.local.get(l.index, l.type);
  }
  set(l: Local, e: Expr): Expr {
    return this.m.local.set(l.index, e);
  }
  c32(v: number): Expr {
    return this.w.c32(v);
  }
  c64(v: bigint | number): Expr {
    return this.w.c64(v);
  }
  emit(...e: Expr[]): void {
    this.body.push(...e);
  }
  /** Leaves for kernel.x87 when `condition` (an i32) is non-zero. */
  slowIf(condition: Expr): void {
    this.emit(this.m.br("slow", condition));
  }

  /** The biased exponent of `v`. */
  exponent(v: Value): Expr {
    return this.m.i32.and(this.get(v.se), this.c32(0x7fff));
  }
  isZero(v: Value): Expr {
    return this.m.i32.and(this.m.i32.eqz(this.exponent(v)), this.m.i64.eqz(this.get(v.sig)));
  }
  /** A normal: exponent 1 … 0x7ffe and the integer bit set. */
  isNormal(v: Value): Expr {
    const m = this.m;
    return m.i32.and(
      m.i32.lt_u(m.i32.sub(this.exponent(v), this.c32(1)), this.c32(0x7ffe)),
      m.i64.lt_s(this.get(v.sig), this.c64(0)),
    );
  }
  /** Leaves unless `v` is a zero or a normal (no denormals, infinities, NaNs). */
  requireOrdinary(v: Value): void {
    this.slowIf(this.m.i32.eqz(this.m.i32.or(this.isZero(v), this.isNormal(v))));
  }

  private physical(i: number): Expr {
    return this.m.i32.and(this.m.i32.add(this.get(this.top), this.c32(i)), this.c32(7));
  }
  private isEmpty(physical: Expr): Expr {
    return this.m.i32.eqz(
      this.m.i32.and(this.m.i32.shr_u(this.get(this.tags), physical), this.c32(1)),
    );
  }
  private slot(physical: Expr): Expr {
    return this.m.i32.mul(physical, this.c32(10));
  }

  /** ST(i) into `v`, leaving if it is empty (stack underflow). */
  readSt(i: number, v: Value): void {
    const m = this.m;
    const p = this.local(i32);
    this.emit(this.set(p, this.physical(i)));
    this.slowIf(this.isEmpty(this.get(p)));
    this.emit(
      this.set(v.sig, m.i64.load(R0, 1, this.slot(this.get(p)))),
      this.set(v.se, m.i32.load16_u(R0 + 8, 1, this.slot(this.get(p)))),
    );
  }

  /** Writes `v` to ST(i) and marks it full (after all the checks). */
  writeSt(i: number, v: Value): void {
    const m = this.m;
    const p = this.local(i32);
    this.emit(
      this.set(p, this.physical(i)),
      m.i64.store(R0, 1, this.slot(this.get(p)), this.get(v.sig)),
      m.i32.store16(R0 + 8, 1, this.slot(this.get(p)), this.get(v.se)),
      this.set(this.tags, m.i32.or(this.get(this.tags), m.i32.shl(this.c32(1), this.get(p)))),
    );
  }

  /** Leaves if a push would overflow the stack (the register below TOP is full). */
  checkPush(): void {
    this.slowIf(this.m.i32.eqz(this.isEmpty(this.physical(7))));
  }
  /** Pushes `v` (checkPush() must have run before any write). */
  push(v: Value): void {
    const m = this.m;
    this.emit(
      this.set(this.top, m.i32.and(m.i32.sub(this.get(this.top), this.c32(1)), this.c32(7))),
    );
    this.writeSt(0, v);
  }
  pop(): void {
    const m = this.m;
    this.emit(
      this.set(
        this.tags,
        m.i32.and(
          this.get(this.tags),
          m.i32.xor(m.i32.shl(this.c32(1), this.get(this.top)), this.c32(-1)),
        ),
      ),
      this.set(this.top, m.i32.and(m.i32.add(this.get(this.top), this.c32(1)), this.c32(7))),
    );
  }

  /** C1 ← `on` (an i32 0 or 1). */
  setC1(on: Expr): void {
    const m = this.m;
    const cleared = m.i32.and(this.get(this.sw), this.c32(~SW_C1));
    this.emit(this.set(this.sw, m.i32.or(cleared, m.i32.shl(on, this.c32(9)))));
  }
  /** Raises exception flags (an i32); an unmasked one also sets ES and B. */
  raise(flags: Local): void {
    const m = this.m;
    const unmasked = m.i32.and(
      m.i32.and(this.get(flags), m.i32.xor(this.get(this.cw), this.c32(-1))),
      this.c32(0x3f),
    );
    this.emit(
      this.set(
        this.sw,
        m.i32.or(
          m.i32.or(this.get(this.sw), this.get(flags)),
          m.select(unmasked, this.c32(SW_ES_B), this.c32(0)),
        ),
      ),
    );
  }
  /** PE when the dropped bits `rem` (an i64) are not all zero, else 0. */
  inexact(rem: Local): Expr {
    return this.m.select(this.m.i64.ne(this.get(rem), this.c64(0)), this.c32(PE), this.c32(0));
  }

  /** The RC field (0 nearest, 1 down, 2 up, 3 toward zero). */
  roundingControl(): Expr {
    return this.m.i32.and(this.m.i32.shr_u(this.get(this.cw), this.c32(10)), this.c32(3));
  }

  /**
   * Whether rounding increments the kept magnitude (an i32 0/1), by the RC
   * field: `rem` is what is dropped, `half` its halfway value, `odd` the
   * kept part's low bit (i64 0/1), `sign` the value's (i32 0/1).
   */
  roundsUp(sign: Local, rem: Local, half: bigint, odd: Expr): Expr {
    const m = this.m;
    const rc = this.local(i32);
    const inexact = (): Expr => m.i64.ne(this.get(rem), this.c64(0));
    const nearest = m.i32.or(
      m.i64.gt_u(this.get(rem), this.c64(half)),
      m.i32.and(m.i64.eq(this.get(rem), this.c64(half)), m.i32.wrap(odd)),
    );
    const towardSign = m.select(
      m.i32.eq(this.get(rc), this.c32(1)),
      this.get(sign),
      m.i32.and(m.i32.eq(this.get(rc), this.c32(2)), m.i32.eqz(this.get(sign))),
    );
    return m.block(
      null,
      [
        this.set(rc, this.roundingControl()),
        m.select(m.i32.eqz(this.get(rc)), nearest, m.i32.and(inexact(), towardSign)),
      ],
      i32,
    );
  }

  /** Writes the status word (with TOP) and the tag byte back. */
  writeStatus(): void {
    const m = this.m;
    const sw = m.i32.or(
      m.i32.and(this.get(this.sw), this.c32(0xffff & ~SW_TOP)),
      m.i32.shl(this.get(this.top), this.c32(11)),
    );
    this.emit(
      m.i32.store(0, 2, this.c32(STATE_X87_SW), sw),
      m.i32.store8(0, 1, this.c32(STATE_X87_TAG), this.get(this.tags)),
    );
  }

  /** Adds the function: the body, then `result` on the fast path; kernel.x87 otherwise. */
  finish(name: string, id: number, result: Expr): void {
    const m = this.m;
    const fast = m.block("slow", [...this.body, m.return(result)]);
    const slow = m.call(X87_IMPORT, [this.c32(id), this.get(this.address)], i32);
    m.addFunction(
      name,
      binaryen.createType([i32]),
      i32,
      this.vars,
      m.block(null, [fast, slow], i32),
    );
  }
}
