// The contract between lifted modules and the vkernel that runs them, kept
// free of binaryen and iced-x86 so the runtime loads without the lifter:
// result codes of lifted functions, the metadata section, version and the
// default optimisation level.

/** Part of every lift-cache key: bump when lifted output changes meaning. */
export const LIFTER_VERSION =
  "0.1.0-slice1+x87-80bit+budget+syscall-resume+jt-merge+dispatch-chunks+perf1+sharded+perf2+lp2+calls+ifunc+resume";

/** 0: no optimisation; 1: light passes (default); 2, 3: binaryen -O2, -O3. */
export const DEFAULT_OPTIMIZE = 1;

/** Codes a lifted function returns to its caller (and finally the dispatcher loop). */
export const RESULT_RETURNED = 0;
export const RESULT_DISPATCH = 1;
export const RESULT_HALT = 2;
export const RESULT_NO_CODE = 3;
/** The CPU budget ran out at a loop back-edge or dispatch; state.rip says where to go on. */
export const RESULT_YIELD = 4;

/**
 * Loop back-edges (and dispatches) between two yields to the host. Measured:
 * see the comment in vkernel/run.ts where the budget is reset.
 */
export const DEFAULT_CPU_BUDGET = 1 << 20;

/** The exported global holding the CPU budget, so the host can reset it (or set it to 0 to preempt). */
export const BUDGET_EXPORT = "cpu_budget";

/** Custom section holding LiftMetadata as JSON. */
export const METADATA_SECTION = "megalift.lift";

/** What the vkernel needs besides the code: names for traps, the image base. */
export interface LiftMetadata {
  readonly binary: string;
  readonly lifterVersion: string;
  readonly base: number;
  readonly entry: number;
  /** Trap messages by the id the code passes to kernel.trap. */
  readonly traps: readonly string[];
}
