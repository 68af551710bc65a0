// Loop structure of one function's control-flow graph, for the CPU-budget
// exit (budget.ts): the back edges that carry a budget check, and the
// strongly connected components that bound the loop variants a yield
// re-enters. Pure graph code over block start addresses.

export type Successors = ReadonlyMap<number, readonly number[]>;

/**
 * Back edges: edges to a block on the depth-first search stack. Removing them
 * leaves the graph acyclic, so every cycle — irreducible ones included —
 * passes at least one of them. In a reducible graph their targets are
 * exactly the natural loop headers. Returns source → targets.
 */
export function backEdges(
  roots: Iterable<number>,
  successors: Successors,
): Map<number, Set<number>> {
  const edges = new Map<number, Set<number>>();
  const state = new Map<number, "open" | "done">();
  for (const root of roots) {
    if (state.has(root) || !successors.has(root)) continue;
    // Iterative: lifted functions can have thousands of blocks in a chain.
    const stack: { block: number; next: number }[] = [{ block: root, next: 0 }];
    state.set(root, "open");
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { block: number; next: number };
      const succ = successors.get(top.block) ?? [];
      if (top.next >= succ.length) {
        state.set(top.block, "done");
        stack.pop();
        continue;
      }
      const s = succ[top.next++] as number;
      const seen = state.get(s);
      if (seen === "open") {
        let set = edges.get(top.block);
        if (set === undefined) edges.set(top.block, (set = new Set()));
        set.add(s);
      } else if (seen === undefined && successors.has(s)) {
        state.set(s, "open");
        stack.push({ block: s, next: 0 });
      }
    }
  }
  return edges;
}

/**
 * Strongly connected components (Tarjan, iterative). Returns, for every block
 * on a cycle, the set of blocks of its component — in a reducible graph the
 * body of the outermost loop around it. Blocks on no cycle are absent.
 */
