// One guest function → one wasm function (ARCHITECTURE.md "Lifting" 1):
// signature (expectedReturn: i64, entry: i32) → i32 result code. Its blocks
// are structured by binaryen's Relooper; `entry` selects where to start (0 =
// the function entry, k = the k-th call continuation, for re-entry from the
// dispatcher). Registers are loaded into locals on entry and spilled only at
// calls, syscalls and exits.
import binaryen from "binaryen";
import { FlowControl, Mnemonic } from "iced-x86";
import type { DecodedInstruction } from "../decode.js";
import {
  endsBlock,
  isTrapInstruction,
  type DiscoveredBlock,
  type DiscoveredFunction,
} from "../discover.js";
import { flagsLiveOut } from "../flags-liveness.js";
import { handlerFor } from "../semantics/table.js";
import { conditionOf } from "../semantics/conditions.js";
import { emitCall, emitReturn, jumpToDispatcher, tailCall } from "./control-flow.js";
import { FunctionContext, PARAM_ENTRY, type TrapRegistry } from "./function-context.js";
import { i32, i64, Wasm, type Expr } from "./wasm.js";

export interface LiftEnvironment {
  readonly w: Wasm;
  readonly traps: TrapRegistry;
  /** The wasm name of the function entered at `address`, if there is one. */
  functionName(address: number): string | undefined;
  /** Called once per instruction without semantics. */
  unsupported(ins: DecodedInstruction): void;
}

export interface LiftedFunction {
  readonly name: string;
  /** Guest addresses that enter this function, by entry index. */
  readonly entries: readonly number[];
  readonly instructionCount: number;
}

export function functionName(address: number): string {
  return `f_${address.toString(16)}`;
}

const RCX = 1;

/** Where a branch goes: a block (by guest address) or code that leaves the function. */
type BranchTarget = { readonly block: number } | { readonly exit: Expr };

interface BlockEnd {
  /** Statements appended to the block (after flag materialisation). */
  readonly code: Expr[];
  /** Branches: a block of this function or exit code, with a condition (undefined = default). */
  readonly branches: { target: BranchTarget; condition?: Expr }[];
}

export function liftFunction(fn: DiscoveredFunction, env: LiftEnvironment): LiftedFunction {
  const w = env.w;
  const m = w.m;
  let gprMask = 1 << 4;
  let xmmMask = 0;
  let instructionCount = 0;
  for (const b of fn.blocks.values()) {
    for (const ins of b.instructions) {
      gprMask |= ins.gprMask;
      xmmMask |= ins.xmmMask;
      instructionCount++;
    }
  }
  const ctx = new FunctionContext(w, gprMask, xmmMask, env.traps);
  const successors = new Map<number, number[]>();
  for (const b of fn.blocks.values()) successors.set(b.start, intraSuccessors(b, fn, env));
  const liveOut = flagsLiveOut(fn, successors);

  const relooper = new binaryen.Relooper(m);
  const rBlocks = new Map<number, number>();
  const pending: { from: number; end: BlockEnd }[] = [];
  const entries = [fn.entry];
  for (const block of fn.blocks.values()) {
    ctx.startBlock();
    const end = liftBlock(ctx, block, fn, env, liveOut.get(block.start) ?? 0);
    const code = w.block([...ctx.takeStatements(), ...end.code]);
    const ref = relooper.addBlock(code);
    rBlocks.set(block.start, ref);
    pending.push({ from: ref, end });
    const last = block.instructions[block.instructions.length - 1];
    if (
      last !== undefined &&
      isCall(last) &&
      fn.blocks.has(block.end) &&
      !entries.includes(block.end)
    ) {
      entries.push(block.end);
    }
  }
  for (const { from, end } of pending) {
    // The Relooper takes one branch per (from, to) pair: a jcc whose target is
    // also the fall-through (or two jump-table arms to one block) becomes one
    // branch taken when either condition holds, or always if either is the default.
    // This relies on a block's branch conditions being disjoint, as the lifter
    // makes them (a jcc and its fall-through; jump-table arms on distinct indices).
    const byTarget = new Map<number, { to: number; condition: binaryen.ExpressionRef }>();
    const order: number[] = [];
    for (const branch of end.branches) {
      const target = branch.target;
      let to: number | undefined;
      if ("exit" in target) to = relooper.addBlock(target.exit);
      else to = rBlocks.get(target.block) ?? relooper.addBlock(m.unreachable());
      const condition = branch.condition ?? 0;
      const seen = byTarget.get(to);
      if (seen === undefined) {
        byTarget.set(to, { to, condition });
        order.push(to);
      } else {
        seen.condition =
          seen.condition === 0 || condition === 0 ? 0 : m.i32.or(seen.condition, condition);
      }
    }
    // Conditional branches first in their original order, the default (condition 0) last.
    const branches = order.map((to) => byTarget.get(to)!);
    for (const b of branches.filter((b) => b.condition !== 0))
      relooper.addBranch(from, b.to, b.condition, 0);
    for (const b of branches.filter((b) => b.condition === 0)) relooper.addBranch(from, b.to, 0, 0);
  }
  let start = rBlocks.get(fn.entry) as number;
  if (entries.length > 1) {
    const selector = relooper.addBlockWithSwitch(m.nop(), m.local.get(PARAM_ENTRY, i32));
    entries.forEach((address, k) => {
      if (k > 0) relooper.addBranchForSwitch(selector, rBlocks.get(address) as number, [k], 0);
    });
    relooper.addBranchForSwitch(selector, start, [], 0);
    start = selector;
  }
  const labelHelper = ctx.dedicatedLocal(i32);
  const body = relooper.renderAndDispose(start, labelHelper);
  const name = functionName(fn.entry);
  m.addFunction(
    name,
    binaryen.createType([i64, i32]),
    i32,
    ctx.localTypes(),
    m.block(null, [...ctx.reload(), body, m.unreachable()], i32),
  );
  return { name, entries, instructionCount };
}

