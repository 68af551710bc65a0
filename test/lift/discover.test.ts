// Function and block discovery on the fixtures: entry point and symbols,
// call targets, stripped binaries, and the jump tables of the `jump-table`
// fixture (gcc's `movslq (base,idx,4); add base; jmp reg` form).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseElf64 } from "../../src/elf/index.js";
import { CodeDecoder } from "../../src/lift/decode.js";
import { discover, type Discovery } from "../../src/lift/discover.js";
import { createGuestImage, type GuestImage } from "../../src/lift/guest-image.js";
import { packageRoot } from "../../src/package-root.js";

function discoverFixture(path: string): { image: GuestImage; discovery: Discovery } {
  const image = createGuestImage(
    path,
    parseElf64(readFileSync(join(packageRoot(), "fixtures", "bin", path))),
  );
  const decoder = new CodeDecoder(image.codeRanges);
  try {
    return { image, discovery: discover(image, decoder) };
  } finally {
    decoder.dispose();
  }
}

describe("discover", () => {
  it("finds the one function of hello-nolibc at the PIE base", () => {
    const { image, discovery } = discoverFixture("static-pie/hello-nolibc");
    expect(image.base).toBe(0x0100_0000);
    expect([...discovery.functions.keys()]).toEqual([image.entry]);
  });

  it("recovers the switch of the jump-table fixture (musl)", () => {
    const { discovery, image } = discoverFixture("musl/jump-table");
    const main = [...image.functionSymbols].find(([, name]) => name === "main")?.[0] as number;
    const fn = discovery.functions.get(main);
    const tables = [...(fn?.blocks.values() ?? [])].filter((b) => b.jumpTable !== undefined);
    expect(tables.length).toBeGreaterThanOrEqual(1);
    const targets = tables[0]?.jumpTable ?? [];
    // 20 cases + default share a 20-entry table; each target is a block of main.
    expect(targets.length).toBeGreaterThanOrEqual(15);
    for (const t of targets) expect(fn?.blocks.has(t)).toBe(true);
  });

  it("recovers the switch of the jump-table fixture (glibc)", () => {
    const { discovery, image } = discoverFixture("glibc/jump-table");
    const interpret = [...image.functionSymbols].find(([, name]) => name === "main")?.[0] as number;
    const fn = discovery.functions.get(interpret);
    const withTables = [...(fn?.blocks.values() ?? [])].filter((b) => b.jumpTable !== undefined);
    expect(withTables.length).toBeGreaterThanOrEqual(1);
    const unresolvedInMain = discovery.unresolvedIndirectJumps.filter((a) => fn?.blocks.has(a));
    expect(unresolvedInMain).toEqual([]);
  });

  it("works on a stripped binary from the entry point and call targets", () => {
    const stripped = discoverFixture("stripped/hello");
    const full = discoverFixture("glibc/hello");
    expect(stripped.image.functionSymbols.size).toBe(0);
    expect(stripped.discovery.functions.size).toBeGreaterThan(100);
    expect(stripped.discovery.functions.size).toBeLessThanOrEqual(full.discovery.functions.size);
  });
});
