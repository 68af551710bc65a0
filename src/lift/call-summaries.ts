// Which guest registers a call can touch (ARCHITECTURE.md "Lifting" 2:
// registers live in wasm locals and are spilled at calls). A caller spills
// its dirty registers before a call because the callee reads its registers
// from the state block, and reloads after it because the callee leaves its
// results there. A register that neither the callee nor anything it calls
// ever keeps in a local is neither read nor written through the state block
// by that call: the caller may keep it in its local across the call, and
// stores it only if the call does not return normally (a yield, a halt or a
// dispatch unwinds the wasm stack, and the state block must then be whole).
//
// The summary of a function is the registers its instructions use, with
// rsp, joined with those of every function it calls or tail-calls directly,
// to a fixed point over the call graph. Anything that leaves the known call
// graph or lets the kernel see the state makes it every register: a
// syscall, an indirect call or jump (except an IFUNC stub's, whose
// candidates are its callees), a jump or fall-through to code outside the
// function that is not a function entry, a call to an address that is not one. Measured on busybox sort's qsort callbacks: the caller spilled
// about 20 registers per call where strcmp touches fewer than 10.
//
// Narrower summaries stop paying beyond this: V8 gives wasm calls no
// callee-saved registers, so a value a caller keeps in a local across a
// call is stored and loaded around it by V8 instead of through the state
// block. Measured (2026-11-29, busybox sort of 20 MB): syscalls with a known
// number counted as touching only their own registers (160 fewer functions
// touching everything), and "narrow calls" — getc and 391 other functions
// run first on their own registers, called again in full when they reach
// a call or syscall — left sort no faster: medians of 5 alternating runs
// 2.03 s against 2.17 s, and 2.22 s against 2.09 s, with the line reader's
// share of the profile 5.1% narrow against 4.1%. What is left is the call
// itself (the frame, V8's spills, the depth counter, the return check);
// only fewer calls — inlining small functions such as getc — remove it.
import { FlowControl, Mnemonic } from "iced-x86";
import type { DecodedInstruction } from "./decode.js";
import { endsBlock, type DiscoveredFunction } from "./discover.js";
import type { RegisterMask } from "./emit/dirty-registers.js";
import { isStubJump } from "./ifunc-stubs.js";

/** Packed summary: GPR i at bit i, XMM i at bit 16 + i. */
export type Touched = number;

/** Every register: the summary of anything the lifter cannot see through. */
export const TOUCH_ALL: Touched = 0xffffffff;

const RSP_BIT = 1 << 4;

const LEAVES_THE_GRAPH = new Set<Mnemonic>([
  Mnemonic.Syscall,
  Mnemonic.Sysenter,
  Mnemonic.Int,
  Mnemonic.Int1,
  Mnemonic.Into,
]);

/** Whether `ins` hands the whole state to the kernel (a syscall, an interrupt). */
export function escalatesToWholeState(ins: DecodedInstruction): boolean {
  return LEAVES_THE_GRAPH.has(ins.mnemonic);
}

export function unpackTouched(t: Touched): RegisterMask {
  return { gpr: t & 0xffff, xmm: t >>> 16 };
}

function packed(ins: DecodedInstruction): Touched {
  return (ins.gprMask | (ins.xmmMask << 16)) >>> 0;
}

interface LocalSummary {
  /** Registers the function's own instructions use (TOUCH_ALL when it leaves the graph). */
  own: Touched;
  /** Function entries it calls or tail-calls directly. */
  readonly callees: number[];
}

function localSummary(fn: DiscoveredFunction, isEntry: (a: number) => boolean): LocalSummary {
  let own: Touched = RSP_BIT;
  const callees: number[] = [];
  /** A transfer to `target`: inside, a tail call to an entry, or out of the graph. */
  const transfer = (target: number | undefined): void => {
    if (target === undefined) own = TOUCH_ALL;
    else if (isEntry(target) && target !== fn.entry) callees.push(target);
    else if (!fn.blocks.has(target)) own = TOUCH_ALL;
  };
  for (const block of fn.blocks.values()) {
    const last = block.instructions[block.instructions.length - 1];
    for (const ins of block.instructions) {
      own = (own | packed(ins)) >>> 0;
      if (LEAVES_THE_GRAPH.has(ins.mnemonic)) own = TOUCH_ALL;
    }
    if (last === undefined) continue;
    if (!endsBlock(last)) {
      transfer(block.end);
      continue;
    }
    switch (last.flow) {
      case FlowControl.Call:
        if (last.target !== undefined && isEntry(last.target)) callees.push(last.target);
        else own = TOUCH_ALL;
        transfer(block.end);
        break;
      case FlowControl.IndirectCall:
        own = TOUCH_ALL;
        break;
      case FlowControl.IndirectBranch: {
        // An IFUNC stub (ifunc-stubs.ts) tail-calls its candidates and unwinds
        // to the dispatcher for anything else; any other indirect jump may
        // continue anywhere through the dispatcher.
        if (isStubJump(block, fn, isEntry)) callees.push(...(block.jumpTable ?? []));
        else own = TOUCH_ALL;
        break;
      }
      case FlowControl.ConditionalBranch:
        transfer(last.target);
        transfer(block.end);
        break;
      case FlowControl.UnconditionalBranch:
        transfer(last.target);
        break;
      default:
        // ret, and instructions that halt (ud2, hlt, int3: the process ends).
        break;
    }
  }
  return { own, callees };
}

/**
 * The registers each function's direct calls can touch, by entry address
 * (see the top of this file). `functions` must be every function of the ELF:
 * a call to an address not among them counts as touching every register.
 */
export function touchedByCalls(functions: Iterable<DiscoveredFunction>): Map<number, Touched> {
  const list = [...functions];
  const entries = new Set(list.map((fn) => fn.entry));
  const local = new Map(list.map((fn) => [fn.entry, localSummary(fn, (a) => entries.has(a))]));
  const touched = new Map<number, Touched>();
  for (const [entry, s] of local) touched.set(entry, s.own);
  for (let changed = true; changed;) {
    changed = false;
    for (const [entry, s] of local) {
      let t = touched.get(entry) as Touched;
      if (t === TOUCH_ALL) continue;
      for (const c of s.callees) t = (t | (touched.get(c) ?? TOUCH_ALL)) >>> 0;
      if (t !== touched.get(entry)) {
        touched.set(entry, t);
        changed = true;
      }
    }
  }
  return touched;
}
