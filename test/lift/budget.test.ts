// The CPU-budget exit (src/lift/emit/budget.ts, loops.ts): the loop analysis
// that places re-entry points, a lifted endless loop returning RESULT_YIELD
// with state.rip at its header, and nested loops with a carry flag live
// across a back edge giving the native result however often they yield, and
// a loop whose callee yields, resumed through a resume variant.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RESULT_YIELD } from "../../src/lift/abi.js";
import { BUDGET_EXPORT } from "../../src/lift/emit/budget.js";
import { backEdges, cyclicComponents, planLoops } from "../../src/lift/emit/loops.js";
import {
  INITIAL_MEMORY_PAGES,
  MAXIMUM_MEMORY_PAGES,
  STATE_RIP,
} from "../../src/lift/guest-layout.js";
import { liftElf } from "../../src/lift/lift-elf.js";
import { runLifted } from "../../src/vkernel/run.js";
import { runNativeElf } from "./semantics-harness.js";
import { resultRegisters, SNIPPET_ENTRY, snippetElf } from "./snippet-elf.js";

const dir = mkdtempSync(join(tmpdir(), "megalift-budget-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// entry 1 → outer 2 → inner 3 ⟲, inner → 4 → outer (back) or → 5 (exit).
const nested = new Map<number, number[]>([
  [1, [2]],
  [2, [3]],
  [3, [3, 4]],
  [4, [2, 5]],
  [5, []],
]);

describe("loop analysis", () => {
  it("finds the back edges of nested loops", () => {
    const edges = backEdges([1], nested);
    expect([...edges].map(([from, to]) => [from, [...to]])).toEqual([
      [3, [3]],
      [4, [2]],
    ]);
  });

  it("breaks every cycle of an irreducible graph", () => {
    // 1 → 2, 1 → 3, 2 ⇄ 3: entered at two blocks, still one back edge.
    const graph = new Map([
      [1, [2, 3]],
      [2, [3]],
      [3, [2]],
    ]);
    expect([...backEdges([1], graph).values()].flatMap((s) => [...s])).toHaveLength(1);
  });

  it("groups blocks on cycles into components", () => {
    const components = cyclicComponents(nested);
    expect([...(components.get(3) ?? [])].sort()).toEqual([2, 3, 4]);
    expect(components.has(1)).toBe(false);
    expect(components.has(5)).toBe(false);
  });

  it("enters outer headers in the function and inner headers in a variant", () => {
    const plan = planLoops(1, nested, [2, 3], 100);
    expect([...plan.variants.keys()]).toEqual([3]);
    expect([...(plan.variants.get(3) ?? [])]).toEqual([3]);
    // Block 4, where the inner loop's variant leaves, lies inside the outer
    // loop: a resume variant holds it, and leaves at the outer header 2 or to 5.
    expect(plan.resumeVariants.map((v) => [v.entries, [...v.region]])).toEqual([[[4], [4]]]);
    expect([...plan.functionEntries].sort()).toEqual([2, 5]);
  });

  it("gives no variant beyond the block limit", () => {
    const plan = planLoops(1, nested, [2, 3], 0);
    expect(plan.variants.size).toBe(0);
    expect([...plan.functionEntries]).toEqual([2]);
  });

  // entry 1 → header 2 → 3 (a call) → continuation 4 → 6 → back to 2, or
  // 2 → 5 (a call) → continuation 6; 6 → 7 leaves the loop. Block 8 is a
  // continuation outside any loop.
  const callLoop = new Map<number, number[]>([
    [1, [2]],
    [2, [3, 5]],
    [3, [4]],
    [4, [6]],
    [5, [6]],
    [6, [2, 7]],
    [7, [8]],
    [8, []],
  ]);

  it("resumes continuations inside a loop in one variant holding the rest of the iteration", () => {
    const plan = planLoops(1, callLoop, [2], 100, [4, 6, 8]);
    expect(plan.resumeVariants).toHaveLength(1);
    const [variant] = plan.resumeVariants;
    expect(variant?.entries).toEqual([4, 6]);
    // Up to the loop's header (an exit), not around it again.
    expect([...(variant?.region ?? [])].sort()).toEqual([4, 6]);
    // Where the variant leaves: the header and the loop's exit; not the continuations.
    expect([...plan.functionEntries].sort()).toEqual([2, 7]);
  });

  // entry 1 → outer header 2 → 3 (a call) → continuation 4 → inner header 5
  // ⇄ 6 → 7 → back to 2, or out to 8.
  const callThenInnerLoop = new Map<number, number[]>([
    [1, [2]],
    [2, [3]],
    [3, [4]],
    [4, [5]],
    [5, [6]],
    [6, [5, 7]],
    [7, [2, 8]],
    [8, []],
  ]);

  it("ends a resume variant at an inner loop's header, which its own variant enters", () => {
    const plan = planLoops(1, callThenInnerLoop, [2, 5], 2, [4]);
    expect([...(plan.variants.get(5) ?? [])].sort()).toEqual([5, 6]);
    // The continuation 4 and block 7, where the inner variant leaves, resume
    // without a copy of the inner loop; the loop variants' blocks do not count
    // against the resume variants' limit.
    expect(plan.resumeVariants.map((v) => [v.entries, [...v.region].sort()])).toEqual([
      [
        [4, 7],
        [4, 7],
      ],
    ]);
    // Leaving it for 5 goes to the inner loop's variant, not into the function.
    expect([...plan.functionEntries].sort()).toEqual([2, 8]);
  });

  it("leaves continuations beyond the block limit to the function itself", () => {
    const plan = planLoops(1, callLoop, [2], 1, [4, 6, 8]);
    expect(plan.resumeVariants).toHaveLength(0);
    expect([...plan.functionEntries].sort()).toEqual([2, 4, 6]);
  });
});

/** Instantiates a lifted snippet with stub kernel imports; returns run and the budget. */
async function instantiate(elf: Uint8Array): Promise<{
  run: () => number;
  budget: { value: number };
  memory: WebAssembly.Memory;
}> {
  const module = await WebAssembly.compile(liftElf("snippet", elf).wasm);
  const memory = new WebAssembly.Memory({
    initial: INITIAL_MEMORY_PAGES,
    maximum: MAXIMUM_MEMORY_PAGES,
  });
  const imports: Record<string, Record<string, unknown>> = { env: { memory }, kernel: {} };
  for (const i of WebAssembly.Module.imports(module)) {
    if (i.kind === "function") (imports[i.module] ??= {})[i.name] = () => 0;
  }
  const instance = await WebAssembly.instantiate(module, imports as WebAssembly.Imports);
  return {
    run: instance.exports.run as () => number,
    budget: instance.exports[BUDGET_EXPORT] as unknown as { value: number },
    memory,
  };
}

/** Runs a snippet ELF natively; returns its stdout (the result registers). */
function runNative(name: string, elf: Uint8Array): Uint8Array {
  const r = runNativeElf(elf, dir, name);
  expect(r.status).toBe(0);
  return r.stdout;
}

/** Lifts and runs a snippet ELF in the vkernel; returns its stdout. */
async function runLiftedSnippet(
  name: string,
  elf: Uint8Array,
  cpuBudget?: number,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const status = await runLifted({
    module: await WebAssembly.compile(liftElf(name, elf).wasm),
    elfBytes: elf,
    root: dir,
    argv: [name],
    env: [],
    stdout: (b) => chunks.push(b),
    cpuBudget,
  });
  expect(status).toBe(0);
  return Buffer.concat(chunks);
}

describe("yield to the dispatcher", () => {
  it("returns RESULT_YIELD from an endless loop with rip at its header", async () => {
    const { run, budget, memory } = await instantiate(snippetElf([0xeb, 0xfe])); // jmp $
    const state = new DataView(memory.buffer);
    state.setBigUint64(STATE_RIP, BigInt(SNIPPET_ENTRY), true);
    for (let round = 0; round < 3; round++) {
      budget.value = 10_000;
      expect(run()).toBe(RESULT_YIELD);
      expect(budget.value).toBeLessThan(0);
      expect(state.getBigUint64(STATE_RIP, true)).toBe(BigInt(SNIPPET_ENTRY));
    }
  });

  // rax = constant, rbx = constant; three times: 700 × `adc rdx, rax` (CF
  // carried by `dec`, which leaves CF alone: SDM Vol. 2A "DEC"), then 300 ×
  // `add rbx, rsi`. The adc loop and the add loop are inner loops (variants).
  const imm64 = (v: bigint): number[] =>
    Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
  const carryLoops = snippetElf([
    ...[0x48, 0xb8, ...imm64(0x9e3779b97f4a7c15n)], // movabs rax, …
    ...[0x48, 0xbb, ...imm64(0xfffffffffffff000n)], // movabs rbx, …
    ...[0x31, 0xd2], // xor edx, edx (CF = 0)
    ...[0xb9, 3, 0, 0, 0], // mov ecx, 3
    ...[0xbf, 0xbc, 0x02, 0, 0], // outer: mov edi, 700
    ...[0x48, 0x11, 0xc2], // carry: adc rdx, rax
    ...[0xff, 0xcf, 0x75, 0xf9], // dec edi; jnz carry
    ...[0xbe, 0x2c, 0x01, 0, 0], // mov esi, 300
    ...[0x48, 0x01, 0xf3], // inner: add rbx, rsi
    ...[0xff, 0xce, 0x75, 0xf9], // dec esi; jnz inner
    ...[0xff, 0xc9, 0x75, 0xe4], // dec ecx; jnz outer
  ]);

  const native = (): Uint8Array => runNative("carry-loops", carryLoops);
  const lifted = (cpuBudget?: number): Promise<Uint8Array> =>
    runLiftedSnippet("carry-loops", carryLoops, cpuBudget);

  it("lifts the inner loops as variants", () => {
    const text = liftElf("carry-loops", carryLoops, { text: true }).text ?? "";
    expect(text.match(/\(func \$f_[0-9a-f]+_loop_[0-9a-f]+ /g)).toHaveLength(2);
  });

  it("gives the native registers when it yields every chunk of back edges", async () => {
    const expected = native();
    expect(resultRegisters(expected).rcx).toBe(0n);
    expect(await lifted()).toEqual(expected);
    expect(await lifted(1)).toEqual(expected);
  });
});

// ecx = 3 rounds; rbx and rdx start at 0.
const THREE_ROUNDS = [
  ...[0xb9, 3, 0, 0, 0], // mov ecx, 3
  ...[0x31, 0xdb], // xor ebx, ebx
  ...[0x31, 0xd2], // xor edx, edx
];
// f: a loop that adds 500…1 to rbx, then returns 7 (after `jmp done`).
const SUM_500_RETURN_7 = [
  ...[0xb8, 0xf4, 0x01, 0, 0], // f: mov eax, 500
  ...[0x48, 0x01, 0xc3], // floop: add rbx, rax
  ...[0xff, 0xc8, 0x75, 0xf9], // dec eax; jnz floop
  ...[0xb8, 7, 0, 0, 0], // mov eax, 7
  0xc3, // ret
];

/** How many functions of `kind` ("resume", "loop") the lifted snippet has. */
function variantCount(name: string, elf: Uint8Array, kind: string): number {
  const text = liftElf(name, elf, { text: true }).text ?? "";
  return text.match(new RegExp(`\\(func \\$f_[0-9a-f]+_${kind}_[0-9a-f]+ `, "g"))?.length ?? 0;
}

/** The snippet ends with `registers`, natively and lifted, however often it yields. */
async function expectRegistersWhileYielding(
  name: string,
  elf: Uint8Array,
  registers: Record<string, bigint>,
): Promise<void> {
  const native = runNative(name, elf);
  expect(resultRegisters(native)).toEqual(registers);
  for (const cpuBudget of [undefined, 1, 7]) {
    expect(await runLiftedSnippet(name, elf, cpuBudget)).toEqual(native);
  }
}

describe("a yield below a call inside a loop", () => {
  // Three times: call f, then add rax to rdx. The call's continuation lies
  // inside the loop, so it is entered through a resume variant (loops.ts)
  // after f yields.
  const callLoop = snippetElf([
    ...THREE_ROUNDS,
    ...[0xe8, 9, 0, 0, 0], // outer: call f
    ...[0x48, 0x01, 0xc2], // add rdx, rax
    ...[0xff, 0xc9, 0x75, 0xf4], // dec ecx; jnz outer
    ...[0xeb, 0x12], // jmp done
    ...SUM_500_RETURN_7,
  ]); // done: the snippet's epilogue

  it("is lifted with a resume variant", () => {
    expect(variantCount("call-loop", callLoop, "resume")).toBe(1);
  });

  it("gives the native registers however often the callee yields", async () => {
    await expectRegistersWhileYielding("call-loop", callLoop, {
      rax: 7n,
      rbx: 375750n,
      rcx: 0n,
      rdx: 21n,
    });
  });
});

describe("a yield below a call in a loop that holds an inner loop", () => {
  // Three times: call f, add rax to rdx, then an inner loop adds 300…1 to
  // rdx (enough back edges to yield in it too). The call's continuation
  // resumes in a variant that leaves at the inner loop's header for that
  // loop's own variant (loops.ts), and the inner variant leaves for the
  // resume variant again.
  const callThenInner = snippetElf([
    ...THREE_ROUNDS,
    ...[0xe8, 0x15, 0, 0, 0], // outer: call f
    ...[0x48, 0x01, 0xc2], // add rdx, rax
    ...[0xbe, 0x2c, 0x01, 0, 0], // mov esi, 300
    ...[0x48, 0x01, 0xf2], // inner: add rdx, rsi
    ...[0xff, 0xce, 0x75, 0xf9], // dec esi; jnz inner
    ...[0xff, 0xc9, 0x75, 0xe8], // dec ecx; jnz outer
    ...[0xeb, 0x12], // jmp done
    ...SUM_500_RETURN_7,
  ]); // done: the snippet's epilogue

  it("is lifted with a resume variant and a variant for the inner loop", () => {
    expect(variantCount("call-then-inner", callThenInner, "resume")).toBe(1);
    expect(variantCount("call-then-inner", callThenInner, "loop")).toBe(1);
  });

  it("gives the native registers however often the loops yield", async () => {
    await expectRegistersWhileYielding("call-then-inner", callThenInner, {
      rax: 7n,
      rbx: 375750n,
      rcx: 0n,
      rdx: 135471n,
    });
  });
});
