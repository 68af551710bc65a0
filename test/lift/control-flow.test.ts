// Returns (src/lift/emit/control-flow.ts): a caller keeps RSP in its local
// across a direct call, trusting that a normal return leaves it where it was
// before the push. `ret` checks that, with the return address, so a return
// that leaves RSP elsewhere — a stack switch that returns to the same
// address, `ret imm16` — must go on through the dispatcher with the RSP the
// guest really has, as natively.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runLiftedElf, runNativeElf } from "./semantics-harness.js";
import { resultRegisters, snippetElf } from "./snippet-elf.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-control-flow-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// main records RSP in rbx, calls f and g, and leaves in rax and rdx how far
// each return moved RSP from where it was before the call. f and g touch an
// XMM register, so they are called, not inlined (inline-calls.ts).
const SNIPPET = [
  ...[0x48, 0x89, 0xe3], // 00 mov rbx, rsp
  ...[0xe8, 0x1d, 0x00, 0x00, 0x00], // 03 call f (0x25)
  ...[0x48, 0x89, 0xe0], // 08 mov rax, rsp
  ...[0x48, 0x29, 0xd8], // 0b sub rax, rbx
  ...[0x48, 0x89, 0xdc], // 0e mov rsp, rbx
  ...[0xe8, 0x26, 0x00, 0x00, 0x00], // 11 call g (0x3c)
  ...[0x48, 0x89, 0xe2], // 16 mov rdx, rsp
  ...[0x48, 0x29, 0xda], // 19 sub rdx, rbx
  ...[0x48, 0x89, 0xdc], // 1c mov rsp, rbx
  ...[0x31, 0xdb], // 1f xor ebx, ebx
  ...[0x31, 0xc9], // 21 xor ecx, ecx
  ...[0xeb, 0x1e], // 23 jmp 0x43 (the epilogue)
  // f: copies its return address 4 KiB down the stack and returns from there.
  ...[0x66, 0x0f, 0xef, 0xc9], // 25 pxor xmm1, xmm1
  ...[0x48, 0x8b, 0x0c, 0x24], // 29 mov rcx, [rsp]
  ...[0x48, 0x8d, 0xb4, 0x24, 0x00, 0xf0, 0xff, 0xff], // 2d lea rsi, [rsp-0x1000]
  ...[0x48, 0x89, 0x0e], // 35 mov [rsi], rcx
  ...[0x48, 0x89, 0xf4], // 38 mov rsp, rsi
  ...[0xc3], // 3b ret
  // g: pops 8 bytes more than it was pushed.
  ...[0x66, 0x0f, 0xef, 0xc9], // 3c pxor xmm1, xmm1
  ...[0xc2, 0x08, 0x00], // 40 ret 8
];

// The same with f and g inlined (inline-calls.ts): their copies return the same way.
const INLINED = [
  ...[0x48, 0x89, 0xe3], // 00 mov rbx, rsp
  ...[0xe8, 0x1d, 0x00, 0x00, 0x00], // 03 call f (0x25)
  ...[0x48, 0x89, 0xe0], // 08 mov rax, rsp
  ...[0x48, 0x29, 0xd8], // 0b sub rax, rbx
  ...[0x48, 0x89, 0xdc], // 0e mov rsp, rbx
  ...[0xe8, 0x22, 0x00, 0x00, 0x00], // 11 call g (0x38)
  ...[0x48, 0x89, 0xe2], // 16 mov rdx, rsp
  ...[0x48, 0x29, 0xda], // 19 sub rdx, rbx
  ...[0x48, 0x89, 0xdc], // 1c mov rsp, rbx
  ...[0x31, 0xdb], // 1f xor ebx, ebx
  ...[0x31, 0xc9], // 21 xor ecx, ecx
  ...[0xeb, 0x16], // 23 jmp 0x3b (the epilogue)
  // f: copies its return address 4 KiB down the stack and returns from there.
  ...[0x48, 0x8b, 0x0c, 0x24], // 25 mov rcx, [rsp]
  ...[0x48, 0x8d, 0xb4, 0x24, 0x00, 0xf0, 0xff, 0xff], // 29 lea rsi, [rsp-0x1000]
  ...[0x48, 0x89, 0x0e], // 31 mov [rsi], rcx
  ...[0x48, 0x89, 0xf4], // 34 mov rsp, rsi
  ...[0xc3], // 37 ret
  // g: pops 8 bytes more than it was pushed.
  ...[0xc2, 0x08, 0x00], // 38 ret 8
];

describe("a return that does not leave RSP where the call had it", () => {
  it.each([
    ["called", SNIPPET],
    ["inlined", INLINED],
  ])(
    "goes on with the RSP the guest has (a stack switch, ret imm16), as natively: %s",
    async (name, snippet) => {
      const elf = snippetElf(snippet);
      const native = runNativeElf(elf, dir, `stack-switch-${name}`);
      expect(native.status).toBe(0);
      expect(resultRegisters(native.stdout)).toEqual({
        rax: -0x1000n & 0xffffffffffffffffn,
        rbx: 0n,
        rcx: 0n,
        rdx: 8n,
      });
      const lifted = await runLiftedElf(elf, dir);
      expect(lifted.status).toBe(0);
      expect(resultRegisters(lifted.stdout)).toEqual(resultRegisters(native.stdout));
    },
  );
});
