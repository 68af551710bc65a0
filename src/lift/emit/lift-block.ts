// One guest basic block → wasm statements plus the branches that leave it
// (SDM Vol. 1 §6.3–6.4 for the control transfers): every instruction through
// its semantic handler, the terminator as branches the Relooper structures.
// Shared by a function and its loop variants (lift-function.ts).
import { FlowControl, Mnemonic } from "iced-x86";
import type { DecodedInstruction } from "../decode.js";
import {
  endsBlock,
  isTrapInstruction,
  type DiscoveredBlock,
  type DiscoveredFunction,
} from "../discover.js";
import { handlerFor } from "../semantics/table.js";
import { conditionOf } from "../semantics/conditions.js";
import { unpackTouched, type Touched } from "../call-summaries.js";
import { isStubJump, type StubCall } from "../ifunc-stubs.js";
import type { Inlinable } from "../inline-calls.js";
import {
  emitCall,
  emitReturn,
  jumpToDispatcher,
  tailCall,
  type InPlaceCall,
} from "./control-flow.js";
import { EVERY_REGISTER, type ReloadedBy } from "./dirty-registers.js";
import type { FunctionContext, TrapRegistry } from "./function-context.js";
import { i32, i64, Wasm, type Expr } from "./wasm.js";

export interface LiftEnvironment {
  readonly w: Wasm;
  readonly traps: TrapRegistry;
  /** The wasm name of the function entered at `address`, if there is one. */
  functionName(address: number): string | undefined;
  /** The registers a direct call to the function at `address` can touch (call-summaries.ts). */
  touched(address: number): Touched;
  /** For a function that is an IFUNC stub: how a call makes it in place (ifunc-stubs.ts). */
  stubCall?(address: number): StubCall | undefined;
  /** For a function that callers inline: its blocks and shape (inline-calls.ts). */
  inlinable?(address: number): Inlinable | undefined;
  /** Called once per instruction without semantics. */
  unsupported(ins: DecodedInstruction): void;
}

const RCX = 1;
const RSP = 4;

/** Where a branch goes: a block (by guest address) or code that leaves the function. */
export type BranchTarget = { readonly block: number } | { readonly exit: Expr };

export interface BlockEnd {
  /** Statements appended to the block (after flag materialisation). */
  readonly code: Expr[];
  /** Branches: a block of this function or exit code, with a condition (undefined = default). */
  readonly branches: { target: BranchTarget; condition?: Expr }[];
}

export function isCall(ins: DecodedInstruction): boolean {
  return ins.flow === FlowControl.Call || ins.flow === FlowControl.IndirectCall;
}

/**
 * The entries of other functions an indirect jump's table holds (an IFUNC
 * stub's candidates), with their wasm names: empty unless every target is one.
 */
export function tailTargets(
  block: DiscoveredBlock,
  fn: DiscoveredFunction,
  env: Pick<LiftEnvironment, "functionName">,
): [number, string][] {
  const name = (t: number): string | undefined => env.functionName(t);
  if (!isStubJump(block, fn, (t) => name(t) !== undefined)) return [];
  return (block.jumpTable ?? []).map((t) => [t, name(t) as string]);
}

/**
 * A call to an IFUNC stub made in place: the implementation its slot holds,
 * called directly when it is one of the candidates, else the stub.
 */
function inPlace(
  ctx: FunctionContext,
  env: LiftEnvironment,
  stub: StubCall,
  stubName: string,
): InPlaceCall {
  const m = ctx.m;
  return (args) => {
    const slot = ctx.temp(i64);
    let call = m.call(stubName, args(), i32);
    for (const candidate of [...stub.candidates].reverse()) {
      const name = env.functionName(candidate);
      if (name === undefined) continue;
      const hit = m.i64.eq(m.local.get(slot, i64), ctx.w.c64(candidate));
      call = m.if(hit, m.call(name, args(), i32), call);
    }
    return m.block(null, [m.local.set(slot, ctx.w.load(8, ctx.w.c32(stub.slot))), call], i32);
  };
}

/** The registers the code after a call reloads: a direct call's callee's summary, else all. */
export function reloadedBy(env: LiftEnvironment): ReloadedBy {
  return (ins) => {
    if (ins.flow !== FlowControl.Call || ins.mnemonic === Mnemonic.Syscall) return EVERY_REGISTER;
    // A copy's exit into its callee's own code: what the callee touches.
    if (ins.inlinedSite !== undefined) return unpackTouched(env.touched(ins.inlinedSite.callee));
    return ins.target !== undefined && env.functionName(ins.target) !== undefined
      ? unpackTouched(env.touched(ins.target))
      : EVERY_REGISTER;
  };
}

