// Which MXCSR accesses start the watch on the exception flags
// (STATE_FLAG_WATCH, semantics/sse-directed.ts): those of a fenv function,
// one that also reads the x87 exception state (fnstsw, fnstenv), as
// feclearexcept and fetestexcept do. fesetround and -ffast-math's start-up
// write MXCSR too and glibc's sin reads it, but they are not about the
// flags: starting the watch there sends all later float code to the slow
// checked flavour (-Ofast cpu-bench 2.1× native became 9.4×).
import { describe, expect, it } from "vitest";
import { FLAG_WATCH, STATE_FLAG_WATCH } from "../../src/lift/guest-layout.js";
import { liftElf } from "../../src/lift/lift-elf.js";
import { snippetElf, SNIPPET_ENTRY } from "./snippet-elf.js";

const SNIPPET = [
  ...[0xe8, 0x07, 0x00, 0x00, 0x00], // 00 call fenv (0x0c)
  ...[0xe8, 0x0a, 0x00, 0x00, 0x00], // 05 call plain (0x14)
  ...[0xeb, 0x13], // 0a jmp 0x1f (the epilogue)
  // fenv: reads the x87 status word and MXCSR, as fetestexcept does.
  ...[0xdf, 0xe0], // 0c fnstsw ax
  ...[0x0f, 0xae, 0x5c, 0x24, 0xf8], // 0e stmxcsr [rsp-8]
  ...[0xc3], // 13 ret
  // plain: reads and writes MXCSR, as fesetround or crtfastmath.o does.
  ...[0x0f, 0xae, 0x5c, 0x24, 0xf8], // 14 stmxcsr [rsp-8]
  ...[0x0f, 0xae, 0x54, 0x24, 0xf8], // 19 ldmxcsr [rsp-8]
  ...[0xc3], // 1e ret
];

/** The text of the lifted function at `offset` in the snippet. */
function functionText(text: string, offset: number): string {
  const start = text.indexOf(`(func $f_${(SNIPPET_ENTRY + offset).toString(16)} `);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = text.indexOf("\n (func ", start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

describe("the watch on MXCSR's exception flags", () => {
  it("starts in a function that reads the x87 status too, not at other MXCSR accesses", () => {
    const text = liftElf("flag-watch", snippetElf(SNIPPET), { text: true }).text ?? "";
    const watchStore = new RegExp(
      `i32\\.store[^\\n]*\\n\\s*\\(i32\\.const ${STATE_FLAG_WATCH}\\)\\n\\s*\\(i32\\.const ${FLAG_WATCH}\\)`,
    );
    expect(functionText(text, 0x0c)).toMatch(watchStore);
    expect(functionText(text, 0x14)).not.toMatch(watchStore);
    expect(functionText(text, 0x14)).toContain(`(i32.const ${STATE_FLAG_WATCH - 0x60})`);
  });
});
