// Instruction semantics checked against native execution and the values the
// Intel SDM defines: each snippet runs natively and lifted, and RAX RBX RCX
// RDX afterwards must be equal — and equal to the SDM's answer.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { liftElf } from "../../src/lift/lift-elf.js";
import { runLifted } from "../../src/vkernel/run.js";
import { resultRegisters, snippetElf } from "./snippet-elf.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-snippet-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function lifted(elf: Uint8Array): Promise<Uint8Array> {
  const { wasm } = liftElf("snippet", elf, { optimize: 1 });
  const chunks: Uint8Array[] = [];
  const status = await runLifted({
    module: await WebAssembly.compile(wasm),
    elfBytes: elf,
    root: dir,
    argv: ["snippet"],
    env: [],
    stdout: (b) => chunks.push(b),
  });
  expect(status).toBe(0);
  return Buffer.concat(chunks);
}

function native(elf: Uint8Array, name: string): Uint8Array {
  const path = join(dir, name);
  writeFileSync(path, elf);
  chmodSync(path, 0o755);
  const r = spawnSync(path, []);
  expect(r.status).toBe(0);
  return r.stdout;
}

const movabs = (reg: number, value: bigint): number[] => {
  const bytes = [0x48 | (reg >= 8 ? 1 : 0), 0xb8 + (reg & 7)];
  for (let i = 0n; i < 8n; i++) bytes.push(Number((BigInt.asUintN(64, value) >> (8n * i)) & 0xffn));
  return bytes;
};
const RAX = 0,
  RCX = 1,
  RDX = 2,
  RBX = 3;

interface Snippet {
  readonly name: string;
  readonly code: number[];
  readonly expected: Partial<Record<"rax" | "rbx" | "rcx" | "rdx", bigint>>;
}

