// Table bases set up outside the path that falls through to an indirect
// jump: gcc hoists `lea reg, [rip+table]` out of loops and into function
// prologues (glibc's execute_stack_op keeps its table in %rbp, the printf
// spec parser in %rdx). A register the path does not define may hold the
// value of any rip-relative lea of it in the function; the candidates are
// tried nearest-preceding first, the way compilers place them.
import { Mnemonic, Register } from "iced-x86";
import type { DecodedInstruction } from "./decode.js";
import { addAffine, writtenGpr, type Affine, type Term } from "./jump-table-eval.js";

/** Register → the value it is assumed to hold. */
export type BaseChoice = ReadonlyMap<number, number>;

const MAX_CHOICES = 8;

export class FunctionBases {
  private leasByRegister: Map<number, { ip: number; value: number }[]> | undefined;

  /** `instructions` is called only when a base register needs it (scanning a big function costs). */
  constructor(private readonly instructions: () => Iterable<DecodedInstruction>) {}

  private get leas(): Map<number, { ip: number; value: number }[]> {
    if (this.leasByRegister !== undefined) return this.leasByRegister;
    this.leasByRegister = new Map();
    for (const ins of this.instructions()) {
      const m = ins.memory;
      if (ins.mnemonic !== Mnemonic.Lea || m === undefined) continue;
      if (m.base !== Register.None || m.index !== Register.None) continue;
      const reg = writtenGpr(ins);
      const list = this.leasByRegister.get(reg) ?? [];
      list.push({ ip: ins.ip, value: Number(m.displacement) });
      this.leasByRegister.set(reg, list);
    }
    return this.leasByRegister;
  }

  /**
   * The assignments worth trying for the base registers `value` uses (an
   * empty one when it uses none): the first undefined base register's leas
   * ordered by closeness to `jumpAddress`, the lea just before it first.
   */
  choices(value: Affine, jumpAddress: number): BaseChoice[] {
    const undefinedBases = baseRegisters(value);
    if (undefinedBases.size === 0) return [new Map()];
    const regs = [...undefinedBases].filter((r) => this.leas.has(r));
    const reg = regs[0];
    if (reg === undefined) return [new Map()];
    const values = new Set<number>();
    const leas = [...(this.leas.get(reg) ?? [])];
    leas.sort((a, b) => distance(a.ip, jumpAddress) - distance(b.ip, jumpAddress));
    for (const lea of leas) values.add(lea.value);
    return [...values].slice(0, MAX_CHOICES).map((v) => new Map([[reg, v]]));
  }
}

/** Preceding addresses first (nearest first), then following ones. */
const distance = (ip: number, jump: number): number =>
  ip <= jump ? jump - ip : 0x1_0000_0000 + ip - jump;

/**
 * Undefined registers added unscaled (bases; indices are scaled) to the
 * target and to the address of a table load in it — not inside an index,
 * where `lea rdi, [rip+string]` elsewhere would wrongly fix `mov (%rdi),%esi`.
 */
function baseRegisters(a: Affine, out = new Set<number>(), depth = 0): Set<number> {
  for (const { term, factor } of a.terms) {
    if (factor !== 1) continue;
    if (term.kind === "reg" && term.def < 0) out.add(term.reg);
    if (term.kind === "load" && depth === 0) baseRegisters(term.address, out, 1);
  }
  return out;
}

/** `a` with the chosen registers replaced by their values, at the places baseRegisters looks. */
export function substitute(a: Affine, choice: BaseChoice, depth = 0): Affine {
  let out: Affine = { constant: a.constant, terms: [], anchor: a.anchor };
  for (const t of a.terms) {
    const value = isBase(t.term, t.factor) ? choice.get(t.term.reg) : undefined;
    if (value !== undefined) {
      out = addAffine(out, { constant: value, terms: [], anchor: value });
    } else {
      const nested = t.term.kind === "load" && t.factor === 1 && depth === 0;
      const term: Term =
        nested && t.term.kind === "load"
          ? { ...t.term, address: substitute(t.term.address, choice, 1) }
          : t.term;
      out = addAffine(out, { constant: 0, terms: [{ term, factor: t.factor }] });
    }
  }
  return out;
}

function isBase(term: Term, factor: number): term is Term & { kind: "reg" } {
  return term.kind === "reg" && term.def < 0 && factor === 1;
}