function isCall(ins: DecodedInstruction): boolean {
  return ins.flow === FlowControl.Call || ins.flow === FlowControl.IndirectCall;
}

function intraSuccessors(
  b: DiscoveredBlock,
  fn: DiscoveredFunction,
  env: LiftEnvironment,
): number[] {
  const last = b.instructions[b.instructions.length - 1];
  const inFn = (a: number | undefined): a is number => a !== undefined && fn.blocks.has(a);
  if (last === undefined) return [];
  if (!endsBlock(last)) return inFn(b.end) ? [b.end] : [];
  switch (last.flow) {
    case FlowControl.ConditionalBranch:
      return [last.target, b.end].filter(inFn);
    case FlowControl.UnconditionalBranch:
      return inFn(last.target) && !(env.functionName(last.target) && last.target !== fn.entry)
        ? [last.target]
        : [];
    case FlowControl.IndirectBranch:
      return (b.jumpTable ?? []).filter(inFn);
    case FlowControl.Call:
    case FlowControl.IndirectCall:
      return inFn(b.end) ? [b.end] : [];
    default:
      return [];
  }
}

function liftBlock(
  ctx: FunctionContext,
  block: DiscoveredBlock,
  fn: DiscoveredFunction,
  env: LiftEnvironment,
  live: number,
): BlockEnd {
  const count = block.instructions.length;
  for (let i = 0; i < count; i++) {
    const ins = block.instructions[i] as DecodedInstruction;
    ctx.ins = ins;
    const terminator = i === count - 1 && endsBlock(ins);
    if (terminator) return liftTerminator(ctx, ins, block, fn, env, live);
    const handler = handlerFor(ins);
    if (handler === undefined) {
      env.unsupported(ins);
      return { code: [ctx.trap(`unsupported instruction ${ins.text}`)], branches: [] };
    }
    try {
      handler(ctx);
    } catch {
      // An operand form the handler does not cover (e.g. a segment register):
      // report it like a missing handler rather than lifting it wrongly.
      env.unsupported(ins);
      return { code: [ctx.trap(`unsupported operands in ${ins.text}`)], branches: [] };
    }
  }
  if (block.undecodable) {
    return { code: [ctx.trap("undecodable instruction bytes", block.end)], branches: [] };
  }
  ctx.materializeFlags(live);
  return { code: [], branches: [{ target: { block: block.end } }] };
}