const SNIPPETS: readonly Snippet[] = [
  {
    // ADD: 0x7fff…f + 1 overflows signed (OF=1), SF=1, no carry (SDM Vol. 2A "ADD").
    name: "add sets OF and SF, not CF",
    code: [
      ...movabs(RAX, 0x7fffffffffffffffn),
      0x48,
      0x83,
      0xc0,
      0x01,
      0x0f,
      0x90,
      0xc1,
      0x0f,
      0x92,
      0xc2,
      0x0f,
      0x98,
      0xc3,
      0x48,
      0x0f,
      0xb6,
      0xc9,
      0x48,
      0x0f,
      0xb6,
      0xd2,
      0x48,
      0x0f,
      0xb6,
      0xdb,
    ],
    // seto cl; setb dl; sets bl; movzx rcx,cl; movzx rdx,dl; movzx rbx,bl
    expected: { rax: 0x8000000000000000n, rcx: 1n, rdx: 0n, rbx: 1n },
  },
  {
    // CMP 1, 2 then JL/JB-style conditions: less signed and unsigned → setl cl, setb dl; setg bl.
    name: "cmp feeds setl/setb/setg",
    code: [
      ...movabs(RAX, 1n),
      ...movabs(RBX, 2n),
      0x48,
      0x39,
      0xd8,
      0x0f,
      0x9c,
      0xc1,
      0x0f,
      0x92,
      0xc2,
      0x0f,
      0x9f,
      0xc3,
      0x48,
      0x0f,
      0xb6,
      0xc9,
      0x48,
      0x0f,
      0xb6,
      0xd2,
      0x48,
      0x0f,
      0xb6,
      0xdb,
    ],
    expected: { rax: 1n, rcx: 1n, rdx: 1n, rbx: 0n },
  },
  {
    // MUL: RDX:RAX = 2^63 × 4 → RDX = 2, RAX = 0 (SDM Vol. 2B "MUL").
    name: "64-bit mul high half",
    code: [...movabs(RAX, 0x8000000000000000n), ...movabs(RBX, 4n), 0x48, 0xf7, 0xe3, 0x31, 0xc9],
    expected: { rax: 0n, rdx: 2n, rbx: 4n, rcx: 0n },
  },
  {
    // IDIV: -7 / 2 = -3 remainder -1 (truncation toward zero, SDM Vol. 2A "IDIV").
    name: "idiv rounds toward zero",
    code: [...movabs(RAX, -7n), 0x48, 0x99, ...movabs(RBX, 2n), 0x48, 0xf7, 0xfb, 0x31, 0xc9],
    expected: { rax: BigInt.asUintN(64, -3n), rdx: BigInt.asUintN(64, -1n) },
  },
  {
    // 32-bit writes zero-extend; 8-bit writes merge; AH is bits 8–15.
    name: "partial register writes",
    code: [
      ...movabs(RAX, -1n),
      0x89,
      0xc0,
      ...movabs(RBX, -1n),
      0xb3,
      0x12,
      ...movabs(RCX, 0n),
      0xb5,
      0x34,
      ...movabs(RDX, 0x1122334455667788n),
      0x88,
      0xf2,
    ],
    // mov eax,eax; mov bl,0x12; mov ch,0x34; mov dl,dh
    expected: {
      rax: 0xffffffffn,
      rbx: 0xffffffffffffff12n,
      rcx: 0x3400n,
      rdx: 0x1122334455667777n,
    },
  },
  {
    // SHL by CL: the last bit shifted out goes to CF; SAR keeps the sign.
    name: "shl carry and sar sign",
    code: [
      ...movabs(RAX, 0x8000000000000001n),
      0xb1,
      0x01,
      0x48,
      0xd3,
      0xe0,
      0x0f,
      0x92,
      0xc2,
      0x48,
      0x0f,
      0xb6,
      0xd2,
      ...movabs(RBX, -16n),
      0x48,
      0xc1,
      0xfb,
      0x02,
      0x31,
      0xc9,
    ],
    expected: { rax: 2n, rdx: 1n, rbx: BigInt.asUintN(64, -4n), rcx: 0n },
  },
  {
    // ADC/SBB chain: 128-bit add of (2^64-1) + 1 → carry into the high word.
    name: "adc propagates carry",
    code: [
      ...movabs(RAX, -1n),
      ...movabs(RDX, 0n),
      0x48,
      0x83,
      0xc0,
      0x01,
      0x48,
      0x83,
      0xd2,
      0x00,
      0x31,
      0xdb,
      0x31,
      0xc9,
    ],
    expected: { rax: 0n, rdx: 1n },
  },
  {
    // BSF/BSR/POPCNT/BSWAP (SDM Vol. 2A).
    name: "bit scans, popcnt and bswap",
    code: [
      ...movabs(RAX, 0x0000100000000100n),
      0x48,
      0x0f,
      0xbc,
      0xd8,
      0x48,
      0x0f,
      0xbd,
      0xc8,
      0xf3,
      0x48,
      0x0f,
      0xb8,
      0xd0,
      0x48,
      0x0f,
      0xc8,
    ],
    // bsf rbx,rax; bsr rcx,rax; popcnt rdx,rax; bswap rax
    expected: { rbx: 8n, rcx: 44n, rdx: 2n, rax: 0x0001000000100000n },
  },
  {
    // CPUID leaf 0: "GenuineIntel" in EBX EDX ECX; one CPU model everywhere (lifted only: native differs).
    name: "cpuid leaf 0 vendor",
    code: [0x31, 0xc0, 0x31, 0xc9, 0x0f, 0xa2, 0x31, 0xc0],
    expected: {},
  },
];

describe("instruction semantics: native and lifted agree", () => {
  for (const s of SNIPPETS) {
    it(s.name, async () => {
      const elf = snippetElf(s.code);
      const ours = resultRegisters(await lifted(elf));
      for (const [reg, value] of Object.entries(s.expected))
        expect(ours[reg as keyof typeof ours]).toBe(value);
      if (s.name.startsWith("cpuid")) {
        expect(ours.rbx).toBe(0x756e6547n);
        expect(ours.rdx).toBe(0x49656e69n);
        expect(ours.rcx).toBe(0x6c65746en);
        return;
      }
      expect(ours).toEqual(resultRegisters(native(elf, s.name.replace(/\W+/g, "-"))));
    });
  }
});
