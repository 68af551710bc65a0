// Function and block discovery on the fixtures: entry point and symbols,
// call targets, stripped binaries, and the jump tables of the `jump-table`
// fixture (gcc's `movslq (base,idx,4); add base; jmp reg` form). Hand-
// assembled snippets (snippet-elf.ts) cover the shapes glibc's vfprintf,
// strcmp and unwinder use; each table is followed by one more entry that
// points into code, so a wrong bound shows as an extra target.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseElf64 } from "../../src/elf/index.js";
import { CodeDecoder } from "../../src/lift/decode.js";
import { discover, type Discovery } from "../../src/lift/discover.js";
import { createGuestImage, type GuestImage } from "../../src/lift/guest-image.js";
import { packageRoot } from "../../src/package-root.js";
import { snippetElf, SNIPPET_ENTRY } from "./snippet-elf.js";

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

/** The targets of the one jump table discovery recovers from the snippet's entry function. */
function snippetJumpTable(code: readonly number[]): readonly number[] | undefined {
  const image = createGuestImage("snippet", parseElf64(snippetElf(code)));
  const decoder = new CodeDecoder(image.codeRanges);
  try {
    const fn = discover(image, decoder).functions.get(SNIPPET_ENTRY);
    const tables = [...(fn?.blocks.values() ?? [])].filter((b) => b.jumpTable !== undefined);
    expect(tables).toHaveLength(1);
    return tables[0]?.jumpTable;
  } finally {
    decoder.dispose();
  }
}

const at = (offset: number): number => SNIPPET_ENTRY + offset;

/** `for (edx = 1;;) switch (edx) {...}` with a 4-case relative table; `ja` jumps by `defaultOffset`. */
function switchInLoop(defaultOffset: number): number[] {
  return [
    ...[0x48, 0x8d, 0x35, 0x35, 0x00, 0x00, 0x00], // 00 lea rsi, [rip+table]  (0x3c)
    ...[0xba, 0x01, 0x00, 0x00, 0x00], // 07 mov edx, 1
    ...[0x89, 0xf7], // 0c mov edi, esi: a base no lea of rdi shows, kept across the loop
    ...[0x83, 0xfa, 0x03], // 0e loop: cmp edx, 3
    ...[0x77, defaultOffset], // 11 ja default (0x33) or done (0x50)
    ...[0x48, 0x63, 0x04, 0x97], // 13 movsxd rax, [rdi+rdx*4]
    ...[0x48, 0x01, 0xf8], // 17 add rax, rdi
    ...[0xff, 0xe0], // 1a jmp rax
    ...[0xba, 0x02, 0x00, 0x00, 0x00, 0xeb, 0xeb], // 1c mov edx, 2; jmp loop
    ...[0xba, 0x03, 0x00, 0x00, 0x00, 0xeb, 0xe4], // 23 mov edx, 3; jmp loop
    ...[0xba, 0x00, 0x00, 0x00, 0x00, 0xeb, 0xdd], // 2a mov edx, 0; jmp loop
    ...[0xeb, 0x1d], // 31 jmp done
    ...[0xba, 0x00, 0x00, 0x00, 0x00, 0xeb, 0xd4], // 33 default: mov edx, 0; jmp loop
    ...[0xeb, 0x14], // 3a not a case: jmp done
    ...[0xe0, 0xff, 0xff, 0xff, 0xe7, 0xff, 0xff, 0xff], // 3c table: 0x1c 0x23 0x2a 0x31,
    ...[0xee, 0xff, 0xff, 0xff, 0xf5, 0xff, 0xff, 0xff], //    then 0x3a
    ...[0xfe, 0xff, 0xff, 0xff],
  ]; // 50 done
}