export function intraSuccessors(
  b: DiscoveredBlock,
  fn: DiscoveredFunction,
  env: LiftEnvironment,
): number[] {
  const last = b.instructions[b.instructions.length - 1];
  const inFn = (a: number | undefined): a is number => a !== undefined && fn.blocks.has(a);
  if (last === undefined) return [];
  if (!endsBlock(last)) return inFn(b.end) ? [b.end] : [];
  if (last.inlinedReturn !== undefined) return [last.inlinedReturn].filter(inFn);
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

export function liftBlock(
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
  // Falling into another function's entry (discover.ts stops there) goes through the dispatcher.
  const fallInto: BranchTarget = fn.blocks.has(block.end)
    ? { block: block.end }
    : { exit: jumpToDispatcher(ctx, ctx.w.c64(block.end)) };
  return { code: [], branches: [{ target: fallInto }] };
}

/**
 * `ret [imm16]` of an inlined copy: pop, and go on after the call when the
 * popped address is the call's return address; anything else goes on
 * through the dispatcher, as a return to it would.
 */
function inlinedReturn(
  ctx: FunctionContext,
  ins: DecodedInstruction,
  returnAddress: number,
  live: number,
): BlockEnd {
  const m = ctx.m;
  const w = ctx.w;
  const imm = ins.operands[0];
  const extra = imm?.kind === "imm" ? Number(imm.value) : 0;
  const address = ctx.let(w.load(8, w.pointer(ctx.gpr(RSP))));
  ctx.setGpr(RSP, m.i64.add(ctx.gpr(RSP), w.c64(8 + extra)));
  const back = ctx.let(m.i64.eq(ctx.get(address), w.c64(returnAddress)), i32);
  ctx.materializeFlags(live);
  return {
    code: [],
    branches: [
      { target: { block: returnAddress }, condition: ctx.get(back, i32) },
      { target: { exit: jumpToDispatcher(ctx, ctx.get(address)) } },
    ],
  };
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
  // block.end, not next: in an inlined copy (inline-calls.ts) it is the copy's next block.
  const fallThrough = (): BranchTarget =>
    fn.blocks.has(block.end)
      ? { block: block.end }
      : { exit: jumpToDispatcher(ctx, w.c64(block.end)) };
  if (isTrapInstruction(ins)) {
    return { code: [ctx.trap(`${Mnemonic[ins.mnemonic].toLowerCase()} executed`)], branches: [] };
  }
  if (ins.inlinedCall !== undefined) {
    // call: push the return address and go on in the callee's copy, keeping
    // the RSP its return leaves for the copy's exits.
    if (ins.inlinedSite !== undefined) {
      ctx.emit(m.local.set(ctx.inlineSiteRsp(ins.inlinedSite.index), ctx.gpr(RSP)));
    }
    ctx.setGpr(RSP, m.i64.sub(ctx.gpr(RSP), w.c64(8)));
    ctx.emit(m.i64.store(0, 1, w.pointer(ctx.gpr(RSP)), w.c64(ins.inlinedCall)));
    ctx.materializeFlags(live);
    return { code: [], branches: [{ target: { block: ins.target ?? 0 } }] };
  }
  if (ins.inlinedReturn !== undefined) return inlinedReturn(ctx, ins, ins.inlinedReturn, live);
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
      // An IFUNC stub's candidates (ifunc-stubs.ts): other functions' entries, tail-called.
      const stub = tailTargets(block, fn, env);
      const arm = (
        t: number,
        exit: Expr | undefined,
      ): { target: BranchTarget; condition: Expr } => ({
        target: exit === undefined ? { block: t } : { exit },
        condition: m.i64.eq(ctx.get(target), w.c64(t)),
      });
      return {
        code: [],
        branches: [
          ...table.map((t) => arm(t, undefined)),
          ...stub.map(([t, callee]) => arm(t, tailCall(ctx, callee))),
          // A stub's other targets unwind to the dispatcher: its callers keep
          // registers the candidates do not touch in their locals (call-summaries.ts).
          {
            target: {
              exit:
                stub.length > 0
                  ? ctx.exitToDispatcher(ctx.get(target))
                  : jumpToDispatcher(ctx, ctx.get(target)),
            },
          },
        ],
      };
    }
    case FlowControl.Call:
    case FlowControl.IndirectCall: {
      if (ins.inlinedSite !== undefined) {
        // A copy's exit (inline-calls.ts): the callee's own code from target,
        // returning after the original call with the RSP from before its push.
        const site = ins.inlinedSite;
        emitCall(ctx, w.c64(ins.target ?? 0), next, undefined, reloadedBy(env)(ins), {
          pushed: () => m.local.get(ctx.inlineSiteRsp(site.index), i64),
        });
        ctx.materializeFlags(live);
        return { code: [], branches: [{ target: fallThrough() }] };
      }
      const direct = ins.flow === FlowControl.Call && ins.target !== undefined;
      const target = direct ? w.c64(ins.target ?? 0) : ctx.read(0, 8);
      const name = direct ? env.functionName(ins.target ?? 0) : undefined;
      const stub = name !== undefined ? env.stubCall?.(ins.target ?? 0) : undefined;
      const callee = stub !== undefined ? inPlace(ctx, env, stub, name as string) : name;
      emitCall(ctx, target, next, callee, reloadedBy(env)(ins));
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
