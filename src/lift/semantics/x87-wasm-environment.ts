// FNSTENV and FLDENV on the x87 fast path (x87-wasm.ts): the 28-byte
// protected-mode environment image as vkernel/x87/environment.ts writes and
// reads it — control, status and full tag word with reserved upper halves
// of ones, zero instruction and operand pointers; FNSTENV then masks every
// exception. They never need the kernel: glibc's fenv functions
// (feholdexcept, feupdateenv: its software fma() calls both) run them on
// every call.
import { i32, type Expr } from "../emit/wasm.js";
import { STATE_X87_CW, STATE_X87_SW, STATE_X87_TAG, stateX87 } from "../guest-layout.js";
import type { X87Frame } from "./x87-wasm-frame.js";

/** FNSTENV; returns the helper's result. */
export function storeEnvironment(f: X87Frame): Expr {
  const m = f.m;
  const store = (offset: number, value: Expr): Expr =>
    m.i32.store(offset, 1, f.get(f.address), value);
  const reserved = (value: Expr): Expr => m.i32.or(value, f.c32(0xffff0000 | 0));
  f.emit(
    store(0, reserved(f.get(f.cw))),
    store(4, reserved(f.get(f.sw))),
    store(8, reserved(fullTagWord(f))),
    ...[12, 16, 20, 24].map((offset) => store(offset, f.c32(0))),
    m.i32.store(0, 2, f.c32(STATE_X87_CW), m.i32.or(f.get(f.cw), f.c32(0x3f))),
  );
  return f.c32(0);
}

/** Tag word (SDM Vol. 1 §8.1.7): per physical register 00 valid, 01 zero, 10 special, 11 empty. */
function fullTagWord(f: X87Frame): Expr {
  const m = f.m;
  let word: Expr = f.c32(0);
  for (let r = 0; r < 8; r++) {
    const v = f.value();
    f.emit(
      f.set(v.sig, m.i64.load(0, 1, f.c32(stateX87(r)))),
      f.set(v.se, m.i32.load16_u(0, 1, f.c32(stateX87(r) + 8))),
    );
    const full = m.i32.and(m.i32.shr_u(f.get(f.tags), f.c32(r)), f.c32(1));
    const kind = m.select(f.isZero(v), f.c32(1), m.select(f.isNormal(v), f.c32(0), f.c32(2)));
    word = m.i32.or(word, m.i32.shl(m.select(full, kind, f.c32(3)), f.c32(2 * r)));
  }
  return word;
}

/** FLDENV; returns the helper's result. */
export function loadEnvironment(f: X87Frame): Expr {
  const m = f.m;
  const tagWord = f.local(i32);
  const load = (offset: number): Expr => m.i32.load16_u(offset, 1, f.get(f.address));
  let tags: Expr = f.c32(0);
  for (let r = 0; r < 8; r++) {
    const field = m.i32.and(m.i32.shr_u(f.get(tagWord), f.c32(2 * r)), f.c32(3));
    tags = m.i32.or(tags, m.i32.shl(m.i32.ne(field, f.c32(3)), f.c32(r)));
  }
  f.emit(
    f.set(tagWord, load(8)),
    m.i32.store(0, 2, f.c32(STATE_X87_CW), load(0)),
    m.i32.store(0, 2, f.c32(STATE_X87_SW), load(4)),
    m.i32.store8(0, 1, f.c32(STATE_X87_TAG), tags),
  );
  return f.c32(0);
}
