// Shifts, rotates and bit operations (SDM Vol. 1 §5.1.5–5.1.6): shl/sal, shr,
// sar, rol, ror, shld, shrd, bt/bts/btr/btc, bsf, bsr, tzcnt, lzcnt, popcnt.
// A shift by a zero count changes no flag, so variable-count shifts select
// between the old and the new value of each flag.
import { Mnemonic } from "iced-x86";
import { AF, CF, OF, PF, SF, ZF } from "../emit/flags.js";
import type { FunctionContext } from "../emit/function-context.js";
import { i32, type Expr, type Size } from "../emit/wasm.js";
import { zeroExtendOnly } from "./rotate-carry.js";
import type { SemanticsEntry } from "./types.js";

type ShiftKind = "shl" | "shr" | "sar" | "rol" | "ror";

function countOperand(ctx: FunctionContext): { local: number; constant?: number } {
  const size = ctx.operandSize(0);
  const op = ctx.ins.operands[1];
  const maskBits = size === 8 ? 63 : 31;
  if (op === undefined) return { local: ctx.let(ctx.w.c64(1)), constant: 1 };
  if (op.kind === "imm") {
    const c = Number(op.value & BigInt(maskBits));
    return { local: ctx.let(ctx.w.c64(c)), constant: c };
  }
  return { local: ctx.let(ctx.m.i64.and(ctx.read(1), ctx.w.c64(maskBits))) };
}

function shift(kind: ShiftKind) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const w = ctx.w;
    const size = ctx.operandSize(0);
    const bits = size * 8;
    const count = countOperand(ctx);
    if (count.constant === 0) return zeroExtendOnly(ctx);
    const a = ctx.let(ctx.read(0));
    const c = (): Expr => ctx.get(count.local);
    let result: Expr;
    let carry: Expr = ctx.w.c32(0);
    let overflow: Expr;
    const msb = (e: Expr): Expr => w.bit(e, bits - 1);
    // Four-byte shifts run as i32 shifts (see Wasm.arith); counts are masked to 31.
    const shift32 = (op: (x: Expr, y: Expr) => Expr): Expr =>
      m.i64.extend_u(op(w.wrap32(ctx.get(a)), w.wrap32(c())));
    switch (kind) {
      case "shl":
        result =
          size === 4
            ? shift32((x, y) => m.i32.shl(x, y))
            : w.truncate(m.i64.shl(ctx.get(a), c()), size);
        carry =
          size === 8
            ? w.bit(m.i64.shr_u(ctx.get(a), m.i64.sub(w.c64(64), c())), 0)
            : w.bit(m.i64.shr_u(m.i64.shl(ctx.get(a), c()), w.c64(bits)), 0);
        break;
      case "shr":
        result = size === 4 ? shift32((x, y) => m.i32.shr_u(x, y)) : m.i64.shr_u(ctx.get(a), c());
        carry = w.bit(m.i64.shr_u(ctx.get(a), m.i64.sub(c(), w.c64(1))), 0);
        break;
      case "sar":
        result =
          size === 4
            ? shift32((x, y) => m.i32.shr_s(x, y))
            : w.truncate(m.i64.shr_s(w.signExtend(ctx.get(a), size), c()), size);
        carry = w.bit(m.i64.shr_s(w.signExtend(ctx.get(a), size), m.i64.sub(c(), w.c64(1))), 0);
        break;
      case "rol":
      case "ror": {
        result = rotate(ctx, kind, a, count.local, size);
        break;
      }
    }
    const res = ctx.let(result);
    if (kind === "rol" || kind === "ror") {
      // Rotates touch only CF and OF (SDM Vol. 2B "RCL/RCR/ROL/ROR").
      carry = kind === "rol" ? w.bit(ctx.get(res), 0) : msb(ctx.get(res));
      const cf = ctx.let(carry, i32);
      overflow =
        kind === "rol"
          ? m.i32.xor(msb(ctx.get(res)), ctx.get(cf, i32))
          : m.i32.xor(msb(ctx.get(res)), w.bit(ctx.get(res), bits - 2));
      setFlagsIfCounted(ctx, count, [
        [CF, ctx.get(cf, i32)],
        [OF, overflow],
      ]);
    } else {
      const cf = ctx.let(carry, i32);
      if (kind === "shl") overflow = m.i32.xor(msb(ctx.get(res)), ctx.get(cf, i32));
      else if (kind === "shr") overflow = msb(ctx.get(a));
      else overflow = w.c32(0);
      const zf = m.i64.eqz(ctx.get(res));
      const sf = msb(ctx.get(res));
      const pf = m.i32.xor(
        m.i32.and(m.i32.popcnt(m.i32.and(m.i32.wrap(ctx.get(res)), w.c32(0xff))), w.c32(1)),
        w.c32(1),
      );
      setFlagsIfCounted(ctx, count, [
        [CF, ctx.get(cf, i32)],
        [OF, overflow],
        [ZF, zf],
        [SF, sf],
        [PF, pf],
        [AF, w.c32(0)],
      ]);
    }
    ctx.write(0, ctx.get(res));
  };
}