export function cyclicComponents(successors: Successors): Map<number, ReadonlySet<number>> {
  const index = new Map<number, number>();
  const low = new Map<number, number>();
  const onStack = new Set<number>();
  const stack: number[] = [];
  const result = new Map<number, ReadonlySet<number>>();
  let counter = 0;
  for (const root of successors.keys()) {
    if (index.has(root)) continue;
    const work: { block: number; next: number }[] = [{ block: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1] as { block: number; next: number };
      const succ = successors.get(top.block) ?? [];
      if (top.next < succ.length) {
        const s = succ[top.next++] as number;
        if (!successors.has(s)) continue;
        if (!index.has(s)) {
          index.set(s, counter);
          low.set(s, counter++);
          stack.push(s);
          onStack.add(s);
          work.push({ block: s, next: 0 });
        } else if (onStack.has(s)) {
          low.set(top.block, Math.min(low.get(top.block) as number, index.get(s) as number));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) {
        low.set(
          parent.block,
          Math.min(low.get(parent.block) as number, low.get(top.block) as number),
        );
      }
      if (low.get(top.block) !== index.get(top.block)) continue;
      const component = new Set<number>();
      for (;;) {
        const b = stack.pop() as number;
        onStack.delete(b);
        component.add(b);
        if (b === top.block) break;
      }
      const cyclic = component.size > 1 || (successors.get(top.block) ?? []).includes(top.block);
      if (cyclic) for (const b of component) result.set(b, component);
    }
  }
  return result;
}

/** A variant entered where a call or syscall inside a loop continues after a yield. */
export interface ResumeVariant {
  /** The continuations it is entered at (entry index = position). */
  readonly entries: readonly number[];
  /** The rest of the loop's iteration from there: up to its headers, which are exits. */
  readonly region: ReadonlySet<number>;
}

/** Where a yield or a region exit can continue, and what each variant holds. */
export interface LoopPlan {
  /** Inner loop header → the blocks of its variant (entered only there). */
  readonly variants: ReadonlyMap<number, ReadonlySet<number>>;
  /** Continuations inside loops, in variants rather than in the function itself. */
  readonly resumeVariants: readonly ResumeVariant[];
  /** Addresses the function itself must be enterable at: outermost headers, region exits. */
  readonly functionEntries: ReadonlySet<number>;
}

/**
 * Plans the re-entry points of a function's loops. Entering a wasm function
 * in the middle of a loop nest forces binaryen's Relooper to route every
 * iteration of the enclosing loops through a label switch (measured: 4× slower
 * TurboFan code for malloc-stress's main), so only entries that keep every
 * loop single-entry go into the function itself: outermost loop headers (the
 * entries of the strongly connected components) and blocks outside inner
 * loops. An inner loop header instead gets a variant: its region — the
 * component around it once the edges into outermost headers are cut, i.e. the
 * loop nested directly inside the outermost one — lifted again as a function
 * entered at that header; leaving the region returns to the dispatcher.
 *
 * A call or syscall continuation (`continuations`: where the dispatcher goes
 * on after a yield below the call) inside a loop would be such an entry too,
 * and most loops with a call in them have one (measured: a loop calling a
 * three-instruction function ran 25% faster without it); so would the block
 * where an inner loop's variant leaves, inside the outermost loop. Those of
 * one outermost loop instead share a resume variant: the blocks reachable
 * from them without passing the loop's entries or an inner loop's header that
 * has a variant, i.e. the rest of the iteration; reaching an entry of the
 * loop, or leaving it, returns to the dispatcher, which continues in the
 * function itself, and reaching such an inner header continues in that
 * loop's variant (whose exits resume here again). Other continuations stay
 * entries of the function.
 *
 * Loop variants stop at `maxVariantBlocks` blocks per function, and so do
 * resume variants (a budget of their own): a header beyond it gets no
 * re-entry point, so its back edges carry no budget check, and a continuation
 * beyond it is an entry of the function — which makes its loop multiple-entry,
 * the slow shape above. Measured on busybox's gzip, whose deflate loop
 * (0x54b825) had 8 such entries when resume variants shared the loop
 * variants' budget and copied the inner loops: every iteration went through
 * the Relooper's label checks; resume variants that stop at inner loop
 * headers and have their own budget keep it single-entry (gzip -c of 20 MB
 * 1.69 s vs 1.80 s, sort 1.64 vs 1.72 s; module 21.6 → 22.9 MB).
 */
export function planLoops(
  entry: number,
  successors: Successors,
  headers: Iterable<number>,
  maxVariantBlocks: number,
  continuations: Iterable<number> = [],
): LoopPlan {
  const components = cyclicComponents(successors);
  const componentEntries = new Set<number>([entry]);
  for (const [block, succ] of successors) {
    for (const s of succ) {
      const component = components.get(s);
      if (component !== undefined && !component.has(block)) componentEntries.add(s);
    }
  }
  const cut = new Map<number, readonly number[]>();
  for (const [block, succ] of successors) {
    cut.set(
      block,
      succ.filter((s) => !(componentEntries.has(s) && components.get(s)?.has(block))),
    );
  }
  const regions = cyclicComponents(cut);
  const variants = new Map<number, ReadonlySet<number>>();
  const functionEntries = new Set<number>();
  let spent = 0;
  for (const header of headers) {
    const region = regions.get(header);
    if (componentEntries.has(header) || region === undefined) {
      functionEntries.add(header);
    } else if (spent + region.size <= maxVariantBlocks) {
      variants.set(header, region);
      spent += region.size;
    }
  }
  // Where the dispatcher continues inside an outermost loop: continuations,
  // and the blocks where an inner loop's variant leaves.
  const midLoop = [...continuations];
  for (const region of new Set(variants.values())) {
    for (const s of exits(region, successors)) {
      if (variants.has(s)) continue;
      if (components.has(s) && !componentEntries.has(s)) midLoop.push(s);
      else functionEntries.add(s);
    }
  }
  const byComponent = new Map<ReadonlySet<number>, number[]>();
  for (const k of midLoop) {
    const component = components.get(k);
    if (component === undefined || componentEntries.has(k) || variants.has(k)) continue;
    const list = byComponent.get(component);
    if (list === undefined) byComponent.set(component, [k]);
    else if (!list.includes(k)) list.push(k);
  }
  const resumeVariants: ResumeVariant[] = [];
  let resumeSpent = 0;
  for (const [component, entries] of byComponent) {
    const region = new Set<number>(entries);
    const work = [...entries];
    for (let b = work.pop(); b !== undefined; b = work.pop()) {
      for (const s of successors.get(b) ?? []) {
        if (component.has(s) && !componentEntries.has(s) && !variants.has(s) && !region.has(s)) {
          region.add(s);
          work.push(s);
        }
      }
    }
    if (resumeSpent + region.size > maxVariantBlocks) {
      for (const k of entries) functionEntries.add(k);
      continue;
    }
    resumeSpent += region.size;
    resumeVariants.push({ entries, region });
    for (const s of exits(region, successors)) if (!variants.has(s)) functionEntries.add(s);
  }
  return { variants, resumeVariants, functionEntries };
}

/** The blocks outside `region` that its blocks branch to. */
function* exits(region: ReadonlySet<number>, successors: Successors): Generator<number> {
  for (const block of region) {
    for (const s of successors.get(block) ?? []) if (!region.has(s)) yield s;
  }
}
