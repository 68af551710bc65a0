// Call summaries (src/lift/call-summaries.ts): which registers a direct call
// can touch, joined over the callee's own direct calls; anything that leaves
// the call graph (a syscall, an indirect call) makes it every register. A
// caller keeps the other registers in its locals across the call, so the
// lifted snippet must still print the values they had before it.
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { parseElf64 } from "../../src/elf/index.js";
import { TOUCH_ALL, touchedByCalls, unpackTouched } from "../../src/lift/call-summaries.js";
import { CodeDecoder } from "../../src/lift/decode.js";
import { discover } from "../../src/lift/discover.js";
import { createGuestImage } from "../../src/lift/guest-image.js";
import { liftElf } from "../../src/lift/lift-elf.js";
import { runLifted } from "../../src/vkernel/run.js";
import { resultRegisters, snippetElf, SNIPPET_ENTRY } from "./snippet-elf.js";

const at = (offset: number): number => SNIPPET_ENTRY + offset;
const RAX = 1 << 0;
const RCX = 1 << 1;
const RDX = 1 << 2;
const RSP = 1 << 4;
const RDI = 1 << 7;

// main sets rbx and rcx, calls leaf and mid, then the snippet's epilogue
// prints RAX RBX RCX RDX and exits (two syscalls: main touches everything).
const SNIPPET = [
  ...[0xbb, 0x05, 0x00, 0x00, 0x00], // 00 mov ebx, 5
  ...[0xb9, 0x07, 0x00, 0x00, 0x00], // 05 mov ecx, 7
  ...[0xbf, 0x03, 0x00, 0x00, 0x00], // 0a mov edi, 3
  ...[0xe8, 0x07, 0x00, 0x00, 0x00], // 0f call leaf (0x1b)
  ...[0xe8, 0x07, 0x00, 0x00, 0x00], // 14 call mid (0x20)
  ...[0xeb, 0x0e], // 19 jmp 0x29 (the epilogue)
  ...[0x48, 0x8d, 0x04, 0x3f], // 1b leaf: lea rax, [rdi+rdi]
  ...[0xc3], // 1f ret
  ...[0xe8, 0xf6, 0xff, 0xff, 0xff], // 20 mid: call leaf (0x1b)
  ...[0x48, 0x01, 0xc2], // 25 add rdx, rax
  ...[0xc3], // 28 ret
];

describe("touchedByCalls", () => {
  it("joins a function's registers with its callees' and gives up at a syscall", () => {
    const image = createGuestImage("snippet", parseElf64(snippetElf(SNIPPET)));
    const decoder = new CodeDecoder(image.codeRanges);
    try {
      const touched = touchedByCalls(discover(image, decoder).functions.values());
      expect(unpackTouched(touched.get(at(0x1b)) as number)).toEqual({
        gpr: RAX | RDI | RSP,
        xmm: 0,
      });
      expect(unpackTouched(touched.get(at(0x20)) as number)).toEqual({
        gpr: RAX | RDX | RDI | RSP,
        xmm: 0,
      });
      expect(touched.get(at(0))).toBe(TOUCH_ALL);
      expect(touched.get(at(0x1b))).not.toBe(TOUCH_ALL);
      // rcx is main's, not a callee's: a call to mid leaves it out.
      expect((touched.get(at(0x20)) as number) & RCX).toBe(0);
    } finally {
      decoder.dispose();
    }
  });

  it("counts an indirect call as touching every register, also in its callers", () => {
    const image = createGuestImage(
      "snippet",
      parseElf64(
        snippetElf([
          ...[0xe8, 0x01, 0x00, 0x00, 0x00], // 00 call 0x06
          ...[0xc3], // 05 ret
          ...[0xff, 0xd0], // 06 call rax
          ...[0xc3], // 08 ret
        ]),
      ),
    );
    const decoder = new CodeDecoder(image.codeRanges);
    try {
      const touched = touchedByCalls(discover(image, decoder).functions.values());
      expect(touched.get(at(6))).toBe(TOUCH_ALL);
    } finally {
      decoder.dispose();
    }
  });
});

describe("a caller's registers across a call that does not touch them", () => {
  it("keeps their values (rbx and rcx survive calls to leaf and mid)", async () => {
    const elf = snippetElf(SNIPPET);
    const out: Uint8Array[] = [];
    const status = await runLifted({
      module: await WebAssembly.compile(liftElf("snippet", elf).wasm),
      elfBytes: elf,
      root: tmpdir(),
      argv: ["snippet"],
      env: [],
      stdout: (b) => out.push(b),
      stderr: () => undefined,
    });
    expect(status).toBe(0);
    // leaf: rax = 2 * rdi = 6; mid: leaf again, then rdx = 0 + rax = 6.
    expect(resultRegisters(Buffer.concat(out))).toEqual({ rax: 6n, rbx: 5n, rcx: 7n, rdx: 6n });
  });
});
