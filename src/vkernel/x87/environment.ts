// The x87 environment and state images in guest memory: FNSTENV/FLDENV
// (28-byte protected-mode format, SDM Vol. 1 Figure 8-9), FNSAVE/FRSTOR
// (that environment plus ST(0)–ST(7), Figure 8-10) and FXSAVE/FXRSTOR (the
// 512-byte 64-bit format, Vol. 1 Table 10-2, with MXCSR and XMM0–15 from the
// state block). The last-instruction and operand pointers are not tracked
// and are stored as zero.
import { STATE_MXCSR, stateXmm } from "../../lift/guest-layout.js";
import { readFloat80, writeFloat80 } from "./float80.js";
import type { X87State } from "./state.js";

/** What this CPU model lets software set in MXCSR (no DAZ restriction). */
const MXCSR_MASK = 0xffff;

/** FNSTENV: stores the environment, then masks all exceptions (Vol. 2A "FSTENV/FNSTENV"). */
export function storeEnvironment(s: X87State, mem: DataView, at: number): void {
  // The reserved upper halves read back as ones on Intel processors.
  mem.setUint32(at, 0xffff0000 | s.cw, true);
  mem.setUint32(at + 4, 0xffff0000 | s.sw, true);
  mem.setUint32(at + 8, 0xffff0000 | s.fullTagWord(), true);
  for (let off = 12; off < 28; off += 4) mem.setUint32(at + off, 0, true);
  s.cw = s.cw | 0x3f;
}

export function loadEnvironment(s: X87State, mem: DataView, at: number): void {
  s.cw = mem.getUint16(at, true);
  s.sw = mem.getUint16(at + 4, true);
  const tagWord = mem.getUint16(at + 8, true);
  let tags = 0;
  for (let r = 0; r < 8; r++) if (((tagWord >> (2 * r)) & 3) !== 3) tags |= 1 << r;
  s.tags = tags;
}

/** FNSAVE: environment, registers in stack order, then FNINIT. */
export function saveState(s: X87State, mem: DataView, at: number): void {
  const cw = s.cw;
  storeEnvironment(s, mem, at);
  s.cw = cw;
  for (let i = 0; i < 8; i++) writeFloat80(mem, at + 28 + i * 10, s.peek(i));
  s.init();
}

export function restoreState(s: X87State, mem: DataView, at: number): void {
  loadEnvironment(s, mem, at);
  for (let i = 0; i < 8; i++) s.writePhysical(s.physical(i), readFloat80(mem, at + 28 + i * 10));
}

/** FXSAVE (64-bit layout): x87 state, MXCSR and the XMM registers. */
export function fxsave(s: X87State, mem: DataView, at: number): void {
  mem.setUint16(at, s.cw, true);
  mem.setUint16(at + 2, s.sw, true);
  mem.setUint8(at + 4, s.tags);
  mem.setUint8(at + 5, 0);
  mem.setUint16(at + 6, 0, true);
  mem.setBigUint64(at + 8, 0n, true);
  mem.setBigUint64(at + 16, 0n, true);
  mem.setUint32(at + 24, s.view.getUint32(STATE_MXCSR, true), true);
  mem.setUint32(at + 28, MXCSR_MASK, true);
  for (let i = 0; i < 8; i++) {
    const slot = at + 32 + i * 16;
    writeFloat80(mem, slot, s.peek(i));
    mem.setUint16(slot + 10, 0, true);
    mem.setUint32(slot + 12, 0, true);
  }
  for (let i = 0; i < 16; i++) {
    for (let b = 0; b < 16; b += 8)
      mem.setBigUint64(at + 160 + i * 16 + b, s.view.getBigUint64(stateXmm(i) + b, true), true);
  }
}

export function fxrstor(s: X87State, mem: DataView, at: number): void {
  s.cw = mem.getUint16(at, true);
  s.sw = mem.getUint16(at + 2, true);
  s.tags = mem.getUint8(at + 4);
  s.view.setUint32(STATE_MXCSR, mem.getUint32(at + 24, true), true);
  for (let i = 0; i < 8; i++) s.writePhysical(s.physical(i), readFloat80(mem, at + 32 + i * 16));
  for (let i = 0; i < 16; i++) {
    for (let b = 0; b < 16; b += 8)
      s.view.setBigUint64(stateXmm(i) + b, mem.getBigUint64(at + 160 + i * 16 + b, true), true);
  }
}
