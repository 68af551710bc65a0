// What lifting one wasm function has done to the guest-register locals so
// far, for the spill and load economies of lift-function.ts: which locals may
// differ from the state block (dirty: a spill stores only those,
// dirty-registers.ts says why) and, per block, which registers were read
// before being written or reloaded (exposed) and which were written whole or
// reloaded (defined), from which the live registers an entry must load follow.
// Lifting order is execution order here: a statement's values are built
// before the statement, so a read is never recorded after the write it precedes.
import type { RegisterMask } from "./dirty-registers.js";

export interface RegisterUse {
  readonly exposed: RegisterMask;
  readonly defined: RegisterMask;
}

const NONE: RegisterMask = { gpr: 0, xmm: 0 };

/**
 * Register use after one reload (a call or syscall returning) to the end of
 * its block: with the block's live-out registers it says which registers the
 * reload must load (lift-function.ts prunes the others).
 */
export class UseAfter {
  exposed: RegisterMask = NONE;
  defined: RegisterMask = NONE;

  /** The registers live right after the point, given those live at the block's end. */
  live(liveOut: RegisterMask): RegisterMask {
    return {
      gpr: this.exposed.gpr | (liveOut.gpr & ~this.defined.gpr),
      xmm: this.exposed.xmm | (liveOut.xmm & ~this.defined.xmm),
    };
  }
}

export class RegisterTracker {
  private dirtyMask: RegisterMask = NONE;
  private use: RegisterUse = { exposed: NONE, defined: NONE };
  private points: UseAfter[] = [];

  /** Registers written since the last reload, as far as lifting has got. */
  get dirty(): RegisterMask {
    return this.dirtyMask;
  }

  /** Sets the dirty registers (the start of a block, or an edge out of one). */
  set dirty(mask: RegisterMask) {
    this.dirtyMask = mask;
  }

  /** A read of the local: exposed unless written or reloaded before in this block. */
  read(gpr: number, xmm: number): void {
    const { exposed, defined } = this.use;
    this.use = {
      exposed: { gpr: exposed.gpr | (gpr & ~defined.gpr), xmm: exposed.xmm | (xmm & ~defined.xmm) },
      defined,
    };
    for (const p of this.points) {
      p.exposed = {
        gpr: p.exposed.gpr | (gpr & ~p.defined.gpr),
        xmm: p.exposed.xmm | (xmm & ~p.defined.xmm),
      };
    }
  }

  /** A write of the whole local. */
  written(gpr: number, xmm: number): void {
    this.dirtyMask = { gpr: this.dirtyMask.gpr | gpr, xmm: this.dirtyMask.xmm | xmm };
    this.define(gpr, xmm);
  }

  /** A write the tracker cannot see whole (a raw local.set, perhaps in a loop): dirty, not defined. */
  touched(gpr: number, xmm: number): void {
    this.dirtyMask = { gpr: this.dirtyMask.gpr | gpr, xmm: this.dirtyMask.xmm | xmm };
  }

  /** Every local in the masks loaded from the state block: those agree with it again. */
  reloaded(gpr: number, xmm: number): void {
    this.dirtyMask = { gpr: this.dirtyMask.gpr & ~gpr, xmm: this.dirtyMask.xmm & ~xmm };
    this.define(gpr, xmm);
  }

  /** Starts recording register use (a block, or the code on an edge out of one). */
  beginUse(): void {
    this.use = { exposed: NONE, defined: NONE };
    this.points = [];
  }

  /** Starts recording the use after a point of the current block (until beginUse()). */
  usePoint(): UseAfter {
    const p = new UseAfter();
    this.points.push(p);
    return p;
  }

  /** The register use recorded since beginUse(). */
  takeUse(): RegisterUse {
    return this.use;
  }

  private define(gpr: number, xmm: number): void {
    const { exposed, defined } = this.use;
    this.use = { exposed, defined: { gpr: defined.gpr | gpr, xmm: defined.xmm | xmm } };
    for (const p of this.points) {
      p.defined = { gpr: p.defined.gpr | gpr, xmm: p.defined.xmm | xmm };
    }
  }
}