describe("discover: jump-table shapes", () => {
  it("bounds a table indexed by a byte from a second table by that table's largest byte", () => {
    // glibc vfprintf: the `cmp` bounds the character, not the loaded byte.
    const targets = snippetJumpTable([
      ...[0x40, 0x0f, 0xb6, 0xc7], // 00 movzx eax, dil
      ...[0x83, 0xe8, 0x20], // 04 sub eax, 0x20
      ...[0x83, 0xf8, 0x03], // 07 cmp eax, 3
      ...[0x77, 0x2a], // 0a ja 0x36
      ...[0x48, 0x8d, 0x35, 0x31, 0x00, 0x00, 0x00], // 0c lea rsi, [rip+bytes]   (0x44)
      ...[0x0f, 0xb6, 0x14, 0x06], // 13 movzx edx, byte [rsi+rax]
      ...[0x48, 0x8d, 0x05, 0x2a, 0x00, 0x00, 0x00], // 17 lea rax, [rip+jumps]  (0x48)
      ...[0xff, 0x24, 0xd0], // 1e jmp qword [rax+rdx*8]
      ...[0xb8, 0x0a, 0x00, 0x00, 0x00, 0xeb, 0x40], // 21 mov eax, 10; jmp done
      ...[0xb8, 0x0b, 0x00, 0x00, 0x00, 0xeb, 0x39], // 28
      ...[0xb8, 0x0c, 0x00, 0x00, 0x00, 0xeb, 0x32], // 2f
      ...[0xb8, 0x0d, 0x00, 0x00, 0x00, 0xeb, 0x2b], // 36 default
      ...[0xb8, 0x0e, 0x00, 0x00, 0x00, 0xeb, 0x24], // 3d not a case
      ...[0x00, 0x02, 0x01, 0x02], // 44 bytes: 0 2 1 2
      ...[0x99, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00], // 48 jumps: 0x21 0x28 0x2f, then 0x3d
      ...[0xa0, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00],
      ...[0xa7, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00],
      ...[0xb5, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00],
    ]);
    expect(targets).toEqual([at(0x21), at(0x28), at(0x2f)]);
  });

  it("follows a relative table through an unrelated instruction between load and add", () => {
    // glibc strcmp-sse2: movslq; pcmpeqb; lea (%r10,%r9); jmp *%r10.
    const targets = snippetJumpTable([
      ...[0x83, 0xff, 0x02], // 00 cmp edi, 2
      ...[0x77, 0x2b], // 03 ja 0x30
      ...[0x4c, 0x8d, 0x15, 0x32, 0x00, 0x00, 0x00], // 05 lea r10, [rip+table]  (0x3e)
      ...[0x4d, 0x63, 0x0c, 0xba], // 0c movsxd r9, [r10+rdi*4]
      ...[0x66, 0x0f, 0xef, 0xc0], // 10 pxor xmm0, xmm0
      ...[0x4f, 0x8d, 0x14, 0x0a], // 14 lea r10, [r10+r9]
      ...[0x41, 0xff, 0xe2], // 18 jmp r10
      ...[0xb8, 0x0a, 0x00, 0x00, 0x00, 0xeb, 0x2c], // 1b
      ...[0xb8, 0x0b, 0x00, 0x00, 0x00, 0xeb, 0x25], // 22
      ...[0xb8, 0x0c, 0x00, 0x00, 0x00, 0xeb, 0x1e], // 29
      ...[0xb8, 0x0d, 0x00, 0x00, 0x00, 0xeb, 0x17], // 30 default
      ...[0xb8, 0x0e, 0x00, 0x00, 0x00, 0xeb, 0x10], // 37 not a case
      ...[0xdd, 0xff, 0xff, 0xff, 0xe4, 0xff, 0xff, 0xff], // 3e table: 0x1b 0x22 0x29, then 0x37
      ...[0xeb, 0xff, 0xff, 0xff, 0xf9, 0xff, 0xff, 0xff],
    ]);
    expect(targets).toEqual([at(0x1b), at(0x22), at(0x29)]);
  });

  it("takes the table base from an earlier block and the bound from a compared memory word", () => {
    // glibc's unwinder: `lea tab,%rbp` in the prologue; `cmpl $n, 8(%rbp)`.
    const targets = snippetJumpTable([
      ...[0x48, 0x8d, 0x2d, 0x37, 0x00, 0x00, 0x00], // 00 lea rbp, [rip+table]  (0x3e)
      ...[0x89, 0x7c, 0x24, 0xf8], // 07 mov [rsp-8], edi
      ...[0xeb, 0x0e], // 0b jmp 0x1b
      ...[0xb8, 0x0a, 0x00, 0x00, 0x00, 0xeb, 0x36], // 0d
      ...[0xb8, 0x0b, 0x00, 0x00, 0x00, 0xeb, 0x2f], // 14
      ...[0x83, 0x7c, 0x24, 0xf8, 0x01], // 1b cmp dword [rsp-8], 1
      ...[0x77, 0x0e], // 20 ja 0x30
      ...[0x8b, 0x44, 0x24, 0xf8], // 22 mov eax, [rsp-8]
      ...[0x48, 0x63, 0x44, 0x85, 0x00], // 26 movsxd rax, [rbp+rax*4]
      ...[0x48, 0x01, 0xe8], // 2b add rax, rbp
      ...[0xff, 0xe0], // 2e jmp rax
      ...[0xb8, 0x0d, 0x00, 0x00, 0x00, 0xeb, 0x13], // 30 default
      ...[0xb8, 0x0e, 0x00, 0x00, 0x00, 0xeb, 0x0c], // 37 not a case
      ...[0xcf, 0xff, 0xff, 0xff, 0xd6, 0xff, 0xff, 0xff], // 3e table: 0x0d 0x14, then 0x37
      ...[0xf9, 0xff, 0xff, 0xff],
    ]);
    expect(targets).toEqual([at(0x0d), at(0x14)]);
  });

  it("bounds a switch in a loop by its cmp, not by the index's value before the loop", () => {
    // cpu-bench's interpreter: `mov $1,%edx` ahead of the loop header starts
    // the index the loop body then reloads; the default case jumps back to
    // the header, so the path through it must not take edx = 1.
    const targets = snippetJumpTable(switchInLoop(0x20)); // ja 0x33: default loops
    expect(targets).toEqual([at(0x1c), at(0x23), at(0x2a), at(0x31)]);
  });

  it("bounds a switch in a loop whose only back edges are its own cases", () => {
    // The back edges are behind the table, so they are unknown when it is read.
    const targets = snippetJumpTable(switchInLoop(0x3d)); // ja 0x50: default leaves
    expect(targets).toEqual([at(0x1c), at(0x23), at(0x2a), at(0x31)]);
  });
});

