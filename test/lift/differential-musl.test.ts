// Differential tests of the static-PIE and musl fixtures: native run vs
// lifted run, same stdout, stderr and exit status.
import { describe } from "vitest";
import { differentialTests } from "./differential.js";

describe("lifted musl fixtures behave like native ones", () => {
  differentialTests([
    { fixture: "static-pie/hello-nolibc" },
    { fixture: "musl/hello" },
    { fixture: "musl/argv-env", args: () => ["one", "two words", "", "three"] },
    { fixture: "musl/jump-table" },
    { fixture: "musl/sort-search" },
    { fixture: "musl/setjmp" },
    { fixture: "musl/deep-recursion" },
    { fixture: "musl/string-unaligned" },
    { fixture: "musl/file-io", args: (scratch) => [scratch] },
    // fork, pipes, execve of itself, wait statuses, signals, poll, nanosleep
    { fixture: "musl/processes" },
    { fixture: "musl/fs-ops", args: (scratch) => [scratch] },
    // musl formats floating point through long double: exact x87 is needed.
    { fixture: "musl/printf" },
    { fixture: "musl/math" },
    { fixture: "musl/x87-ops" },
    // MXCSR and x87 exception flags read by fetestexcept
    { fixture: "musl/fenv" },
    // x86-64-v2 code (SSE3–SSE4.2) and every MXCSR rounding mode
    { fixture: "musl/simd-v2" },
    // -Ofast: FTZ and DAZ set before main (crtfastmath.o)
    { fixture: "musl/fast-math" },
  ]);
});
