// How a lifted process ends when it leaves lifted code: an indirect jump to
// an address that was not lifted stops it as SIGSEGV would (status 139), and
// an instruction without semantics traps with the binary, address and
// mnemonic (status 132, SIGILL) — never a silent wrong result.
import { describe, expect, it } from "vitest";
import { liftElf } from "../../src/lift/lift-elf.js";
import { runLifted } from "../../src/vkernel/run.js";
import { snippetElf } from "../lift/snippet-elf.js";
import { tmpdir } from "node:os";

async function runSnippet(code: number[]): Promise<{ status: number; stderr: string }> {
  const elf = snippetElf(code);
  const { wasm } = liftElf("snippet", elf, { optimize: 0 });
  const chunks: Uint8Array[] = [];
  const status = await runLifted({
    module: await WebAssembly.compile(wasm),
    elfBytes: elf,
    root: tmpdir(),
    argv: ["snippet"],
    env: [],
    stdout: () => undefined,
    stderr: (b) => chunks.push(b),
  });
  return { status, stderr: Buffer.concat(chunks).toString() };
}

describe("runLifted", () => {
  it("stops with 139 at a jump to code that was not lifted", async () => {
    // mov eax, 0x12345; jmp rax
    const r = await runSnippet([0xb8, 0x45, 0x23, 0x01, 0x00, 0xff, 0xe0]);
    expect(r.status).toBe(139);
    expect(r.stderr).toContain("snippet: jump to 0x12345, which was not lifted");
  });

  it("traps with 132 naming the binary, address and mnemonic", async () => {
    // ud2 at the entry point 0x400078
    const r = await runSnippet([0x0f, 0x0b]);
    expect(r.status).toBe(132);
    expect(r.stderr).toContain("snippet: 0x400078: ud2 executed");
  });

  it("reports an instruction without semantics at lift time and traps when reached", async () => {
    // emms (MMX: outside the lifter's semantics)
    const elf = snippetElf([0x0f, 0x77]);
    const { report } = liftElf("snippet", elf, { optimize: 0 });
    expect(report.unsupported.get("emms")).toBe(1);
    const r = await runSnippet([0x0f, 0x77]);
    expect(r.status).toBe(132);
    expect(r.stderr).toContain("0x400078: unsupported instruction emms");
  });
});
