// Prints how long the ELF parser takes on the host's libc.so.6: headers,
// then each lazily read table (symbols, relocations, .eh_frame, init/fini,
// code pointers), first call (cold) and the median of fresh parses (warm).
// Not a test. Run after `npm run build`: node test/elf/time-libc.mjs [FILE]
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { parseElf64 } from "../../dist/src/elf/index.js";

const path = process.argv[2] ?? "/lib/x86_64-linux-gnu/libc.so.6";
const bytes = new Uint8Array(readFileSync(path));
const steps = [
  ["parseElf64 (headers)", () => parseElf64(bytes)],
  [
    "dynamicSymbols + staticSymbols",
    (elf) => elf.dynamicSymbols().length + elf.staticSymbols().length,
  ],
  ["relocations", (elf) => elf.relocations().length],
  [
    "ehFrame (+ hdr)",
    (elf) => (elf.ehFrame()?.fdes.length ?? 0) + (elf.ehFrameHdr()?.table.length ?? 0),
  ],
  ["initFini", (elf) => elf.initFini().initArray.length],
  ["codePointers", (elf) => elf.codePointers().length],
];

function runOnce() {
  const times = [];
  let elf;
  const counts = [];
  for (const [, step] of steps) {
    const start = performance.now();
    const result = step(elf);
    times.push(performance.now() - start);
    if (elf === undefined) elf = result;
    else counts.push(result);
  }
  return { times, counts };
}

const cold = runOnce();
const warm = [];
for (let i = 0; i < 20; i++) warm.push(runOnce().times);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

console.log(`${path} (${bytes.length} bytes), node ${process.version}`);
console.log("step                              cold ms   warm ms   count");
steps.forEach(([name], i) => {
  const count = i === 0 ? "" : String(cold.counts[i - 1]);
  const w = median(warm.map((t) => t[i]));
  console.log(
    `${name.padEnd(32)} ${cold.times[i].toFixed(1).padStart(8)} ${w.toFixed(1).padStart(9)}   ${count}`,
  );
});
const total = (t) => t.reduce((a, b) => a + b, 0);
console.log(
  `${"total".padEnd(32)} ${total(cold.times).toFixed(1).padStart(8)} ${median(warm.map(total)).toFixed(1).padStart(9)}`,
);
