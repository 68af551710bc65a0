// Inlined calls (src/lift/inline-calls.ts): a call to a small function runs
// a copy of its hot region in the caller. The copy must behave as the call
// would: a cold path (here f's call to g) continues in f's own code, called
// through the dispatcher and returning after the original call, and a `ret`
// to anywhere but the call's return address (h moves its own) goes there.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { liftElf } from "../../src/lift/lift-elf.js";
import { planLift } from "../../src/lift/lift-shard-discover.js";
import { runLiftedElf, runNativeElf } from "./semantics-harness.js";
import { resultRegisters, snippetElf, SNIPPET_ENTRY } from "./snippet-elf.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-inline-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// main sums f(3) + f(2) + f(1) into rdx, where f(n) = 2n but f(1) calls
// g (100); then calls h, which adds 5 to its return address and so skips
// the call to k (eax = 7 after it), and copies eax to ecx.
const SNIPPET = [
  ...[0xbb, 0x03, 0x00, 0x00, 0x00], // 00 mov ebx, 3
  ...[0x31, 0xd2], // 05 xor edx, edx
  ...[0x31, 0xc9], // 07 xor ecx, ecx
  ...[0x89, 0xdf], // 09 mov edi, ebx
  ...[0xe8, 0x14, 0x00, 0x00, 0x00], // 0b call f (0x24)
  ...[0x01, 0xc2], // 10 add edx, eax
  ...[0xff, 0xcb], // 12 dec ebx
  ...[0x75, 0xf3], // 14 jnz 0x09
  ...[0xe8, 0x1e, 0x00, 0x00, 0x00], // 16 call h (0x39)
  ...[0xe8, 0x1f, 0x00, 0x00, 0x00], // 1b call k (0x3f), skipped
  ...[0x89, 0xc1], // 20 mov ecx, eax
  ...[0xeb, 0x21], // 22 jmp 0x45 (the epilogue)
  ...[0x83, 0xff, 0x01], // 24 f: cmp edi, 1
  ...[0x74, 0x04], // 27 je 0x2d
  ...[0x8d, 0x04, 0x3f], // 29 lea eax, [rdi+rdi]
  0xc3, // 2c ret
  ...[0xe8, 0x01, 0x00, 0x00, 0x00], // 2d call g (0x33)
  0xc3, // 32 ret
  ...[0xb8, 0x64, 0x00, 0x00, 0x00], // 33 g: mov eax, 100
  0xc3, // 38 ret
  ...[0x48, 0x83, 0x04, 0x24, 0x05], // 39 h: add qword [rsp], 5
  0xc3, // 3e ret
  ...[0xb8, 0x07, 0x00, 0x00, 0x00], // 3f k: mov eax, 7
  0xc3, // 44 ret
];
const at = (offset: number): number => SNIPPET_ENTRY + offset;

describe("inlined calls", () => {
  it("copy a function's blocks up to its cold ones, which stay entries of its own code", () => {
    const plan = planLift("inline", snippetElf(SNIPPET));
    try {
      const f = plan.inlinable.get(at(0x24));
      expect(f?.shape).toEqual({ region: [at(0x24), at(0x29)], sideExits: [at(0x2d)] });
      expect(plan.inlinable.get(at(0x39))?.shape.region).toEqual([at(0x39)]);
      // main's hot region does not return (its loop calls f).
      expect(plan.inlinable.has(SNIPPET_ENTRY)).toBe(false);
    } finally {
      plan.dispose();
    }
  });

  it("run as the calls do: a cold path through the callee's code, a moved return address", async () => {
    const elf = snippetElf(SNIPPET);
    const native = runNativeElf(elf, dir, "inline");
    expect(native.status).toBe(0);
    expect(resultRegisters(native.stdout)).toMatchObject({ rcx: 100n, rdx: 110n });
    const lifted = liftElf("inline", elf, { text: true });
    const main = lifted.text?.slice(lifted.text.indexOf(`(func $f_${SNIPPET_ENTRY.toString(16)} `));
    const mainText = main?.slice(0, main.indexOf("\n (func ", 1)) ?? "";
    expect(mainText).not.toBe("");
    // The calls to f and h are copies, not calls.
    expect(mainText).not.toContain(`call $f_${at(0x24).toString(16)}`);
    expect(mainText).not.toContain(`call $f_${at(0x39).toString(16)}`);
    // The copy of f leaves for its cold block 0x2d by a call (through the
    // dispatcher) that returns after the original call at 0x0b, not by a jump
    // that would unwind main to the dispatcher loop.
    const exitCall = `\\(call \\$dispatch\\s+\\(i64\\.const ${at(0x2d)}\\)\\s+\\(i64\\.const ${at(0x10)}\\)`;
    expect(mainText).toMatch(new RegExp(exitCall));
    expect(mainText).not.toMatch(
      new RegExp(`return_call \\$dispatch\\s+\\(i64\\.const ${at(0x2d)}\\)`),
    );
    const run = await runLiftedElf(elf, dir);
    expect(run.status).toBe(0);
    expect(resultRegisters(run.stdout)).toEqual(resultRegisters(native.stdout));
  });
});
