// Differential tests of the glibc fixtures (lifted unoptimised: glibc's 150k
// instructions lift fastest that way): native run vs lifted run, same
// stdout, stderr and exit status.
import { describe } from "vitest";
import { differentialTests, type DifferentialCase } from "./differential.js";

describe("lifted glibc fixtures behave like native ones", () => {
  const cases: DifferentialCase[] = [
    { fixture: "glibc/hello" },
    { fixture: "glibc/argv-env", args: () => ["one", "two words", "", "three"] },
    { fixture: "glibc/jump-table" },
    { fixture: "glibc/sort-search" },
    { fixture: "glibc/setjmp" },
    { fixture: "glibc/deep-recursion" },
    { fixture: "glibc/string-unaligned" },
    { fixture: "glibc/file-io", args: (scratch) => [scratch] },
    // fork, pipes, execve of itself, wait statuses, signals, poll, nanosleep
    { fixture: "glibc/processes" },
    { fixture: "glibc/fs-ops", args: (scratch) => [scratch] },
    { fixture: "glibc/printf" },
    { fixture: "glibc/math" },
    { fixture: "glibc/x87-ops" },
    // MXCSR and x87 exception flags read by fetestexcept
    { fixture: "glibc/fenv" },
    // x86-64-v2 code (SSE3–SSE4.2), every MXCSR rounding mode, software fma
    { fixture: "glibc/simd-v2" },
    // -Ofast: FTZ and DAZ set before main (crtfastmath.o)
    { fixture: "glibc/fast-math" },
  ];
  differentialTests(cases.map((c) => ({ ...c, optimize: 0 })));
});
