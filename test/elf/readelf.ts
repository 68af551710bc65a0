// binutils readelf as the reference for the ELF parser's tables: runs
// `readelf -sW`, `-rW` and `-wf` and parses their listings into plain
// values the tests compare with parseElf64's results.
import { spawnSync } from "node:child_process";

/**
 * readelf's stdout. It exits 1 without a message when it cannot follow a
 * .gnu_debuglink (libc.so.6 has one; its debug file is not installed), so
 * a non-zero status counts as failure only when stderr says something.
 */
function run(args: string[]): string {
  const result = spawnSync("readelf", ["-W", ...args], {
    encoding: "utf8",
    env: { ...process.env, LC_ALL: "C" },
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.error !== undefined || (result.status !== 0 && result.stderr.trim() !== "")) {
    throw new Error(`readelf ${args.join(" ")} failed: ${result.stderr || String(result.error)}`);
  }
  return result.stdout;
}

export interface ReadelfSymbol {
  num: number;
  value: bigint;
  size: bigint;
  type: string;
  bind: string;
  vis: string;
  ndx: string;
  /** The name as printed: "memcpy@@GLIBC_2.14", "puts@GLIBC_2.2.5 (3)" ... */
  name: string;
}

/** `readelf -sW`: table name (".dynsym", ".symtab") → its rows. */
export function readelfSymbols(path: string): Map<string, ReadelfSymbol[]> {
  const tables = new Map<string, ReadelfSymbol[]>();
  let current: ReadelfSymbol[] | undefined;
  for (const line of run(["-s", path]).split("\n")) {
    const header = /^Symbol table '([^']+)' contains (\d+) entr/.exec(line);
    if (header !== null) {
      current = [];
      tables.set(header[1] ?? "", current);
      continue;
    }
    const m = /^\s*(\d+): ([0-9a-f]+)\s+(\S+) (\S+)\s+(\S+)\s+(\S+)\s+(\S+) ?(.*)$/.exec(line);
    if (m === null || current === undefined) continue;
    const size = m[3] ?? "0";
    current.push({
      num: Number(m[1]),
      value: BigInt(`0x${m[2]}`),
      size: size.startsWith("0x") ? BigInt(size) : BigInt(size),
      type: m[4] ?? "",
      bind: m[5] ?? "",
      vis: m[6] ?? "",
      ndx: m[7] ?? "",
      name: m[8] ?? "",
    });
  }
  return tables;
}

export interface ReadelfRelocation {
  offset: bigint;
  type: string;
  /** The symbol as printed (with its version), or "" for none. */
  symbol: string;
  addend: bigint;
}

/** `readelf -rW`: section name → its relocations (RELR sections: offsets as RELATIVE, addend 0). */
export function readelfRelocations(path: string): Map<string, ReadelfRelocation[]> {
  const sections = new Map<string, ReadelfRelocation[]>();
  let current: ReadelfRelocation[] | undefined;
  let relr = false;
  for (const line of run(["-r", path]).split("\n")) {
    const header = /^Relocation section '([^']+)' at offset/.exec(line);
    if (header !== null) {
      current = [];
      relr = header[1]?.startsWith(".relr") ?? false;
      sections.set(header[1] ?? "", current);
      continue;
    }
    if (current === undefined) continue;
    if (relr) {
      const m = /^([0-9a-f]{16})\b/.exec(line);
      if (m !== null) {
        current.push({
          offset: BigInt(`0x${m[1]}`),
          type: "R_X86_64_RELATIVE",
          symbol: "",
          addend: 0n,
        });
      }
      continue;
    }
    const m = /^([0-9a-f]{16})\s+[0-9a-f]{16} (\S+)\s+(.*)$/.exec(line);
    if (m === null) continue;
    const rest = (m[3] ?? "").trim();
    const withSymbol = /^[0-9a-f]{16} (.+) ([+-]) ([0-9a-f]+)$/.exec(rest);
    const addend = (sign: string | undefined, hex: string | undefined): bigint =>
      (sign === "-" ? -1n : 1n) * BigInt(`0x${hex ?? "0"}`);
    current.push({
      offset: BigInt(`0x${m[1]}`),
      type: m[2] ?? "",
      symbol: withSymbol?.[1] ?? "",
      addend: withSymbol !== null ? addend(withSymbol[2], withSymbol[3]) : addend("+", rest),
    });
  }
  return sections;
}

export interface ReadelfFrameRecord {
  offset: number;
  kind: "CIE" | "FDE";
  augmentation?: string;
  cieOffset?: number;
  pcBegin?: bigint;
  pcEnd?: bigint;
}

/** `readelf -wf`, the .eh_frame part only (not .debug_frame). */
export function readelfEhFrame(path: string): ReadelfFrameRecord[] {
  const records: ReadelfFrameRecord[] = [];
  let inEhFrame = false;
  for (const line of run(["--debug-dump=frames", path]).split("\n")) {
    const contents = /^Contents of the (\S+) section\b/.exec(line);
    if (contents !== null) {
      inEhFrame = contents[1] === ".eh_frame";
      continue;
    }
    if (!inEhFrame) continue;
    const cie = /^([0-9a-f]{8}) [0-9a-f]+ [0-9a-f]+ CIE/.exec(line);
    if (cie !== null) {
      records.push({ offset: parseInt(cie[1] ?? "", 16), kind: "CIE" });
      continue;
    }
    const fde =
      /^([0-9a-f]{8}) [0-9a-f]+ [0-9a-f]+ FDE cie=([0-9a-f]+) pc=([0-9a-f]+)\.\.([0-9a-f]+)/.exec(
        line,
      );
    if (fde !== null) {
      records.push({
        offset: parseInt(fde[1] ?? "", 16),
        kind: "FDE",
        cieOffset: parseInt(fde[2] ?? "", 16),
        pcBegin: BigInt(`0x${fde[3]}`),
        pcEnd: BigInt(`0x${fde[4]}`),
      });
      continue;
    }
    const augmentation = /^\s+Augmentation:\s+"(.*)"/.exec(line);
    const last = records[records.length - 1];
    if (augmentation !== null && last?.kind === "CIE") last.augmentation = augmentation[1] ?? "";
  }
  return records;
}
