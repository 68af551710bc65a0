// The coverage report `megalift lift` prints: functions, blocks,
// instructions, lift time, output size, every unsupported or undecodable
// instruction with its mnemonic and count, and the functions skipped because
// they need CPUID features the CPU model does not report (feature-skip.ts).
import type { LiftReport } from "./lift-elf.js";

const hex = (a: number): string => `0x${a.toString(16)}`;

export function formatLiftReport(r: LiftReport): string {
  const lines = [
    `lifted ${r.binary}`,
    `  functions      ${r.functions}`,
    `  blocks         ${r.blocks}`,
    `  instructions   ${r.instructions}`,
    `  jump tables    ${r.jumpTables}`,
    `  lift time      ${(r.liftMilliseconds / 1000).toFixed(2)} s`,
    `  output         ${r.outputBytes} bytes`,
  ];
  const unsupported = [...r.unsupported].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const total = unsupported.reduce((n, [, c]) => n + c, 0);
  lines.push(
    `  unsupported    ${total} instructions, ${unsupported.length} mnemonics (trap if reached)`,
  );
  for (const [mnemonic, count] of unsupported) lines.push(`    ${mnemonic.padEnd(14)} ${count}`);
  const skipped = [...(r.skipped ?? [])].sort(
    (a, b) => b[1].functions - a[1].functions || a[0].localeCompare(b[0]),
  );
  const skippedFunctions = skipped.reduce((n, [, s]) => n + s.functions, 0);
  lines.push(
    `  skipped        ${skippedFunctions} functions the CPU model never selects (trap if reached)`,
  );
  for (const [feature, s] of skipped)
    lines.push(
      `    needs ${feature.padEnd(8)} ${s.functions} functions, ${s.instructions} instructions`,
    );
  lines.push(
    `  undecodable    ${r.undecodable.length}${r.undecodable.length ? ": " : ""}${r.undecodable.slice(0, 20).map(hex).join(" ")}`,
  );
  lines.push(
    `  indirect jumps through the dispatcher ${r.unresolvedIndirectJumps.length}` +
      (r.unresolvedIndirectJumps.length
        ? `: ${r.unresolvedIndirectJumps.slice(0, 20).map(hex).join(" ")}`
        : ""),
  );
  return lines.join("\n") + "\n";
}
