// What `megalift scan SOURCE` prints: a readable table with a totals footer,
// or (--json) one JSON document that schemas/scan.schema.json describes.
import { elfRole } from "./elf-identity.js";
import type { ScannedExecutable, ScanProblem, ScanResult, ScanTotals } from "./scan.js";

/** Where the scanned root filesystem came from, when the caller knows. */
export interface ScanMeta {
  /** The SOURCE as the user gave it, e.g. "oci:fixtures/images/demo:latest". */
  readonly source?: string;
  /** The manifest digest of the image, "sha256:<hex>". */
  readonly imageDigest?: string;
}

// ---- JSON ---------------------------------------------------------------

export interface ScanJsonFile {
  readonly path: string;
  /** Permission bits as four octal digits: "0755", "4755". */
  readonly mode: string;
  readonly uid: number;
  readonly gid: number;
}

/** An executables[] entry: ScannedElf or ScannedScript with modes written in octal. */
export type ScanJsonExecutable = ScannedExecutable extends infer E
  ? E extends ScannedExecutable
    ? Omit<E, "files"> & { readonly files: readonly ScanJsonFile[] }
    : never
  : never;

export interface ScanJson {
  readonly source?: string;
  readonly imageDigest?: string;
  readonly executables: readonly ScanJsonExecutable[];
  readonly problems: readonly ScanProblem[];
  readonly totals: ScanTotals;
}

/** The --json document (plain data: JSON.stringify it). */
export function toScanJson(result: ScanResult, meta: ScanMeta = {}): ScanJson {
  return {
    ...(meta.source !== undefined ? { source: meta.source } : {}),
    ...(meta.imageDigest !== undefined ? { imageDigest: meta.imageDigest } : {}),
    executables: result.executables.map((e) => ({
      ...e,
      files: e.files.map((f) => ({
        path: f.path,
        mode: octalMode(f.mode),
        uid: f.uid,
        gid: f.gid,
      })),
    })),
    problems: result.problems,
    totals: result.totals,
  };
}

/** Alias of toScanJson. */
export const toJson = toScanJson;

export function octalMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, "0");
}

// ---- table --------------------------------------------------------------

const HEADINGS = ["KIND", "TYPE", "SIZE", "HASH", "PATH", "INTERPRETER"] as const;
/** Hex digits of the hash shown; enough to tell files apart by eye. */
const HASH_PREFIX = 12;

/** The table, the problems, and a totals footer; ends with a newline. */
export function formatScanTable(result: ScanResult, meta: ScanMeta = {}): string {
  const lines: string[] = [];
  if (meta.source !== undefined) {
    const digest = meta.imageDigest !== undefined ? ` (${meta.imageDigest})` : "";
    lines.push(`scan of ${meta.source}${digest}`, "");
  }
  const rows = result.executables.map(tableRow);
  if (rows.length > 0) lines.push(...alignColumns([[...HEADINGS], ...rows]));
  else lines.push("no executables found");
  if (result.problems.length > 0) {
    lines.push("", "problems:");
    for (const p of result.problems) {
      const more = p.paths.length > 1 ? ` (+${p.paths.length - 1} more)` : "";
      lines.push(`  ${printable(p.path)}${more}: ${printable(p.message)}`);
    }
  }
  lines.push("", ...totalsLines(result.totals));
  return lines.join("\n") + "\n";
}

function tableRow(e: ScannedExecutable): string[] {
  const more = e.paths.length > 1 ? ` (+${e.paths.length - 1} more)` : "";
  const hex = e.hash.slice(e.hash.indexOf(":") + 1);
  return [
    e.kind,
    typeColumn(e),
    formatSize(e.size),
    hex.slice(0, HASH_PREFIX),
    `${printable(e.paths[0] ?? "")}${more}`,
    printable(interpreterColumn(e)),
  ];
}

function typeColumn(e: ScannedExecutable): string {
  if (e.kind === "script") return e.executable ? "script" : "script, not +x";
  const elf = e.elf;
  const machine = elf.machine === "x86-64" ? "" : ` ${elf.machine}`;
  if (elf.elfClass === 32) return `elf32 ${elf.type.toLowerCase()}${machine}`;
  switch (elfRole(elf)) {
    case "executable":
      return `${elf.pie ? "pie" : "exec"} ${elf.linkage}${machine}`;
    case "shared-library":
      return `lib ${elf.linkage}${machine}`;
    case "other":
      return `${elf.type.toLowerCase()}${machine}`;
  }
}

function interpreterColumn(e: ScannedExecutable): string {
  if (e.kind === "script") {
    return e.script.argument !== undefined
      ? `${e.script.interpreter} ${e.script.argument}`
      : e.script.interpreter;
  }
  return e.elf.elfClass === 64 ? (e.elf.interpreter ?? "") : "";
}

/**
 * Control characters escaped, so a path with a newline or a CRLF script's
 * "/bin/sh\r" interpreter cannot garble the terminal (the JSON keeps them as they are).
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => {
    const escapes: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
    return escapes[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

/** Sizes as `ls -sh` would write them: 512, 1.5K, 745K, 12M. */
export function formatSize(bytes: number): string {
  const units = ["K", "M", "G", "T"];
  if (bytes < 1024) return String(bytes);
  let value = bytes;
  let unit = "";
  for (const u of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = u;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value).toString()}${unit}`;
}

function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths = HEADINGS.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? "").length)));
  return rows.map((row) =>
    row
      .map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

function totalsLines(t: ScanTotals): string[] {
  const plural = (n: number, one: string, many = `${one}s`): string =>
    `${n} ${n === 1 ? one : many}`;
  return [
    `${plural(t.elfExecutables, "ELF executable")}, ${plural(t.sharedLibraries, "shared library", "shared libraries")}, ` +
      `${plural(t.otherElf, "other ELF file")}, ${plural(t.scripts, "script")}`,
    `${plural(t.distinctFiles, "distinct file")} at ${plural(t.paths, "path")}, ${formatSize(t.bytes)} in all; ` +
      `${plural(t.problems, "problem")}; ${plural(t.filesScanned, "file")} scanned`,
  ];
}
