// The index space every shard module and the final module share (issue 4
// item 7). Shards are emitted by different binaryen instances (one per
// worker thread); when every shard declares the same imports, globals and
// functions in the same order — its own functions with their code, the
// others as stubs — a function's code entry in a shard's binary is byte for
// byte what it is in the final module, and assembly is a splice of code
// entries (lift-shard-splice.ts) instead of a re-read of every shard.
// Everything here crosses threads, so types are kept as lists of basic
// types (binaryen's ids for i32, i64, … are the same in every instance).
import binaryen from "binaryen";
import type { Expr } from "./emit/wasm.js";

export interface Signature {
  readonly params: readonly number[];
  readonly results: readonly number[];
}

export interface FunctionSlot {
  readonly name: string;
  readonly signature: Signature;
  /** What it imports, for an import. */
  readonly import?: { readonly module: string; readonly base: string };
  /** The shard whose code it is (-1: the final module's own, e.g. the dispatcher). */
  readonly owner: number;
}

export interface GlobalSlot {
  readonly name: string;
  readonly type: number;
  readonly mutable: boolean;
  /** The constant it starts with (only constant initialisers occur). */
  readonly init: number | bigint;
}

/** Every function and global of the final module, in its order. */
export interface ShardLayout {
  readonly functions: readonly FunctionSlot[];
  readonly globals: readonly GlobalSlot[];
}

export function signatureOf(f: binaryen.FunctionInfo): Signature {
  return { params: binaryen.expandType(f.params), results: binaryen.expandType(f.results) };
}

export function signatureTypes(s: Signature): { params: binaryen.Type; results: binaryen.Type } {
  return {
    params: binaryen.createType([...s.params]),
    results: binaryen.createType([...s.results]),
  };
}

/** A module's functions in order (`owner` for the defined ones; imports get -1). */
export function functionSlots(module: binaryen.Module, owner: number): FunctionSlot[] {
  const slots: FunctionSlot[] = [];
  for (let i = 0; i < module.getNumFunctions(); i++) {
    const f = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
    const imported = f.module !== null && f.module !== "";
    slots.push({
      name: f.name,
      signature: signatureOf(f),
      ...(imported ? { import: { module: f.module as string, base: f.base ?? f.name } } : {}),
      owner: imported ? -1 : owner,
    });
  }
  return slots;
}

export function globalSlots(module: binaryen.Module): GlobalSlot[] {
  const slots: GlobalSlot[] = [];
  for (let i = 0; i < module.getNumGlobals(); i++) {
    const g = binaryen.getGlobalInfo(module.getGlobalByIndex(i));
    const init = binaryen.getExpressionInfo(g.init) as { id: number; value?: unknown };
    if (init.id !== binaryen.ConstId || !["number", "bigint"].includes(typeof init.value))
      throw new Error(`global ${g.name} does not start with a constant`);
    slots.push({ name: g.name, type: g.type, mutable: g.mutable, init: init.value as number });
  }
  return slots;
}

export function addGlobalSlot(module: binaryen.Module, g: GlobalSlot): void {
  let init: Expr;
  if (g.type === binaryen.i64) {
    // binaryen 132 takes one BigInt here; its .d.ts still declares (low, high).
    init = (module.i64.const as unknown as (value: bigint) => Expr)(BigInt(g.init));
  } else if (g.type === binaryen.i32) {
    init = module.i32.const(Number(g.init));
  } else if (g.type === binaryen.f64) {
    init = module.f64.const(Number(g.init));
  } else if (g.type === binaryen.f32) {
    init = module.f32.const(Number(g.init));
  } else {
    throw new Error(`global ${g.name} has a type the shard layout does not carry`);
  }
  module.addGlobal(g.name, g.type, g.mutable, init);
}

/** Imports and globals of `layout`, in its order, into a module that has neither yet. */
export function addImportsAndGlobals(module: binaryen.Module, layout: ShardLayout): void {
  for (const f of layout.functions) {
    if (f.import === undefined) continue;
    const { params, results } = signatureTypes(f.signature);
    module.addFunctionImport(f.name, f.import.module, f.import.base, params, results);
  }
  for (const g of layout.globals) addGlobalSlot(module, g);
}

/** A function that only holds a place in the index space. */
export function addStub(module: binaryen.Module, slot: FunctionSlot): void {
  const { params, results } = signatureTypes(slot.signature);
  module.addFunction(slot.name, params, results, [], module.unreachable());
}

/**
 * Rearranges the module of shard `owner` in place into `layout`: every
 * import and global in the layout's order, then its functions — the ones
 * `owner` owns with their code, every other one as a stub. The code is
 * moved, not copied: binaryen allocates expressions in the module's arena,
 * so a body outlives its removed function and serves the one re-added
 * under the same name (a copy of busybox's code cost 2 s and a second
 * module's memory).
 */
export function arrangeInLayout(module: binaryen.Module, layout: ShardLayout, owner: number): void {
  const infos: binaryen.FunctionInfo[] = [];
  for (let i = 0; i < module.getNumFunctions(); i++)
    infos.push(binaryen.getFunctionInfo(module.getFunctionByIndex(i)));
  const globals: string[] = [];
  for (let i = 0; i < module.getNumGlobals(); i++)
    globals.push(binaryen.getGlobalInfo(module.getGlobalByIndex(i)).name);
  for (const f of infos) module.removeFunction(f.name);
  for (const g of globals) module.removeGlobal(g);
  const own = new Map(
    infos.filter((f) => f.module === null || f.module === "").map((f) => [f.name, f]),
  );
  addImportsAndGlobals(module, layout);
  for (const slot of layout.functions) {
    if (slot.import !== undefined) continue;
    const f = slot.owner === owner ? own.get(slot.name) : undefined;
    if (slot.owner === owner && f === undefined)
      throw new Error(`shard ${owner} owns ${slot.name} but did not lift it`);
    if (f === undefined) addStub(module, slot);
    else module.addFunction(f.name, f.params, f.results, f.vars, f.body);
  }
}
