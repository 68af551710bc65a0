// Recovers the targets of compiler-generated jump tables (switch statements,
// glibc's computed gotos) so an indirect `jmp` stays inside its function
// instead of going through the dispatcher. The jump's target is evaluated
// backwards (jump-table-eval.ts) and matched against three shapes:
//   absolute:  [T + idx*8]                  (non-PIC tables; glibc's `&&label` tables)
//   relative:  B + sext32([T + idx*4])      (gcc/clang PIC switch tables, usually B = T)
//   code array: B + idx*stride              (glibc's memcpy-ssse3: no table in memory)
// An index loaded as a byte from a second table (vfprintf's `jump_table`) is
// bounded by the largest byte that table holds. Otherwise the bound is the
// `cmp idx, imm` + `ja`/`jae` that guards the fall-through path to the jump
// (a register that varies at a merge point on the path, such as a loop
// header, is an unknown there, not the value one way in gave it, so a
// switch inside a loop is bounded by its check, not by the index's start);
// entries are read until one does not point into code, so a missing or wrong
// bound costs extra blocks, never a wrong translation.
import { Mnemonic } from "iced-x86";
import { gprIndex, type DecodedInstruction } from "./decode.js";
import type { JumpPath } from "./jump-path.js";
import { FunctionBases, substitute } from "./jump-table-bases.js";
import {
  affineKey,
  BackwardEvaluator,
  type EvaluatorOptions,
  splitIndexed,
  tableAccess,
  type TableAccess,
  type Affine,
  type Term,
} from "./jump-table-eval.js";
import { readGuest, type GuestImage } from "./guest-image.js";

const MAX_ENTRIES = 1024;

export interface JumpTableContext {
  readonly image: GuestImage;
  /** The instructions on the path to the jump and the merge points on it (jump-path.ts). */
  readonly path: JumpPath;
  /** Every instruction decoded so far in the function (for a table base set up elsewhere). */
  readonly functionInstructions: Iterable<DecodedInstruction>;
  readonly isCode: (address: number) => boolean;
  /**
   * The code range of the function holding the jump (its .eh_frame FDE),
   * when known: a table read without a bound stops at the first entry
   * outside it, so it does not run on into a neighbour's table.
   */
  readonly extent?: { readonly start: number; readonly end: number };
}

/** Inclusive range of index values. */
interface IndexRange {
  readonly low: number;
  readonly high: number;
}

export interface RecoveredTable {
  /** Deduplicated, in table order. */
  readonly targets: readonly number[];
  /** False when nothing bounded the index and entries were read while they looked like code. */
  readonly bounded: boolean;
}

/** The table's targets, or undefined when no pattern matches. */
export function recoverJumpTable(
  jump: DecodedInstruction,
  ctx: JumpTableContext,
): RecoveredTable | undefined {
  const merges = ctx.path.merges;
  // A constant index (see EvaluatorOptions.opaqueConstants) matches no shape.
  return (
    recoverWith(jump, ctx, { merges }) ?? recoverWith(jump, ctx, { merges, opaqueConstants: true })
  );
}

function recoverWith(
  jump: DecodedInstruction,
  ctx: JumpTableContext,
  options: EvaluatorOptions,
): RecoveredTable | undefined {
  const op = jump.operands[0];
  const path = ctx.path.instructions;
  const evaluator = new BackwardEvaluator(path, options);
  const at = path.length;
  let target: Affine;
  if (op?.kind === "mem" && jump.memory !== undefined) {
    target = {
      constant: 0,
      terms: [
        {
          term: {
            kind: "load",
            size: 8,
            signed: false,
            address: evaluator.address(jump.memory, at),
          },
          factor: 1,
        },
      ],
    };
  } else if (op?.kind === "reg") {
    target = evaluator.register(gprIndex(op.reg), at);
  } else {
    return undefined;
  }
  const reader = new TableReader(ctx, evaluator, jump.ip);
  const bases = new FunctionBases(() => ctx.functionInstructions);
  let partial: TableTargets | undefined;
  for (const choice of bases.choices(target, jump.ip)) {
    const found = match(substitute(target, choice), reader);
    if (found?.complete === true) return found;
    partial ??= found;
  }
  return partial;
}

interface TableTargets extends RecoveredTable {
  /** False when an entry within the bound did not point into code (a doubtful base). */
  readonly complete: boolean;
}

function match(target: Affine, reader: TableReader): TableTargets | undefined {
  const only = splitIndexed(target);
  if (only === undefined) return undefined;
  const { term, factor, base } = only;
  // absolute: one 8-byte load, nothing added.
  if (term.kind === "load" && base === 0 && factor === 1 && term.size === 8) {
    const table = tableAccess(term.address, 8);
    return table === undefined ? undefined : reader.read(table, 8, 0);
  }
  // relative: B + sext32(load).
  if (term.kind === "load" && factor === 1 && term.size === 4 && term.signed) {
    const table = tableAccess(term.address, 4);
    return table === undefined ? undefined : reader.read(table, 4, base);
  }
  // code array: B + idx*stride.
  if (term.kind !== "load" && factor >= 16) return reader.codeArray(base, factor, term);
  return undefined;
}

class TableReader {
  constructor(
    private readonly ctx: JumpTableContext,
    private readonly evaluator: BackwardEvaluator,
    private readonly jumpAddress: number,
  ) {}

