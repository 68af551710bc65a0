// Recovers the targets of compiler-generated jump tables (switch statements)
// so an indirect `jmp` stays inside its function instead of going through the
// dispatcher. Two gcc shapes are recognised:
//   absolute:  jmp qword ptr [idx*8 + table]                (non-PIC)
//   relative:  lea base,[rip+table]; movsxd r,[base+idx*4]; add r,base; jmp r  (PIC)
// The bound comes from the `cmp idx, imm` + `ja`/`jae` guarding the jump when it
// is found; otherwise entries are read while they point into code.
import { Mnemonic, Register } from "iced-x86";
import { gprIndex, type DecodedInstruction, type MemoryOperand } from "./decode.js";
import { readGuest, type GuestImage } from "./guest-image.js";

const MAX_ENTRIES = 1024;

export interface JumpTableContext {
  readonly image: GuestImage;
  /** The instructions that lead to the jump in the same block, oldest first. */
  readonly blockPrefix: readonly DecodedInstruction[];
  /** Every instruction decoded so far in the function (for the base `lea`). */
  readonly functionInstructions: Iterable<DecodedInstruction>;
  readonly isCode: (address: number) => boolean;
}

/** The table's targets (deduplicated, in table order), or undefined when no pattern matches. */
export function recoverJumpTable(
  jump: DecodedInstruction,
  ctx: JumpTableContext,
): number[] | undefined {
  const op = jump.operands[0];
  if (op === undefined) return undefined;
  if (op.kind === "mem" && jump.memory !== undefined) {
    return absoluteTable(ctx, jump.memory, ctx.blockPrefix);
  }
  if (op.kind !== "reg") return undefined;
  // Walk back: add target, base  ←  movsxd target, [base + idx*4]
  //        or: mov target, [table + idx*8]
  const target = gprIndex(op.reg);
  const prefix = ctx.blockPrefix;
  for (let i = prefix.length - 1; i >= 1; i--) {
    const add = prefix[i];
    if (add === undefined) break;
    if (add.mnemonic === Mnemonic.Mov && writesGpr(add, target) && add.memory !== undefined) {
      return absoluteTable(ctx, add.memory, prefix.slice(0, i));
    }
    // The sum: `add target, other` or `lea target, [x + y]`.
    let pair: [number, number] | undefined;
    if (add.mnemonic === Mnemonic.Lea && writesGpr(add, target)) pair = leaPair(add);
    else if (
      add.mnemonic === Mnemonic.Add &&
      writesGpr(add, target) &&
      add.operands[1]?.kind === "reg"
    ) {
      pair = [target, gprIndex(add.operands[1].reg)];
    }
    if (pair === undefined) {
      if (writesGpr(add, target)) return undefined;
      continue;
    }
    const strided = codeArray(ctx, prefix.slice(0, i), pair[0], pair[1]);
    if (strided !== undefined) return strided;
    // One register of the pair is loaded by `movsxd r, [other + idx*4]`.
    const load = prefix[i - 1];
    const m = load?.memory;
    if (load?.mnemonic !== Mnemonic.Movsxd || m === undefined || m.scale !== 4) return undefined;
    const loaded = load.operands[0]?.kind === "reg" ? gprIndex(load.operands[0].reg) : -1;
    const baseReg = loaded === pair[0] ? pair[1] : loaded === pair[1] ? pair[0] : -1;
    if (baseReg < 0 || gprIndex(m.base) !== baseReg || m.index === Register.None) return undefined;
    const tableAddress = findLeaBase(prefix.slice(0, i - 1), ctx.functionInstructions, baseReg);
    if (tableAddress === undefined) return undefined;
    const bound = findBound(prefix.slice(0, i - 1), gprIndex(m.index));
    return readTable(ctx, tableAddress, 4, tableAddress, bound);
  }
  return undefined;
}

/**
 * glibc's memcpy-ssse3 shape: `lea base,[rip+T]; and idx,15; shl idx,6;
 * add idx,base; jmp idx` — no table in memory, the targets are T + k×stride.
 * The stride comes from shl (and `lea r,[x+x*2]`), the count from `and`
 * (16 when there is none, the widest these routines use).
 */
