// A small backward evaluator for the instructions that compute an indirect
// jump's target, so jump-table recovery matches what a register *holds*
// rather than which instructions sit next to each other. gcc schedules other
// work between the table load and the jump (a `pcmpeqb` between `movslq` and
// `lea`), and glibc's vfprintf indexes its jump tables with a byte loaded from
// a second table (`movzbl (%rsi,%rax),%edx; jmp *(%rax,%rdx,8)`), so adjacency
// patterns miss both. A value is an affine form c + Σ fᵢ·termᵢ whose terms are
// opaque register values, memory loads and masks.
import { Code, Mnemonic, Register } from "iced-x86";
import { gprIndex, type DecodedInstruction, type MemoryOperand } from "./decode.js";

export type Term =
  /**
   * A register's value where one instruction we do not model defines it
   * (`def`: its index), or from outside the prefix (`def` < 0, see
   * outsideDef): where the prefix starts, or at a merge point on it.
   */
  | { readonly kind: "reg"; readonly reg: number; readonly def: number }
  | {
      readonly kind: "load";
      readonly size: number;
      readonly signed: boolean;
      readonly address: Affine;
    }
  | { readonly kind: "and"; readonly value: Affine; readonly mask: number };

export interface Affine {
  readonly constant: number;
  readonly terms: readonly { readonly term: Term; readonly factor: number }[];
  /**
   * The rip-relative address (a table's start) folded into `constant`, kept
   * apart because an index offset (`add $0x10,%rdx`) folds in too.
   */
  readonly anchor?: number;
}

/** `def` of a register's value at the start of prefix[k] when it comes from outside (-1 at k = 0). */
export const outsideDef = (k: number): number => -1 - k;

const constant = (c: number): Affine => ({ constant: c, terms: [] });
const single = (term: Term): Affine => ({ constant: 0, terms: [{ term, factor: 1 }] });

export function addAffine(a: Affine, b: Affine, scale = 1): Affine {
  const terms = [...a.terms];
  for (const t of b.terms) {
    const key = termKey(t.term);
    const i = terms.findIndex((u) => termKey(u.term) === key);
    if (i >= 0) {
      const merged = (terms[i]?.factor ?? 0) + t.factor * scale;
      if (merged === 0) terms.splice(i, 1);
      else terms[i] = { term: t.term, factor: merged };
    } else {
      terms.push({ term: t.term, factor: t.factor * scale });
    }
  }
  const anchor = a.anchor ?? (scale === 1 ? b.anchor : undefined);
  return { constant: a.constant + b.constant * scale, terms, anchor };
}

const scaleAffine = (a: Affine, f: number): Affine => addAffine(constant(0), a, f);

/** A canonical string for structural equality (bounds compare index values). */
export function termKey(t: Term): string {
  switch (t.kind) {
    case "reg":
      return `r${t.reg}@${t.def}`;
    case "load":
      return `[${t.size}${t.signed ? "s" : "u"} ${affineKey(t.address)}]`;
    case "and":
      return `(${affineKey(t.value)})&${t.mask}`;
  }
}

export function affineKey(a: Affine): string {
  const parts = a.terms.map((t) => `${t.factor}*${termKey(t.term)}`).sort();
  return `${a.constant}+${parts.join("+")}`;
}

const immediate = (ins: DecodedInstruction, i: number): number | undefined => {
  const op = ins.operands[i];
  return op?.kind === "imm" ? Number(BigInt.asIntN(64, op.value)) : undefined;
};

/** Mnemonics whose first operand is only read. */
const READS_FIRST_OPERAND = new Set([
  Mnemonic.Cmp,
  Mnemonic.Test,
  Mnemonic.Bt,
  Mnemonic.Push,
  Mnemonic.Jmp,
  Mnemonic.Call,
  Mnemonic.Nop,
]);

/** The GPR an instruction writes as its first operand (-1 when none). */
export function writtenGpr(ins: DecodedInstruction): number {
  if (ins.code === Code.Cdqe) return 0;
  const dst = ins.operands[0];
  if (dst?.kind !== "reg" || READS_FIRST_OPERAND.has(ins.mnemonic)) return -1;
  return gprIndex(dst.reg);
}

// RAX RCX RDX RSI RDI R8–R11: what a call may change (System V AMD64 ABI §3.2.1).
const CALL_CLOBBERED = 0b0000_1111_1100_0111;
const RAX_RDX = 0b0101;

