// A DiscoveredBlock of `count` instructions decoded from `start`: the unit
// the lifter's per-block analyses (flags liveness, dirty registers) take.
import type { CodeDecoder } from "../../src/lift/decode.js";
import type { DiscoveredBlock } from "../../src/lift/discover.js";

export function decodedBlock(decoder: CodeDecoder, start: number, count: number): DiscoveredBlock {
  const instructions = [];
  let at = start;
  for (let i = 0; i < count; i++) {
    const ins = decoder.decodeAt(at);
    if (ins === null) throw new Error(`no instruction at ${at}`);
    instructions.push(ins);
    at += ins.length;
  }
  return { start, instructions, end: at, undecodable: false };
}
