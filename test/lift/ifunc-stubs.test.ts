// IFUNC stubs (src/lift/ifunc-stubs.ts): in a static glibc program, each
// `jmp [slot]` whose slot an R_X86_64_IRELATIVE relocation fills gets the
// functions its resolver names as candidates, and is no longer an
// unresolved jump. The differential tests run these programs lifted.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FlowControl } from "iced-x86";
import { describe, expect, it } from "vitest";
import { parseElf64 } from "../../src/elf/index.js";
import { R_X86_64_IRELATIVE } from "../../src/elf/relocation-types.js";
import { CodeDecoder } from "../../src/lift/decode.js";
import {
  discover,
  type DiscoveredBlock,
  type DiscoveredFunction,
} from "../../src/lift/discover.js";
import { unselectableFeature } from "../../src/lift/feature-skip.js";
import { createGuestImage, type GuestImage } from "../../src/lift/guest-image.js";
import { resolveIfuncStubs, stubCalls, type StubCall } from "../../src/lift/ifunc-stubs.js";
import { touchedByCalls } from "../../src/lift/call-summaries.js";
import { ShardLift } from "../../src/lift/lift-shard.js";
import { packageRoot } from "../../src/package-root.js";

/** glibc hello's guest image and a decoder over its code (the caller disposes of it). */
function glibcHello(): { image: GuestImage; decoder: CodeDecoder } {
  const path = join(packageRoot(), "fixtures", "bin", "glibc", "hello");
  const image = createGuestImage("hello", parseElf64(readFileSync(path)));
  return { image, decoder: new CodeDecoder(image.codeRanges) };
}

/** The addresses R_X86_64_IRELATIVE relocations fill: the IFUNC slots. */
function irelativeSlots(image: GuestImage): Set<number> {
  return new Set(
    image.elf
      .relocations()
      .filter((r) => r.type === R_X86_64_IRELATIVE)
      .map((r) => Number(r.offset)),
  );
}

describe("resolveIfuncStubs", () => {
  it("gives glibc's IFUNC stubs their resolvers' implementations as tail-call targets", () => {
    const { image, decoder } = glibcHello();
    try {
      const before = discover(image, decoder);
      const after = resolveIfuncStubs(image, before);
      const slots = irelativeSlots(image);
      expect(slots.size).toBeGreaterThan(0);
      const stubs = [...after.functions.values()].flatMap((fn) =>
        [...fn.blocks.values()]
          .filter((b) => b.instructions.at(-1)?.flow === FlowControl.IndirectBranch)
          .filter((b) => slots.has(Number(b.instructions.at(-1)?.memory?.displacement)))
          .map((b) => ({ fn, b })),
      );
      expect(stubs.length).toBeGreaterThan(0);
      for (const { fn, b } of stubs) {
        const table = b.jumpTable ?? [];
        expect(table.length).toBeGreaterThan(0);
        for (const t of table) {
          expect(after.functions.has(t)).toBe(true);
          expect(fn.blocks.has(t)).toBe(false);
        }
        const jump = b.instructions.at(-1)?.ip as number;
        expect(before.unresolvedIndirectJumps).toContain(jump);
        expect(after.unresolvedIndirectJumps).not.toContain(jump);
      }
      expect(after.functions.size).toBe(before.functions.size);
    } finally {
      decoder.dispose();
    }
  });
});

describe("stubCalls", () => {
  it("lets callers of a stub function read its slot and call the CPU model's candidates in place", () => {
    const { image, decoder } = glibcHello();
    try {
      const discovery = resolveIfuncStubs(image, discover(image, decoder));
      const slots = irelativeSlots(image);
      const selectable = (fn: DiscoveredFunction): boolean => unselectableFeature(fn) === undefined;
      const calls = stubCalls(discovery.functions, selectable);
      expect(calls.size).toBeGreaterThan(5);
      let dropped = 0;
      for (const [entry, call] of calls) {
        const fn = discovery.functions.get(entry) as DiscoveredFunction;
        expect(fn.blocks.size).toBe(1);
        const block = fn.blocks.get(entry) as DiscoveredBlock;
        expect(block.instructions.at(-1)?.flow).toBe(FlowControl.IndirectBranch);
        expect(slots.has(call.slot)).toBe(true);
        const table = block.jumpTable ?? [];
        for (const c of call.candidates) {
          expect(table).toContain(c);
          expect(selectable(discovery.functions.get(c) as DiscoveredFunction)).toBe(true);
        }
        dropped += table.length - call.candidates.length;
      }
      // Implementations needing AVX2 or AVX-512 are never called in place.
      expect(dropped).toBeGreaterThan(0);
      expect(stubCalls(discovery.functions, () => false).size).toBe(0);
    } finally {
      decoder.dispose();
    }
  });

  it("makes glibc's calls to strlen and the like read the slot and call the implementation directly", () => {
    const { image, decoder } = glibcHello();
    let text: string;
    let calls: Map<number, StubCall>;
    try {
      const discovery = resolveIfuncStubs(image, discover(image, decoder));
      calls = stubCalls(discovery.functions, (fn) => unselectableFeature(fn) === undefined);
      const functions = [...discovery.functions.values()];
      // A few functions that call a stub, lifted as one shard.
      const callers = functions
        .filter((fn) =>
          [...fn.blocks.values()].some((b) => {
            const last = b.instructions.at(-1);
            return last?.flow === FlowControl.Call && calls.has(last.target ?? -1);
          }),
        )
        .slice(0, 4);
      expect(callers.length).toBeGreaterThan(0);
      const shard = new ShardLift("hello", 0, callers, touchedByCalls(functions), calls);
      try {
        text = shard.wholeModule().emitText();
      } finally {
        shard.dispose();
      }
    } finally {
      decoder.dispose();
    }
    const name = (address: number): string => `$f_${address.toString(16)}`;
    // The slot is read in the caller, and the candidates are called directly.
    const inPlace = [...calls].filter(
      ([, call]) =>
        text.includes(`(i32.const ${call.slot})`) &&
        call.candidates.every((c) => text.includes(`(call ${name(c)}\n`)),
    );
    expect(inPlace.length).toBeGreaterThan(0);
    // The stub stays the fallback for any other value.
    for (const [stub] of inPlace) expect(text).toContain(`(call ${name(stub)}\n`);
  });
});