/** The GPRs `ins` may change, as a bit mask (bit n: GPR n). */
export function writtenRegisters(ins: DecodedInstruction): number {
  const first = writtenGpr(ins);
  let mask = first >= 0 ? 1 << first : 0;
  for (let reg = 0; reg < 16; reg++) if (clobbers(ins, reg)) mask |= 1 << reg;
  return mask;
}

/**
 * True when `ins` changes GPR `reg` other than as its modelled first
 * operand: implicit results (SDM Vol. 2 CPUID, MUL/DIV, CQO, SYSCALL,
 * string instructions), a call's clobbers, the second operand of xchg/xadd.
 */
function clobbers(ins: DecodedInstruction, reg: number): boolean {
  const bit = 1 << reg;
  switch (ins.mnemonic) {
    case Mnemonic.Call:
      return (CALL_CLOBBERED & bit) !== 0;
    case Mnemonic.Cpuid:
      return reg <= 3;
    case Mnemonic.Syscall:
      return reg === 0 || reg === 1 || reg === 11;
    case Mnemonic.Rdtsc:
    case Mnemonic.Rdtscp:
    case Mnemonic.Mul:
    case Mnemonic.Div:
    case Mnemonic.Idiv:
    case Mnemonic.Cqo:
    case Mnemonic.Cdq:
    case Mnemonic.Cwd:
      return (RAX_RDX & bit) !== 0 || (ins.mnemonic === Mnemonic.Rdtscp && reg === 1);
    case Mnemonic.Imul:
      return ins.operands.length === 1 && (RAX_RDX & bit) !== 0;
    case Mnemonic.Xchg:
    case Mnemonic.Xadd:
      return ins.operands.some((op) => op.kind === "reg" && gprIndex(op.reg) === reg);
    case Mnemonic.Cmpxchg:
    case Mnemonic.Cwde:
    case Mnemonic.Lahf:
      return reg === 0;
    case Mnemonic.Pop:
    case Mnemonic.Leave:
      return reg === 4 || (ins.mnemonic === Mnemonic.Leave && reg === 5);
    default:
      // String instructions advance RSI/RDI and count down RCX.
      return (
        ins.memory !== undefined &&
        ins.operands.some((op) => op.kind === "mem") &&
        (ins.rep || ins.repne || isStringMnemonic(ins.mnemonic)) &&
        (reg === 1 || reg === 6 || reg === 7 || reg === 0)
      );
  }
}

const STRING_MNEMONICS = new Set([
  Mnemonic.Movsb,
  Mnemonic.Movsw,
  Mnemonic.Movsd,
  Mnemonic.Movsq,
  Mnemonic.Stosb,
  Mnemonic.Stosw,
  Mnemonic.Stosd,
  Mnemonic.Stosq,
  Mnemonic.Lodsb,
  Mnemonic.Lodsw,
  Mnemonic.Lodsd,
  Mnemonic.Lodsq,
  Mnemonic.Scasb,
  Mnemonic.Scasw,
  Mnemonic.Scasd,
  Mnemonic.Scasq,
  Mnemonic.Cmpsb,
  Mnemonic.Cmpsw,
  Mnemonic.Cmpsd,
  Mnemonic.Cmpsq,
]);
const isStringMnemonic = (m: Mnemonic): boolean => STRING_MNEMONICS.has(m);

export interface EvaluatorOptions {
  /**
   * Merge points on the prefix (jump-path.ts): index k → the GPRs (bit
   * mask) whose value at prefix[k] may come from another way in.
   */
  readonly merges?: ReadonlyMap<number, number>;
  /**
   * Takes `mov reg, imm` as an unknown value. A jump table's index is never
   * a constant on every way to the jump, so a constant one means a merge
   * the walk cannot see yet: a loop whose only back edges are the table's
   * own cases, not decoded before the table is read.
   */
  readonly opaqueConstants?: boolean;
}

/**
 * Evaluates values as they are just before instruction `at` of `prefix`
 * (the instructions leading to the jump, oldest first).
 */
export class BackwardEvaluator {
  private readonly merges: ReadonlyMap<number, number>;
  private readonly opaqueConstants: boolean;

  constructor(
    private readonly prefix: readonly DecodedInstruction[],
    options: EvaluatorOptions = {},
  ) {
    this.merges = options.merges ?? new Map();
    this.opaqueConstants = options.opaqueConstants ?? false;
  }

