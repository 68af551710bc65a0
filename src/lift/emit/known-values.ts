// What the block being lifted knows about values, so that reads can be
// emitted in their cheap form: a 32-bit register read without a wrap/extend
// round trip, a let() constant as a constant instead of a local (which
// binaryen's light passes would leave as `(i32.wrap_i64 (i64.const 6))`).
// Facts hold in lifting order within one block only: forget() at a block
// start, before code built out of execution order (edge code, built after
// every block) and before a loop that re-reads what it writes.
import { constantValue, type Expr, type Size, type Wasm } from "./wasm.js";

export class KnownValues {
  /** Width of each GPR since its last whole write in this block. */
  private gprWidths: (Size | undefined)[] = [];
  /** Width and constant value of each let() local of this block (set once). */
  private readonly letWidths = new Map<number, Size>();
  private readonly letConstants = new Map<number, bigint>();

  constructor(private readonly w: Wasm) {}

  forget(): void {
    this.gprWidths = [];
    this.letWidths.clear();
    this.letConstants.clear();
    this.w.forgetWidths();
  }

  /** Records the i64 value a let() local is set to. */
  letSet(local: number, value: Expr): void {
    const width = this.w.widthOf(value);
    if (width < 8) this.letWidths.set(local, width);
    const constant = constantValue(value);
    if (constant !== undefined) this.letConstants.set(local, constant);
  }

  /** A read of an i64 let() local: its constant, or the get with its width vouched for. */
  letGet(local: number, get: Expr): Expr {
    const constant = this.letConstants.get(local);
    if (constant !== undefined) return this.w.c64(constant);
    const width = this.letWidths.get(local);
    return width === undefined ? get : this.w.vouch(get, width);
  }

  /** Records a whole write of GPR `index` (undefined: a value nothing is known of). */
  gprSet(index: number, value: Expr | undefined): void {
    const width = value === undefined ? 8 : this.w.widthOf(value);
    this.gprWidths[index] = width < 8 ? width : undefined;
  }

  /** A read of GPR `index`, with its width vouched for when known. */
  gprGet(index: number, get: Expr): Expr {
    const width = this.gprWidths[index];
    return width === undefined ? get : this.w.vouch(get, width);
  }

  /** How many low bytes of GPR `index` can be non-zero, when known. */
  gprWidth(index: number): Size | undefined {
    return this.gprWidths[index];
  }
}
