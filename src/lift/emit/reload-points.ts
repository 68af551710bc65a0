// Reloads after a call or syscall that load only the registers live after
// them. A call returns with the guest registers in the state block, and the
// lifted code used to load every register the function keeps in a local: in
// call-heavy code (a qsort comparison callback) that is most of the work. A
// register that is not live after the reload (read before being written,
// counting spills as reads) need not be loaded: dirty tracking treats it as
// clean, so no spill stores its stale local, and nothing reads it before a
// write. Liveness is only known once every block is lifted, so a reload is
// emitted whole and pruned afterwards (lift-function.ts).
import binaryen from "binaryen";
import type { RegisterMask } from "./dirty-registers.js";
import type { UseAfter } from "./register-tracker.js";
import type { Expr, Wasm } from "./wasm.js";

/** binaryen.js has Block.setChildAt at run time; its .d.ts does not declare it. */
const blocks = (binaryen as unknown as { Block: { setChildAt(b: Expr, k: number, c: Expr): void } })
  .Block;

export interface ReloadPoint {
  /** A block of loads, one per register in `registers`, in that order. */
  readonly block: Expr;
  readonly registers: readonly RegisterMask[];
  /** Register use from the reload to the end of its block. */
  readonly use: UseAfter;
}

/** One mask per register of the masks, GPR before XMM of the same number. */
export function eachRegister(gprMask: number, xmmMask: number): RegisterMask[] {
  const out: RegisterMask[] = [];
  for (let i = 0; i < 16; i++) {
    if ((gprMask & (1 << i)) !== 0) out.push({ gpr: 1 << i, xmm: 0 });
    if ((xmmMask & (1 << i)) !== 0) out.push({ gpr: 0, xmm: 1 << i });
  }
  return out;
}

/** Replaces the loads of registers not live after the point (given the block's live-out) by nops. */
export function pruneReload(w: Wasm, point: ReloadPoint, liveOut: RegisterMask): void {
  const live = point.use.live(liveOut);
  point.registers.forEach((r, k) => {
    if ((r.gpr & live.gpr) === 0 && (r.xmm & live.xmm) === 0) {
      blocks.setChildAt(point.block, k, w.m.nop());
    }
  });
}