  /**
   * Entries base + k*size for k in the index's range, or from the table's
   * start while they point into code; relative to `relativeTo` (0: absolute).
   */
  read(table: TableAccess, size: 4 | 8, relativeTo: number): TableTargets | undefined {
    const bounded = table.index === undefined ? undefined : this.range(table.index);
    const first = bounded === undefined ? table.start : table.base + bounded.low * size;
    const count = bounded === undefined ? MAX_ENTRIES : bounded.high - bounded.low + 1;
    const targets: number[] = [];
    let complete = true;
    for (let k = 0; k < Math.min(count, MAX_ENTRIES); k++) {
      const raw = readGuest(this.ctx.image, first + k * size, size);
      if (raw === undefined) break;
      const target = relativeTo + Number(raw);
      const extent = this.ctx.extent;
      const outside =
        bounded === undefined &&
        extent !== undefined &&
        (target < extent.start || target >= extent.end);
      if (!this.ctx.isCode(target) || outside) {
        complete = bounded === undefined;
        break;
      }
      if (!targets.includes(target)) targets.push(target);
    }
    return targets.length > 0 ? { targets, complete, bounded: bounded !== undefined } : undefined;
  }

  /** base + k*stride for each k the index can take (16 when unbounded: memcpy-ssse3's widest). */
  codeArray(base: number, stride: number, index: Term): TableTargets | undefined {
    const range = this.range(index) ?? { low: 0, high: 15 };
    if (range.high - range.low >= 64) return undefined;
    const targets: number[] = [];
    for (let k = range.low; k <= range.high; k++)
      if (this.ctx.isCode(base + k * stride)) targets.push(base + k * stride);
    return targets.length > 0 ? { targets, complete: true, bounded: true } : undefined;
  }

  /** The values `index` can take, when something bounds it. */
  private range(index: Term): IndexRange | undefined {
    // x & mask lies in [0, mask] whatever x is.
    if (index.kind === "and")
      return index.mask <= 0xffff ? { low: 0, high: index.mask } : undefined;
    const compared = this.comparedRange(index);
    if (compared !== undefined) return compared;
    if (index.kind === "load" && index.size === 1 && !index.signed) {
      const maximum =
        index.address.anchor === undefined ? undefined : this.byteTableMaximum(index.address);
      return { low: 0, high: maximum ?? 255 };
    }
    return undefined;
  }

  /** The largest byte of a byte table indexed within its own range. */
  private byteTableMaximum(address: Affine): number | undefined {
    const table = splitIndexed(address);
    if (table === undefined || table.factor !== 1) return undefined;
    const range = this.range(table.term) ?? { low: 0, high: 255 };
    let maximum = -1;
    for (let k = range.low; k <= range.high && k - range.low < 256; k++) {
      const word = readGuest(this.ctx.image, table.base + k, 4);
      if (word === undefined) break;
      maximum = Math.max(maximum, Number(word & 0xffn));
    }
    return maximum >= 0 ? maximum : undefined;
  }

  /**
   * `cmp r, imm` and a branch on the path, where r holds index + c: the
   * index lies in [-c, imm - c]. The path stays below the bound when it
   * falls through ja/jae/jg/jge or takes jbe/jb/jle/jl (SDM Vol. 1 §7.3.8.3,
   * Table 7-4: "above"/"below" are the unsigned conditions).
   */
  private comparedRange(index: Term): IndexRange | undefined {
    const path = this.ctx.path.instructions;
    const key = affineKey({ constant: 0, terms: [{ term: index, factor: 1 }] });
    for (let i = path.length - 2; i >= 0; i--) {
      const cmp = path[i] as DecodedInstruction;
      const branch = path[i + 1] as DecodedInstruction;
      const [compared, imm] = cmp.operands;
      if (cmp.mnemonic !== Mnemonic.Cmp || imm?.kind !== "imm") continue;
      const following = path[i + 2]?.ip ?? this.jumpAddress;
      const taken = branch.target === following && branch.ip + branch.length !== following;
      const below = taken ? belowWhenTaken(branch.mnemonic) : belowWhenNotTaken(branch.mnemonic);
      if (below === undefined) continue;
      // `cmpl $5, 8(%rbp)` bounds a later `mov 8(%rbp), %eax` (glibc's unwinder).
      let value: Affine;
      if (compared?.kind === "reg") value = this.evaluator.register(gprIndex(compared.reg), i);
      else if (compared?.kind === "mem" && cmp.memory !== undefined) {
        const address = this.evaluator.address(cmp.memory, i);
        const load: Term = { kind: "load", size: cmp.memory.size, signed: false, address };
        value = { constant: 0, terms: [{ term: load, factor: 1 }] };
      } else continue;
      if (affineKey({ constant: 0, terms: value.terms }) !== key) continue;
      const limit = Number(imm.value & 0xffffn) - (below === "exclusive" ? 1 : 0);
      if (limit < 0) return undefined;
      return { low: -value.constant, high: limit - value.constant };
    }
    return undefined;
  }
}

type Below = "inclusive" | "exclusive";

function belowWhenNotTaken(m: Mnemonic): Below | undefined {
  if (m === Mnemonic.Ja || m === Mnemonic.Jg) return "inclusive";
  if (m === Mnemonic.Jae || m === Mnemonic.Jge) return "exclusive";
  return undefined;
}

function belowWhenTaken(m: Mnemonic): Below | undefined {
  if (m === Mnemonic.Jbe || m === Mnemonic.Jle) return "inclusive";
  if (m === Mnemonic.Jb || m === Mnemonic.Jl) return "exclusive";
  return undefined;
}