function rotate(
  ctx: FunctionContext,
  kind: "rol" | "ror",
  a: number,
  count: number,
  size: Size,
): Expr {
  const m = ctx.m;
  const w = ctx.w;
  if (size === 8)
    return kind === "rol"
      ? m.i64.rotl(ctx.get(a), ctx.get(count))
      : m.i64.rotr(ctx.get(a), ctx.get(count));
  if (size === 4) {
    const x = w.wrap32(ctx.get(a));
    const n = w.wrap32(ctx.get(count));
    return m.i64.extend_u(kind === "rol" ? m.i32.rotl(x, n) : m.i32.rotr(x, n));
  }
  const bits = size * 8;
  const n = ctx.let(m.i64.rem_u(ctx.get(count), w.c64(bits)));
  const left = kind === "rol" ? n : ctx.let(m.i64.sub(w.c64(bits), ctx.get(n)));
  const right = kind === "rol" ? ctx.let(m.i64.sub(w.c64(bits), ctx.get(n))) : n;
  return w.truncate(
    m.i64.or(m.i64.shl(ctx.get(a), ctx.get(left)), m.i64.shr_u(ctx.get(a), ctx.get(right))),
    size,
  );
}

function setFlagsIfCounted(
  ctx: FunctionContext,
  count: { local: number; constant?: number },
  flags: [number, Expr][],
): void {
  const values = flags.map(([bit, value]) => {
    if (count.constant !== undefined) return [bit, value] as const;
    const zero = ctx.m.i64.eqz(ctx.get(count.local));
    return [bit, ctx.m.select(zero, ctx.flag(bit), value)] as const;
  });
  const locals = values.map(([bit, value]) => [bit, ctx.let(value, i32)] as const);
  for (const [bit, local] of locals) ctx.setFlag(bit, ctx.get(local, i32));
}

/** shld/shrd (SDM Vol. 2B "SHLD"): shift dst, filling from src. */
function doubleShift(left: boolean) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const w = ctx.w;
    const size = ctx.operandSize(0);
    const bits = size * 8;
    const op = ctx.ins.operands[2];
    const maskBits = size === 8 ? 63 : 31;
    const count = ctx.let(
      op?.kind === "imm"
        ? w.c64(Number(op.value) & maskBits)
        : m.i64.and(ctx.read(2), w.c64(maskBits)),
    );
    const dst = ctx.let(ctx.read(0));
    const src = ctx.let(ctx.read(1));
    const c = (): Expr => ctx.get(count);
    const rest = (): Expr => m.i64.sub(w.c64(bits), c());
    let shifted: Expr;
    if (size === 8) {
      shifted = left
        ? m.i64.or(m.i64.shl(ctx.get(dst), c()), m.i64.shr_u(ctx.get(src), rest()))
        : m.i64.or(m.i64.shr_u(ctx.get(dst), c()), m.i64.shl(ctx.get(src), rest()));
    } else {
      // Put dst:src in one i64 and shift.
      const joined = left
        ? m.i64.or(m.i64.shl(ctx.get(dst), w.c64(32)), m.i64.shl(ctx.get(src), w.c64(32 - bits)))
        : m.i64.or(m.i64.shl(ctx.get(src), w.c64(bits)), ctx.get(dst));
      shifted = left ? m.i64.shr_u(m.i64.shl(joined, c()), w.c64(32)) : m.i64.shr_u(joined, c());
    }
    const res = ctx.let(m.select(m.i64.eqz(c()), ctx.get(dst), w.truncate(shifted, size)));
    const carry = left
      ? w.bit(m.i64.shr_u(ctx.get(dst), m.i64.sub(rest(), w.c64(0))), 0)
      : w.bit(m.i64.shr_u(ctx.get(dst), m.i64.sub(c(), w.c64(1))), 0);
    setFlagsIfCounted(ctx, { local: count }, [
      [CF, left ? w.bit(m.i64.shl(ctx.get(dst), m.i64.sub(c(), w.c64(1))), bits - 1) : carry],
      [ZF, m.i64.eqz(ctx.get(res))],
      [SF, w.bit(ctx.get(res), bits - 1)],
      [OF, w.c32(0)],
      [
        PF,
        m.i32.xor(
          m.i32.and(m.i32.popcnt(m.i32.and(m.i32.wrap(ctx.get(res)), w.c32(0xff))), w.c32(1)),
          w.c32(1),
        ),
      ],
    ]);
    ctx.write(0, ctx.get(res));
  };
}

