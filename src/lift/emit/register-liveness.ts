// Register liveness over the blocks of one wasm function (lift-function.ts):
// which registers an entry must load and a reload after a call must keep
// (reload-points.ts), from the use each block recorded while it was lifted
// (register-tracker.ts).
import type { DiscoveredBlock } from "../discover.js";
import type { RegisterMask } from "./dirty-registers.js";
import type { Successors } from "./loops.js";
import type { RegisterUse } from "./register-tracker.js";

/** One block's register use and what the code on its out-edges reads. */
export interface BlockRegisterUse extends RegisterUse {
  readonly edge: RegisterMask;
}

/**
 * Registers live at each block's start — read, before a write or reload, on
 * some path from there (spills count as reads) — by backward data-flow over
 * the recorded use. A register that is not live at an entry need not be loaded.
 */
export function registersLiveIn(
  blocks: readonly DiscoveredBlock[],
  successors: Successors,
  uses: ReadonlyMap<number, BlockRegisterUse>,
): Map<number, RegisterMask> {
  const liveIn = new Map<number, RegisterMask>();
  const order = [...blocks].reverse();
  for (let changed = true; changed;) {
    changed = false;
    for (const block of order) {
      const use = uses.get(block.start) as BlockRegisterUse;
      let gpr = use.edge.gpr;
      let xmm = use.edge.xmm;
      for (const s of successors.get(block.start) ?? []) {
        gpr |= liveIn.get(s)?.gpr ?? 0;
        xmm |= liveIn.get(s)?.xmm ?? 0;
      }
      gpr = use.exposed.gpr | (gpr & ~use.defined.gpr);
      xmm = use.exposed.xmm | (xmm & ~use.defined.xmm);
      const seen = liveIn.get(block.start);
      if (seen === undefined || seen.gpr !== gpr || seen.xmm !== xmm) {
        liveIn.set(block.start, { gpr, xmm });
        changed = true;
      }
    }
  }
  return liveIn;
}

/** Registers live at the end of a block: read by its edge code or live into a successor. */
export function liveOut(
  start: number,
  successors: Successors,
  uses: ReadonlyMap<number, BlockRegisterUse>,
  liveIn: ReadonlyMap<number, RegisterMask>,
): RegisterMask {
  const edge = (uses.get(start) as BlockRegisterUse).edge;
  let gpr = edge.gpr;
  let xmm = edge.xmm;
  for (const s of successors.get(start) ?? []) {
    gpr |= liveIn.get(s)?.gpr ?? 0;
    xmm |= liveIn.get(s)?.xmm ?? 0;
  }
  return { gpr, xmm };
}