function codeArray(
  ctx: JumpTableContext,
  prefix: readonly DecodedInstruction[],
  indexReg: number,
  baseReg: number,
): number[] | undefined {
  const base = findLeaBase(prefix, ctx.functionInstructions, baseReg);
  if (base === undefined) return undefined;
  let stride = 1;
  let count = 16;
  let reg = indexReg;
  let sawShift = false;
  for (let i = prefix.length - 1; i >= 0; i--) {
    const ins = prefix[i] as DecodedInstruction;
    const [dst, src] = ins.operands;
    if (dst?.kind !== "reg" || gprIndex(dst.reg) !== reg) continue;
    if (ins.mnemonic === Mnemonic.Shl && src?.kind === "imm") {
      stride *= 2 ** Number(src.value);
      sawShift = true;
    } else if (
      ins.mnemonic === Mnemonic.Lea &&
      ins.memory !== undefined &&
      ins.memory.base === ins.memory.index
    ) {
      stride *= ins.memory.scale + 1;
      reg = gprIndex(ins.memory.base);
    } else if (ins.mnemonic === Mnemonic.And && src?.kind === "imm") {
      count = Number(src.value & 0xffffn) + 1;
      break;
    } else {
      break;
    }
  }
  if (!sawShift || stride < 16 || count > 64) return undefined;
  const targets: number[] = [];
  for (let k = 0; k < count; k++)
    if (ctx.isCode(base + k * stride)) targets.push(base + k * stride);
  return targets.length > 0 ? targets : undefined;
}

/** 8-byte absolute entries at [disp + idx*8] or [base + idx*8] with base from a rip-relative lea (glibc's computed gotos). */
function absoluteTable(
  ctx: JumpTableContext,
  m: MemoryOperand,
  prefix: readonly DecodedInstruction[],
): number[] | undefined {
  if (m.index === Register.None || m.scale !== 8) return undefined;
  let table = Number(m.displacement);
  if (m.base !== Register.None) {
    const base = findLeaBase(prefix, ctx.functionInstructions, gprIndex(m.base));
    if (base === undefined) return undefined;
    table += base;
  }
  return readTable(ctx, table, 8, 0, findBound(prefix, gprIndex(m.index)));
}

/** The two registers of `lea t, [a + b*1]`. */
function leaPair(lea: DecodedInstruction): [number, number] | undefined {
  const m = lea.memory;
  if (m === undefined || m.scale !== 1 || m.displacement !== 0n || m.index === Register.None)
    return undefined;
  return [gprIndex(m.base), gprIndex(m.index)];
}

function writesGpr(ins: DecodedInstruction, reg: number): boolean {
  const dst = ins.operands[0];
  return dst?.kind === "reg" && gprIndex(dst.reg) === reg;
}

/** The rip-relative `lea reg, [table]`: the closest one in the block, else a unique one in the function. */
function findLeaBase(
  prefix: readonly DecodedInstruction[],
  functionInstructions: Iterable<DecodedInstruction>,
  reg: number,
): number | undefined {
  const isLea = (ins: DecodedInstruction): number | undefined => {
    const dst = ins.operands[0];
    const m = ins.memory;
    if (ins.mnemonic !== Mnemonic.Lea || dst?.kind !== "reg" || gprIndex(dst.reg) !== reg)
      return undefined;
    if (m === undefined || m.base !== Register.None || m.index !== Register.None) return undefined;
    return Number(m.displacement);
  };
  for (let i = prefix.length - 1; i >= 0; i--) {
    const ins = prefix[i];
    if (ins === undefined) continue;
    const found = isLea(ins);
    if (found !== undefined) return found;
    if (writesGpr(ins, reg)) return undefined;
  }
  const candidates = new Set<number>();
  for (const ins of functionInstructions) {
    const found = isLea(ins);
    if (found !== undefined) candidates.add(found);
  }
  return candidates.size === 1 ? [...candidates][0] : undefined;
}

/** Number of entries from `cmp idx, imm` followed by `ja` (imm + 1) or `jae` (imm). */
function findBound(prefix: readonly DecodedInstruction[], index: number): number | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const ins = prefix[i];
    if (ins === undefined) break;
    if (ins.mnemonic !== Mnemonic.Cmp) continue;
    const [a, b] = ins.operands;
    if (a?.kind !== "reg" || gprIndex(a.reg) !== index || b?.kind !== "imm") return undefined;
    return Number(b.value & 0xffffn) + 1;
  }
  return undefined;
}

function readTable(
  ctx: JumpTableContext,
  table: number,
  entrySize: 4 | 8,
  relativeTo: number,
  bound: number | undefined,
): number[] | undefined {
  const targets: number[] = [];
  const limit = Math.min(bound ?? MAX_ENTRIES, MAX_ENTRIES);
  for (let i = 0; i < limit; i++) {
    const raw = readGuest(ctx.image, table + i * entrySize, entrySize);
    if (raw === undefined) break;
    const target = entrySize === 8 ? Number(raw) : relativeTo + Number(raw);
    if (!ctx.isCode(target)) {
      if (bound !== undefined) return undefined;
      break;
    }
    if (!targets.includes(target)) targets.push(target);
  }
  return targets.length > 0 ? targets : undefined;
}
