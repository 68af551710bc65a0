// The dispatcher (ARCHITECTURE.md "Lifting" 1 and "Measured facts"): a
// compare tree over every guest address that can be entered from outside a
// function — function entries and call continuations — compiled to direct
// calls, not a funcref table (a big table costs every instance at
// instantiation), in chunk functions of CHUNK_SIZE entries so that none is
// huge. `dispatch(pc, expectedReturn, expectedRsp)` enters the code at pc,
// passing on what the caller expects a normal return to leave (control-flow.ts);
// `run()` is the loop that continues wherever a lifted function left off,
// until the code halts or the CPU budget (budget.ts) asks to yield to the host.
import binaryen from "binaryen";
import { DEPTH_GLOBAL, DISPATCH_FUNCTION } from "./control-flow.js";
import { BUDGET_EXPORT, BUDGET_GLOBAL } from "./budget.js";
import { DEFAULT_CPU_BUDGET, RESULT_DISPATCH, RESULT_NO_CODE, RESULT_YIELD } from "../abi.js";
import { i32, i64, Wasm, type Expr } from "./wasm.js";
import { STATE_RIP } from "../guest-layout.js";

export interface DispatchEntry {
  readonly address: number;
  readonly functionName: string;
  readonly entryIndex: number;
}

const LEAF_SIZE = 4;
/**
 * Entries per dispatch chunk function. One compare tree over every entry
 * of busybox (tens of thousands) made `dispatch` one giant function; it is
 * hot, so V8 tiered it up to TurboFan, which spent about 1.5 s on it — and a
 * process exit waits for that compile (measured: `busybox true` 2.4 s, 0.7 s
 * with --liftoff-only). Chunks keep each function small: a short tree over
 * the chunk bounds, then a tail call into the chunk's own tree. Small chunks
 * also compile less at start-up, where every chunk a process dispatches into
 * is compiled (lazily, by Liftoff): with 512 entries `busybox true` compiled
 * 10 chunks of 13 KB; with 64 its lazily compiled code fell from 547 to 461 KB
 * and its start by about 5 ms; sort of 20 MB is unchanged (1.88 s both).
 */
const CHUNK_SIZE = 64;

export function addDispatcher(w: Wasm, entries: readonly DispatchEntry[]): void {
  const m = w.m;
  const sorted = [...new Map(entries.map((e) => [e.address, e])).values()].sort(
    (a, b) => a.address - b.address,
  );
  const pc = (): Expr => m.local.get(0, i64);
  const expected = (): Expr => m.local.get(1, i64);
  const expectedRsp = (): Expr => m.local.get(2, i64);
  const noCode = (): Expr =>
    w.block([m.i64.store(0, 8, w.c32(STATE_RIP), pc()), m.return(w.c32(RESULT_NO_CODE))]);
  const tree = (lo: number, hi: number): Expr => {
    if (hi - lo <= LEAF_SIZE) {
      const tests: Expr[] = [];
      for (let k = lo; k < hi; k++) {
        const e = sorted[k] as DispatchEntry;
        tests.push(
          m.if(
            m.i64.eq(pc(), w.c64(e.address)),
            m.return_call(e.functionName, [expected(), w.c32(e.entryIndex), expectedRsp()], i32),
          ),
        );
      }
      return w.block([...tests, noCode()]);
    }
    const mid = (lo + hi) >> 1;
    const pivot = (sorted[mid] as DispatchEntry).address;
    return m.if(m.i64.lt_u(pc(), w.c64(pivot)), tree(lo, mid), tree(mid, hi));
  };
  const params = binaryen.createType([i64, i64, i64]);
  const chunks: { start: number; name: string }[] = [];
  for (let lo = 0; lo < sorted.length; lo += CHUNK_SIZE) {
    const name = `${DISPATCH_FUNCTION}_chunk_${chunks.length}`;
    const hi = Math.min(sorted.length, lo + CHUNK_SIZE);
    m.addFunction(name, params, i32, [], m.block(null, [tree(lo, hi), m.unreachable()], i32));
    chunks.push({ start: (sorted[lo] as DispatchEntry).address, name });
  }
  /** The chunk whose range holds pc (below the first entry: no code). */
  const chooseChunk = (lo: number, hi: number): Expr => {
    if (hi - lo === 1) {
      const chunk = chunks[lo] as { name: string };
      return m.return_call(chunk.name, [pc(), expected(), expectedRsp()], i32);
    }
    const mid = (lo + hi) >> 1;
    const pivot = (chunks[mid] as { start: number }).start;
    return m.if(m.i64.lt_u(pc(), w.c64(pivot)), chooseChunk(lo, mid), chooseChunk(mid, hi));
  };
  const build = (): Expr => (chunks.length === 0 ? noCode() : chooseChunk(0, chunks.length));
  // Every dispatch also spends budget: a loop that only runs through the
  // dispatcher (unresolved indirect jumps tail-calling each other) must yield too.
  // The callers have spilled; flags do not survive a dispatch anyway.
  const budget = (): Expr => m.global.get(BUDGET_GLOBAL, i32);
  const spend = w.block([
    m.global.set(BUDGET_GLOBAL, m.i32.sub(budget(), w.c32(1))),
    m.if(
      m.i32.lt_s(budget(), w.c32(0)),
      w.block([m.i64.store(0, 8, w.c32(STATE_RIP), pc()), m.return(w.c32(RESULT_YIELD))]),
    ),
  ]);
  m.addGlobal(BUDGET_GLOBAL, i32, true, w.c32(DEFAULT_CPU_BUDGET));
  m.addGlobalExport(BUDGET_GLOBAL, BUDGET_EXPORT);
  m.addFunction(
    DISPATCH_FUNCTION,
    params,
    i32,
    [],
    m.block(null, [spend, build(), m.unreachable()], i32),
  );

  // run(): resume at state.rip until the code halts, finds no code or yields.
  const result = 0;
  m.addFunction(
    "run",
    binaryen.none,
    i32,
    [i32],
    m.loop(
      "resume",
      w.block([
        m.global.set(DEPTH_GLOBAL, w.c32(0)),
        m.local.set(
          result,
          m.call(
            DISPATCH_FUNCTION,
            [m.i64.load(0, 8, w.c32(STATE_RIP)), w.c64(-1n), w.c64(-1n)],
            i32,
          ),
        ),
        m.br("resume", m.i32.eq(m.local.get(result, i32), w.c32(RESULT_DISPATCH))),
        m.return(m.local.get(result, i32)),
      ]),
    ),
  );
  m.addFunctionExport("run", "run");
}
