// The final module of a light lift (issue 4 item 7), in two steps around
// the shards' second step. `buildSkeleton` lays out every import, global
// and function the shards outlined — in shard order, a helper that several
// shards define (crc32c, udiv128) where the first one does, as an unsharded
// lift places it — with stubs for the lifted code, then adds the
// dispatcher over all their entries and the metadata section. The shards
// emit their code in that layout; `spliceShards` (lift-shard-splice.ts)
// puts it in place. Nothing here reads a shard module back: binaryen's
// reader costs more than the lift saves (measured: 1.5 s for each half of
// glibc's printf fixture).
import binaryen from "binaryen";
import { METADATA_SECTION, type LiftMetadata } from "./abi.js";
import { addDispatcher } from "./emit/dispatcher.js";
import { Wasm } from "./emit/wasm.js";
import {
  addGlobalSlot,
  addStub,
  functionSlots,
  globalSlots,
  signatureTypes,
  type ShardLayout,
} from "./lift-shard-layout.js";
import { LIGHT_PASSES, setUpModule, type ShardOutline } from "./lift-shard.js";

export interface Skeleton {
  readonly layout: ShardLayout;
  /** The final module with stubs in place of the shards' code. */
  readonly wasm: Uint8Array;
}

export function buildSkeleton(
  outlines: readonly ShardOutline[],
  metadata: LiftMetadata,
  optimize: number,
): Skeleton {
  const module = new binaryen.Module();
  try {
    setUpModule(module);
    const owners = new Map<string, number>();
    for (const outline of outlines) {
      for (const g of outline.globals) if (module.getGlobal(g.name) === 0) addGlobalSlot(module, g);
      for (const f of outline.functions) {
        if (module.getFunction(f.name) !== 0) continue;
        if (f.import !== undefined) {
          const { params, results } = signatureTypes(f.signature);
          module.addFunctionImport(f.name, f.import.module, f.import.base, params, results);
        } else {
          addStub(module, f);
          owners.set(f.name, f.owner);
        }
      }
    }
    const lifted = module.getNumFunctions();
    addDispatcher(
      new Wasm(module),
      outlines.flatMap((s) => s.dispatch),
    );
    if (optimize >= 1) {
      for (let i = lifted; i < module.getNumFunctions(); i++)
        module.runPassesOnFunction(module.getFunctionByIndex(i), LIGHT_PASSES);
    }
    module.addCustomSection(METADATA_SECTION, new TextEncoder().encode(JSON.stringify(metadata)));
    const layout: ShardLayout = {
      functions: functionSlots(module, -1).map((f) => ({ ...f, owner: owners.get(f.name) ?? -1 })),
      globals: globalSlots(module),
    };
    binaryen.setDebugInfo(false);
    return { layout, wasm: module.emitBinary() };
  } finally {
    module.dispose();
  }
}

/** The module as wasm text (for debugging the lifter; names are not kept). */
export function wasmText(wasm: Uint8Array): string {
  const module = binaryen.readBinary(wasm);
  try {
    return module.emitText();
  } finally {
    module.dispose();
  }
}