function liftTerminator(
  ctx: FunctionContext,
  ins: DecodedInstruction,
  block: DiscoveredBlock,
  fn: DiscoveredFunction,
  env: LiftEnvironment,
  live: number,
): BlockEnd {
  const w = ctx.w;
  const m = ctx.m;
  const next = ins.ip + ins.length;
  /** Where a jump to `target` goes: a block of ours, a tail call, or the dispatcher. */
  const jumpTo = (target: number): BranchTarget => {
    const callee = env.functionName(target);
    if (callee !== undefined && target !== fn.entry) return { exit: tailCall(ctx, callee) };
    if (fn.blocks.has(target)) return { block: target };
    return { exit: jumpToDispatcher(ctx, w.c64(target)) };
  };
  const fallThrough = (): BranchTarget =>
    fn.blocks.has(next) ? { block: next } : { exit: jumpToDispatcher(ctx, w.c64(next)) };
  if (isTrapInstruction(ins)) {
    return { code: [ctx.trap(`${Mnemonic[ins.mnemonic].toLowerCase()} executed`)], branches: [] };
  }
  switch (ins.flow) {
    case FlowControl.ConditionalBranch: {
      let condition: Expr;
      if (ins.mnemonic === Mnemonic.Jrcxz || ins.mnemonic === Mnemonic.Jecxz) {
        const size = ins.mnemonic === Mnemonic.Jrcxz ? 8 : 4;
        condition = m.i64.eqz(w.truncate(ctx.gpr(RCX), size));
      } else if (
        ins.mnemonic === Mnemonic.Loop ||
        ins.mnemonic === Mnemonic.Loope ||
        ins.mnemonic === Mnemonic.Loopne
      ) {
        ctx.setGpr(RCX, m.i64.sub(ctx.gpr(RCX), w.c64(1)));
        condition = m.i64.ne(ctx.gpr(RCX), w.c64(0));
        if (ins.mnemonic !== Mnemonic.Loop) {
          const zf = ctx.condition(conditionOf(Mnemonic.Je));
          condition = m.i32.and(condition, ins.mnemonic === Mnemonic.Loope ? zf : m.i32.eqz(zf));
        }
      } else {
        condition = ctx.condition(conditionOf(ins.mnemonic));
      }
      const c = ctx.let(condition, i32);
      ctx.materializeFlags(live);
      return {
        code: [],
        branches: [
          { target: jumpTo(ins.target ?? 0), condition: ctx.get(c, i32) },
          { target: fallThrough() },
        ],
      };
    }
    case FlowControl.UnconditionalBranch:
      ctx.materializeFlags(live);
      return { code: [], branches: [{ target: jumpTo(ins.target ?? 0) }] };
    case FlowControl.IndirectBranch: {
      const target = ctx.let(ctx.read(0, 8));
      ctx.materializeFlags(live);
      const table = (block.jumpTable ?? []).filter((t) => fn.blocks.has(t));
      return {
        code: [],
        branches: [
          ...table.map((t) => ({
            target: { block: t },
            condition: m.i64.eq(ctx.get(target), w.c64(t)),
          })),
          { target: { exit: jumpToDispatcher(ctx, ctx.get(target)) } },
        ],
      };
    }
    case FlowControl.Call:
    case FlowControl.IndirectCall: {
      const direct = ins.flow === FlowControl.Call && ins.target !== undefined;
      const target = direct ? w.c64(ins.target ?? 0) : ctx.read(0, 8);
      emitCall(ctx, target, next, direct ? env.functionName(ins.target ?? 0) : undefined);
      ctx.materializeFlags(live);
      return { code: [], branches: [{ target: fallThrough() }] };
    }
    case FlowControl.Return: {
      const imm = ins.operands[0];
      emitReturn(ctx, imm?.kind === "imm" ? Number(imm.value) : 0);
      return { code: [], branches: [] };
    }
    default:
      env.unsupported(ins);
      return { code: [ctx.trap(`unsupported control transfer ${ins.text}`)], branches: [] };
  }
}
