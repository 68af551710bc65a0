// Stage 1, scan: every ELF file and `#!` script in a root filesystem, grouped
// by content (BLAKE3), with what each one is. ELF files are recognised by
// their magic whatever their mode (shared libraries are often 0644); scripts
// are recorded with their x bits, since only executable ones can be exec'd.
// A malformed ELF is reported as a problem and does not stop the scan.
import { isMegaliftError, type ErrorCode } from "../errors.js";
import { formatBlake3 } from "../hash/blake3.js";
import { hasElfMagic, parseElf } from "../elf/index.js";
import type { RootfsEntry, RootfsView } from "../oci/rootfs/types.js";
import { elfIdentity, elfRole, type ElfIdentity } from "./elf-identity.js";
import { BINPRM_BUF_SIZE, parseShebang, type Shebang } from "./shebang.js";

/** One path holding an executable's content, with its own mode and owner. */
export interface ScanFile {
  readonly path: string;
  /** Permission bits (mode & 0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

interface ScannedCommon {
  /** "blake3:<64 hex>" — the name of this content in mapping.json. */
  readonly hash: string;
  readonly size: number;
  /** Every absolute path with this content, sorted bytewise. */
  readonly paths: readonly string[];
  /** The same paths with their modes, in the same order. */
  readonly files: readonly ScanFile[];
  /** True when at least one path has an x bit (S_IXUSR, S_IXGRP or S_IXOTH). */
  readonly executable: boolean;
}

export interface ScannedElf extends ScannedCommon {
  readonly kind: "elf";
  readonly elf: ElfIdentity;
}

export interface ScannedScript extends ScannedCommon {
  readonly kind: "script";
  readonly script: Shebang;
}

export type ScannedExecutable = ScannedElf | ScannedScript;

export interface ScanProblem {
  /** The first path with this content. */
  readonly path: string;
  readonly paths: readonly string[];
  readonly hash: string;
  readonly code: ErrorCode;
  readonly message: string;
}

export interface ScanTotals {
  /** Distinct ELF programs: ET_EXEC, and ET_DYN that are PIEs. */
  readonly elfExecutables: number;
  /** Distinct ET_DYN files that are not PIEs. */
  readonly sharedLibraries: number;
  /** Distinct other ELF files: relocatable objects, core dumps, 32-bit shared objects. */
  readonly otherElf: number;
  readonly scripts: number;
  /** Distinct contents in `executables`. */
  readonly distinctFiles: number;
  /** Paths in `executables` (≥ distinctFiles: the same content can live at many paths). */
  readonly paths: number;
  /** Bytes of the distinct contents in `executables`. */
  readonly bytes: number;
  readonly problems: number;
  /** Regular files looked at. */
  readonly filesScanned: number;
}

export interface ScanResult {
  /** One entry per distinct content, ordered by first path. */
  readonly executables: readonly ScannedExecutable[];
  /** Files that look like ELF but do not parse, ordered by first path. */
  readonly problems: readonly ScanProblem[];
  readonly totals: ScanTotals;
}

export interface ScanOptions {
  /** Called after each regular file: files done, files in the view, the path just looked at. */
  readonly onProgress?: (done: number, total: number, path: string) => void;
}

/** What one distinct content turned out to be. */
type Classification =
  | { readonly kind: "elf"; readonly elf: ElfIdentity }
  | { readonly kind: "script"; readonly script: Shebang }
  | { readonly kind: "problem"; readonly code: ErrorCode; readonly message: string }
  | { readonly kind: "other" };

interface Group {
  readonly classification: Classification;
  readonly size: number;
  readonly entries: RootfsEntry[];
}

const ANY_EXEC_BIT = 0o111;

export async function scanRootfs(view: RootfsView, options: ScanOptions = {}): Promise<ScanResult> {
  const groups = new Map<string, Group>();
  let done = 0;
  for (const entry of view.files()) {
    done++;
    const content = entry.content;
    if (content !== undefined && content.size >= 2) {
      const known = groups.get(content.blake3);
      if (known === undefined) {
        const classification = await classify(view, entry, content.size);
        groups.set(content.blake3, { classification, size: content.size, entries: [entry] });
      } else if (known.classification.kind !== "other") {
        known.entries.push(entry); // paths of plain data files are not worth keeping
      }
    }
    options.onProgress?.(done, view.fileCount, entry.path);
  }
  return summarise(groups, done);
}

async function classify(
  view: RootfsView,
  entry: RootfsEntry,
  size: number,
): Promise<Classification> {
  const head = await view.readRange(entry, 0, Math.min(size, BINPRM_BUF_SIZE));
  if (hasElfMagic(head)) {
    const bytes = await view.readFile(entry);
    try {
      return { kind: "elf", elf: elfIdentity(parseElf(bytes)) };
    } catch (err) {
      if (isMegaliftError(err, "ELF_MALFORMED")) {
        return { kind: "problem", code: err.code, message: err.message };
      }
      throw err;
    }
  }
  const shebang = parseShebang(head);
  return shebang.ok ? { kind: "script", script: shebang.shebang } : { kind: "other" };
}

function summarise(groups: ReadonlyMap<string, Group>, filesScanned: number): ScanResult {
  const executables: ScannedExecutable[] = [];
  const problems: ScanProblem[] = [];
  for (const [blake3, group] of groups) {
    const { classification } = group;
    if (classification.kind === "other") continue;
    const files = group.entries
      .map((e): ScanFile => ({ path: e.path, mode: e.mode & 0o7777, uid: e.uid, gid: e.gid }))
      .sort((a, b) => compareBytewise(a.path, b.path));
    const paths = files.map((f) => f.path);
    const hash = formatBlake3(blake3);
    if (classification.kind === "problem") {
      const path = paths[0] ?? "";
      problems.push({
        path,
        paths,
        hash,
        code: classification.code,
        message: classification.message,
      });
      continue;
    }
    const common: ScannedCommon = {
      hash,
      size: group.size,
      paths,
      files,
      executable: files.some((f) => (f.mode & ANY_EXEC_BIT) !== 0),
    };
    executables.push(
      classification.kind === "elf"
        ? { kind: "elf", ...common, elf: classification.elf }
        : { kind: "script", ...common, script: classification.script },
    );
  }
  executables.sort((a, b) => compareBytewise(a.paths[0] ?? "", b.paths[0] ?? ""));
  problems.sort((a, b) => compareBytewise(a.path, b.path));
  return { executables, problems, totals: computeTotals(executables, problems, filesScanned) };
}

function computeTotals(
  executables: readonly ScannedExecutable[],
  problems: readonly ScanProblem[],
  filesScanned: number,
): ScanTotals {
  const roles = executables.map((e) => (e.kind === "elf" ? elfRole(e.elf) : "script"));
  const count = (role: string): number => roles.filter((r) => r === role).length;
  return {
    elfExecutables: count("executable"),
    sharedLibraries: count("shared-library"),
    otherElf: count("other"),
    scripts: count("script"),
    distinctFiles: executables.length,
    paths: executables.reduce((n, e) => n + e.paths.length, 0),
    bytes: executables.reduce((n, e) => n + e.size, 0),
    problems: problems.length,
    filesScanned,
  };
}

/** Byte order of the UTF-8 encodings, as RootfsView sorts paths (JS `<` compares UTF-16 units). */
export function compareBytewise(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