describe("discover: function boundaries", () => {
  it("stops a function where it falls into another function's entry", () => {
    // A call to a noreturn function followed by padding runs into the next
    // function; that code belongs to the callee, not to a copy in the caller.
    const image = createGuestImage(
      "snippet",
      parseElf64(
        snippetElf([
          ...[0xe8, 0x03, 0x00, 0x00, 0x00], // 00 call 0x08
          ...[0x90, 0x90, 0x90], // 05 nop padding
          ...[0x31, 0xc0], // 08 callee: xor eax, eax
          ...[0xc3], // 0a ret
        ]),
      ),
    );
    const decoder = new CodeDecoder(image.codeRanges);
    try {
      const functions = discover(image, decoder).functions;
      expect([...functions.keys()]).toEqual([at(0), at(8)]);
      const caller = [...(functions.get(at(0))?.blocks.values() ?? [])];
      const ips = caller.flatMap((b) => b.instructions.map((i) => i.ip));
      expect(ips).toEqual([at(0), at(5), at(6), at(7)]);
      expect(caller.find((b) => b.start === at(5))?.end).toBe(at(8));
    } finally {
      decoder.dispose();
    }
  });
});

describe("discover: pointers in data", () => {
  it("takes a pointer to a tail-jump target as a function, not one into a block", () => {
    // busybox: an applet main sits in the applet table and is tail-called.
    const image = createGuestImage(
      "snippet",
      parseElf64(
        snippetElf([
          ...[0xeb, 0x03], // 00 jmp 0x05
          ...[0x90, 0x90, 0x90], // 02
          ...[0x31, 0xc0], // 05 xor eax, eax
          ...[0xc3], // 07 ret
        ]),
      ),
    );
    const decoder = new CodeDecoder(image.codeRanges);
    try {
      const functions = discover(image, decoder, [], [at(5), at(7)]).functions;
      expect([...functions.keys()]).toEqual([at(0), at(5)]);
    } finally {
      decoder.dispose();
    }
  });
});

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
