// String instructions with and without rep/repe/repne (SDM Vol. 1 §5.1.8,
// Vol. 2B "REP/REPE/REPZ/REPNE/REPNZ"): movs, stos, lods, cmps, scas as wasm
// loops over rSI/rDI/rCX, stepping by ±size according to EFLAGS.DF.
import binaryen from "binaryen";
import { Mnemonic } from "iced-x86";
import { ALL_FLAGS, FLAG_BITS } from "../emit/flags.js";
import type { FunctionContext } from "../emit/function-context.js";
import { STATE_DF } from "../guest-layout.js";
import { i32, type Expr, type Size } from "../emit/wasm.js";
import type { SemanticsEntry } from "./types.js";

const RAX = 0;
const RCX = 1;
const RSI = 6;
const RDI = 7;

let labelCounter = 0;

type Kind = "movs" | "stos" | "lods" | "cmps" | "scas";

function stringOp(kind: Kind) {
  return (ctx: FunctionContext): void => {
    const m = ctx.m;
    const w = ctx.w;
    const size = (ctx.ins.memory?.size ?? 1) as Size;
    // step = DF ? -size : size
    const step = ctx.let(m.select(m.i32.load(0, 4, w.c32(STATE_DF)), w.c64(-size), w.c64(size)));
    const repeated = ctx.ins.rep || ctx.ins.repne;
    const compares = kind === "cmps" || kind === "scas";
    // A repeated compare with rCX = 0 compares nothing and leaves the flags
    // alone: keep them, and whether the loop runs at all.
    const ran = repeated && compares ? ctx.let(m.i32.eqz(m.i64.eqz(ctx.gpr(RCX))), i32) : undefined;
    const before = ran === undefined ? [] : FLAG_BITS.map((bit) => ctx.let(ctx.flag(bit), i32));
    // The loop below re-reads what it writes: nothing known before it holds inside.
    ctx.forgetValues();
    const a = compares ? ctx.mutableLocal(w.c64(0)) : -1;
    const b = compares ? ctx.mutableLocal(w.c64(0)) : -1;
    const body: Expr[] = [];
    const advance = (reg: number): Expr =>
      m.local.set(ctx.gprLocal(reg), m.i64.add(ctx.gpr(reg), ctx.get(step)));
    switch (kind) {
      case "movs":
        body.push(
          w.store(size, w.pointer(ctx.gpr(RDI)), w.load(size, w.pointer(ctx.gpr(RSI)))),
          advance(RSI),
          advance(RDI),
        );
        break;
      case "stos":
        body.push(w.store(size, w.pointer(ctx.gpr(RDI)), ctx.gpr(RAX)), advance(RDI));
        break;
      case "lods": {
        const v = w.load(size, w.pointer(ctx.gpr(RSI)));
        const merged =
          size === 8
            ? v
            : size === 4
              ? v
              : m.i64.or(m.i64.and(ctx.gpr(RAX), w.c64(~((1n << BigInt(size * 8)) - 1n))), v);
        body.push(m.local.set(ctx.gprLocal(RAX), merged), advance(RSI));
        break;
      }
      case "cmps":
        body.push(
          m.local.set(a, w.load(size, w.pointer(ctx.gpr(RSI)))),
          m.local.set(b, w.load(size, w.pointer(ctx.gpr(RDI)))),
          advance(RSI),
          advance(RDI),
        );
        break;
      case "scas":
        body.push(
          m.local.set(a, w.truncate(ctx.gpr(RAX), size)),
          m.local.set(b, w.load(size, w.pointer(ctx.gpr(RDI)))),
          advance(RDI),
        );
        break;
    }
    if (!repeated) {
      ctx.emit(...body);
    } else {
      const id = labelCounter++;
      const exit = `str_exit${id}`;
      const loop = `str_loop${id}`;
      const stmts: Expr[] = [
        m.br(exit, m.i64.eqz(ctx.gpr(RCX))),
        ...body,
        m.local.set(ctx.gprLocal(RCX), m.i64.sub(ctx.gpr(RCX), w.c64(1))),
      ];
      if (compares) {
        // repe stops when the elements differ, repne when they are equal.
        const equal = m.i64.eq(ctx.get(a), ctx.get(b));
        stmts.push(m.br(exit, ctx.ins.repne ? equal : m.i32.eqz(equal)));
      }
      stmts.push(m.br(loop));
      ctx.emit(m.block(exit, [m.loop(loop, m.block(null, stmts, binaryen.none))], binaryen.none));
    }
    if (compares) {
      ctx.setLazyFlags(
        "sub",
        size,
        ctx.get(a),
        ctx.get(b),
        m.i64.sub(ctx.get(a), ctx.get(b)),
        ALL_FLAGS,
      );
      // Each flag is the last comparison's if the loop ran, else what it was.
      if (ran !== undefined) {
        FLAG_BITS.forEach((bit, k) =>
          ctx.setFlag(
            bit,
            m.select(ctx.get(ran, i32), ctx.flag(bit), ctx.get(before[k] as number, i32)),
          ),
        );
      }
    }
  };
}

export const stringOpSemantics: readonly SemanticsEntry[] = [
  [Mnemonic.Movsb, stringOp("movs")],
  [Mnemonic.Movsw, stringOp("movs")],
  [Mnemonic.Movsq, stringOp("movs")],
  [Mnemonic.Stosb, stringOp("stos")],
  [Mnemonic.Stosw, stringOp("stos")],
  [Mnemonic.Stosd, stringOp("stos")],
  [Mnemonic.Stosq, stringOp("stos")],
  [Mnemonic.Lodsb, stringOp("lods")],
  [Mnemonic.Lodsw, stringOp("lods")],
  [Mnemonic.Lodsd, stringOp("lods")],
  [Mnemonic.Lodsq, stringOp("lods")],
  [Mnemonic.Cmpsb, stringOp("cmps")],
  [Mnemonic.Cmpsw, stringOp("cmps")],
  [Mnemonic.Cmpsq, stringOp("cmps")],
  [Mnemonic.Scasb, stringOp("scas")],
  [Mnemonic.Scasw, stringOp("scas")],
  [Mnemonic.Scasd, stringOp("scas")],
  [Mnemonic.Scasq, stringOp("scas")],
];

/** The string forms of the mnemonics iced shares with SSE (movsd, cmpsd). */
export const movsdString = stringOp("movs");
export const cmpsdString = stringOp("cmps");
