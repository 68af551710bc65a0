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
import { discover } from "../../src/lift/discover.js";
import { createGuestImage } from "../../src/lift/guest-image.js";
import { resolveIfuncStubs } from "../../src/lift/ifunc-stubs.js";
import { packageRoot } from "../../src/package-root.js";

describe("resolveIfuncStubs", () => {
  it("gives glibc's IFUNC stubs their resolvers' implementations as tail-call targets", () => {
    const path = join(packageRoot(), "fixtures", "bin", "glibc", "hello");
    const image = createGuestImage("hello", parseElf64(readFileSync(path)));
    const decoder = new CodeDecoder(image.codeRanges);
    try {
      const before = discover(image, decoder);
      const after = resolveIfuncStubs(image, before);
      const slots = new Set(
        image.elf
          .relocations()
          .filter((r) => r.type === R_X86_64_IRELATIVE)
          .map((r) => Number(r.offset)),
      );
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