/** bt/bts/btr/btc: CF = the selected bit (SDM Vol. 2A "BT"); memory forms address a bit string. */
function bitTest(kind: "bt" | "bts" | "btr" | "btc") {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const w = ctx.w;
    const size = ctx.operandSize(0);
    const dst = ctx.ins.operands[0];
    const off = ctx.ins.operands[1];
    let ptr: number | undefined;
    let value: number;
    let bit: number;
    let accessSize: Size = size;
    if (dst?.kind === "mem" && off?.kind === "reg") {
      const o = ctx.let(w.signExtend(ctx.read(1), size));
      ptr = ctx.let(
        m.i32.wrap(
          m.i64.add(ctx.effectiveAddress(ctx.memory()), m.i64.shr_s(ctx.get(o), w.c64(3))),
        ),
        i32,
      );
      accessSize = 1;
      value = ctx.let(w.load(1, ctx.get(ptr, i32)));
      bit = ctx.let(m.i64.and(ctx.get(o), w.c64(7)));
    } else {
      value = ctx.let(ctx.read(0));
      bit = ctx.let(m.i64.and(ctx.read(1), w.c64(size * 8 - 1)));
    }
    const one = m.i64.shl(w.c64(1), ctx.get(bit));
    ctx.setFlag(CF, w.bit(m.i64.shr_u(ctx.get(value), ctx.get(bit)), 0));
    if (kind === "bt") return;
    let updated: Expr;
    if (kind === "bts") updated = m.i64.or(ctx.get(value), one);
    else if (kind === "btr") updated = m.i64.and(ctx.get(value), m.i64.xor(one, w.c64(-1n)));
    else updated = m.i64.xor(ctx.get(value), one);
    if (ptr !== undefined) ctx.emit(w.store(accessSize, ctx.get(ptr, i32), updated));
    else ctx.write(0, updated);
  };
}

function bitScan(kind: "bsf" | "bsr" | "tzcnt" | "lzcnt" | "popcnt") {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const w = ctx.w;
    const size = ctx.operandSize(0);
    const bits = size * 8;
    const src = ctx.let(ctx.read(1));
    const zero = ctx.let(m.i64.eqz(ctx.get(src)), i32);
    if (kind === "popcnt") {
      ctx.write(0, m.i64.popcnt(ctx.get(src)));
      ctx.setFlag(ZF, ctx.get(zero, i32));
      ctx.clearFlags(CF | OF | SF | AF | PF);
      return;
    }
    const ctz = m.i64.ctz(ctx.get(src));
    const clzSized = m.i64.sub(m.i64.clz(ctx.get(src)), w.c64(64 - bits));
    if (kind === "bsf" || kind === "bsr") {
      const found = kind === "bsf" ? ctz : m.i64.sub(w.c64(bits - 1), clzSized);
      // Source 0: ZF=1 and the destination is left unchanged (as hardware does).
      ctx.write(0, m.select(ctx.get(zero, i32), ctx.read(0), found));
      ctx.setFlag(ZF, ctx.get(zero, i32));
      ctx.clearFlags(CF | OF | SF | AF | PF);
      return;
    }
    const count = ctx.let(
      kind === "tzcnt" ? m.select(ctx.get(zero, i32), w.c64(bits), ctz) : clzSized,
    );
    ctx.write(0, ctx.get(count));
    ctx.setFlag(CF, ctx.get(zero, i32));
    ctx.setFlag(ZF, m.i64.eqz(ctx.get(count)));
    ctx.clearFlags(OF | SF | AF | PF);
  };
}

export const bitOpSemantics: readonly SemanticsEntry[] = [
  [Mnemonic.Shl, shift("shl")],
  [Mnemonic.Sal, shift("shl")],
  [Mnemonic.Shr, shift("shr")],
  [Mnemonic.Sar, shift("sar")],
  [Mnemonic.Rol, shift("rol")],
  [Mnemonic.Ror, shift("ror")],
  [Mnemonic.Shld, doubleShift(true)],
  [Mnemonic.Shrd, doubleShift(false)],
  [Mnemonic.Bt, bitTest("bt")],
  [Mnemonic.Bts, bitTest("bts")],
  [Mnemonic.Btr, bitTest("btr")],
  [Mnemonic.Btc, bitTest("btc")],
  [Mnemonic.Bsf, bitScan("bsf")],
  [Mnemonic.Bsr, bitScan("bsr")],
  [Mnemonic.Tzcnt, bitScan("tzcnt")],
  [Mnemonic.Lzcnt, bitScan("lzcnt")],
  [Mnemonic.Popcnt, bitScan("popcnt")],
];
