// Calls through a static glibc program's IFUNC stubs (the `*ABS*@plt`
// entries): `jmp [slot]`, where the slot is written at start-up by
// apply_irel with what the slot's R_X86_64_IRELATIVE resolver returns —
// strcmp, memcpy, strlen and the like for the CPU model. Discovery cannot
// follow such a jump, so every call to them went through the dispatcher's
// compare tree, and the call summaries (call-summaries.ts) counted it as
// touching every register.
//
// The resolver picks among implementations it names with `lea reg,
// [rip+disp]`; those that are function entries are the stub's candidates.
// The stub then compares the slot's value with each and tail-calls the match
// directly (lift-block.ts); any other value leaves for the dispatcher by
// unwinding (exitToDispatcher), so the candidates' summaries stay sound.
import { FlowControl, Mnemonic, Register } from "iced-x86";
import { R_X86_64_IRELATIVE } from "../elf/relocation-types.js";
import { MegaliftError } from "../errors.js";
import type { DiscoveredBlock, DiscoveredFunction, Discovery } from "./discover.js";
import type { GuestImage } from "./guest-image.js";

/**
 * Whether `block` ends in an IFUNC stub's jump: a table whose every target is
 * another function's entry (`isEntry`). The lifter tail-calls those targets
 * (lift-block.ts), and the call summaries count them as callees.
 */
export function isStubJump(
  block: DiscoveredBlock,
  fn: DiscoveredFunction,
  isEntry: (address: number) => boolean,
): boolean {
  const table = block.jumpTable ?? [];
  return table.length > 0 && table.every((t) => isEntry(t) && t !== fn.entry && !fn.blocks.has(t));
}

/** Slot address → resolver address (both rebased), from the IRELATIVE relocations. */
function irelativeSlots(image: GuestImage): Map<number, number> {
  const slots = new Map<number, number>();
  try {
    for (const r of image.elf.relocations()) {
      if (r.type === R_X86_64_IRELATIVE) {
        slots.set(Number(r.offset) + image.base, Number(r.addend) + image.base);
      }
    }
  } catch (err) {
    if (!(err instanceof MegaliftError)) throw err;
  }
  return slots;
}

/** The function entries a resolver names with a RIP-relative (absolute after decoding) lea. */
function candidatesOf(
  resolver: DiscoveredFunction,
  functions: ReadonlyMap<number, DiscoveredFunction>,
): number[] {
  const out = new Set<number>();
  for (const block of resolver.blocks.values()) {
    for (const ins of block.instructions) {
      const mem = ins.memory;
      if (ins.mnemonic !== Mnemonic.Lea || mem === undefined) continue;
      if (mem.base !== Register.None || mem.index !== Register.None) continue;
      const target = Number(mem.displacement);
      if (functions.has(target) && target !== resolver.entry) out.add(target);
    }
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * The discovery with each IFUNC stub's `jmp [slot]` given its candidates as a
 * jump table of function entries, and no longer counted as unresolved.
 */
export function resolveIfuncStubs(image: GuestImage, discovery: Discovery): Discovery {
  const slots = irelativeSlots(image);
  if (slots.size === 0) return discovery;
  const resolved = new Set<number>();
  const functions = new Map<number, DiscoveredFunction>();
  for (const [entry, fn] of discovery.functions) {
    let blocks: Map<number, DiscoveredBlock> | undefined;
    for (const block of fn.blocks.values()) {
      const last = block.instructions[block.instructions.length - 1];
      const mem = last?.memory;
      if (last?.flow !== FlowControl.IndirectBranch || block.jumpTable !== undefined) continue;
      if (mem === undefined || mem.base !== Register.None || mem.index !== Register.None) continue;
      const resolver = discovery.functions.get(slots.get(Number(mem.displacement)) ?? -1);
      if (resolver === undefined) continue;
      const candidates = candidatesOf(resolver, discovery.functions).filter(
        (c) => c !== entry && !fn.blocks.has(c),
      );
      if (candidates.length === 0) continue;
      blocks ??= new Map(fn.blocks);
      blocks.set(block.start, { ...block, jumpTable: candidates });
      resolved.add(last.ip);
    }
    functions.set(entry, blocks === undefined ? fn : { ...fn, blocks });
  }
  return {
    ...discovery,
    functions,
    unresolvedIndirectJumps: discovery.unresolvedIndirectJumps.filter((a) => !resolved.has(a)),
  };
}

/**
 * A call to an IFUNC stub made in place (lift-block.ts): the caller reads
 * the slot itself and calls the implementation it holds directly — one wasm
 * frame and tail call fewer on every strcmp or memcpy — and calls the stub
 * only for a value it does not expect.
 */
export interface StubCall {
  readonly slot: number;
  /** The candidates the CPU model can select (feature-skip.ts), by address. */
  readonly candidates: readonly number[];
}

/**
 * The functions that are nothing but an IFUNC stub's jump (after an
 * endbr64 at most), by entry, with the candidates `selectable` keeps.
 */
export function stubCalls(
  functions: ReadonlyMap<number, DiscoveredFunction>,
  selectable: (fn: DiscoveredFunction) => boolean,
): Map<number, StubCall> {
  const out = new Map<number, StubCall>();
  const isEntry = (address: number): boolean => functions.has(address);
  for (const fn of functions.values()) {
    const block = fn.blocks.get(fn.entry);
    if (fn.blocks.size !== 1 || block === undefined) continue;
    const last = block.instructions[block.instructions.length - 1];
    const before = block.instructions.slice(0, -1);
    if (before.some((ins) => ins.mnemonic !== Mnemonic.Endbr64)) continue;
    const mem = last?.memory;
    if (mem === undefined || mem.base !== Register.None || mem.index !== Register.None) continue;
    if (!isStubJump(block, fn, isEntry)) continue;
    const candidates = (block.jumpTable ?? []).filter((t) => {
      const target = functions.get(t);
      return target !== undefined && selectable(target);
    });
    if (candidates.length > 0) out.set(fn.entry, { slot: Number(mem.displacement), candidates });
  }
  return out;
}