  /** The value of GPR `reg` just before prefix[at]. */
  register(reg: number, at: number): Affine {
    for (let i = at - 1; i >= 0; i--) {
      // A value that varies at a merge is not the one the path before it computes.
      if (((this.merges.get(i + 1) ?? 0) & (1 << reg)) !== 0)
        return single({ kind: "reg", reg, def: outsideDef(i + 1) });
      const ins = this.prefix[i] as DecodedInstruction;
      if (writtenGpr(ins) === reg) return this.definition(ins, reg, i);
      if (clobbers(ins, reg)) return single({ kind: "reg", reg, def: i });
    }
    return single({ kind: "reg", reg, def: outsideDef(0) });
  }

  /** The address a memory operand of prefix[at] (or of the jump, at = prefix.length) computes. */
  address(m: MemoryOperand, at: number): Affine {
    // RIP-relative operands arrive with base None and the absolute address.
    const ripRelative = m.base === Register.None && m.index === Register.None;
    let a: Affine = {
      ...constant(Number(m.displacement)),
      anchor: ripRelative ? Number(m.displacement) : undefined,
    };
    if (m.base !== Register.None) a = addAffine(a, this.register(gprIndex(m.base), at));
    if (m.index !== Register.None) a = addAffine(a, this.register(gprIndex(m.index), at), m.scale);
    return a;
  }

  private definition(ins: DecodedInstruction, reg: number, i: number): Affine {
    const opaque = single({ kind: "reg", reg, def: i });
    const src = ins.operands[1];
    const srcReg = src?.kind === "reg" ? gprIndex(src.reg) : -1;
    const imm = immediate(ins, 1);
    const m = ins.memory;
    switch (ins.mnemonic) {
      case Mnemonic.Lea:
        if (m === undefined) return opaque;
        // `lea r, [x + x*2]` multiplies x by 3 (gcc's stride computations).
        return this.address(m, i);
      case Mnemonic.Mov:
      case Mnemonic.Movsxd:
      case Mnemonic.Movzx:
      case Mnemonic.Movsx:
        // Zero and sign extensions keep an index's value for the small
        // non-negative indices jump tables use; they are treated as copies.
        if (srcReg >= 0) return this.register(srcReg, i);
        if (imm !== undefined) return this.opaqueConstants ? opaque : constant(imm);
        if (m !== undefined && src?.kind === "mem" && m.size > 0) {
          const signed = ins.mnemonic === Mnemonic.Movsxd || ins.mnemonic === Mnemonic.Movsx;
          return single({ kind: "load", size: m.size, signed, address: this.address(m, i) });
        }
        return opaque;
      case Mnemonic.Cdqe:
        return this.register(0, i);
      case Mnemonic.Add:
      case Mnemonic.Sub: {
        const sign = ins.mnemonic === Mnemonic.Add ? 1 : -1;
        const before = this.register(reg, i);
        if (imm !== undefined) return addAffine(before, constant(imm), sign);
        if (srcReg >= 0) return addAffine(before, this.register(srcReg, i), sign);
        return opaque;
      }
      case Mnemonic.Shl:
        return imm !== undefined && imm < 16
          ? scaleAffine(this.register(reg, i), 2 ** imm)
          : opaque;
      case Mnemonic.And:
        if (imm === undefined || imm < 0) return opaque;
        return single({ kind: "and", value: this.register(reg, i), mask: imm });
      default:
        return opaque;
    }
  }
}

/** The constant part and the one non-constant term of `a`, when it has exactly one. */
export function splitIndexed(a: Affine): { base: number; term: Term; factor: number } | undefined {
  if (a.terms.length !== 1) return undefined;
  const t = a.terms[0] as { term: Term; factor: number };
  return { base: a.constant, term: t.term, factor: t.factor };
}

/**
 * A table access `base + size*index`: the index term when there is exactly
 * one, or undefined for an index computed from several values (then nothing
 * bounds it and the table is read from `start`, its rip-relative anchor).
 */
export interface TableAccess {
  readonly base: number;
  readonly start: number;
  readonly index?: Term;
}

export function tableAccess(a: Affine, size: number): TableAccess | undefined {
  if (a.terms.length === 0 || a.terms.some((t) => t.factor % size !== 0)) return undefined;
  const only = a.terms.length === 1 && a.terms[0]?.factor === size ? a.terms[0].term : undefined;
  return { base: a.constant, start: a.anchor ?? a.constant, index: only };
}
