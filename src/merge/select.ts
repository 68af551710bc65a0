// Which scanned executables the megabinary will hold, and why each other one
// is omitted (the hash-failure policy made visible in mapping.json). Today
// the lifter runs static x86-64 programs (ET_EXEC and static-pie); dynamic
// programs and shared libraries wait for ld.so support (ARCHITECTURE.md
// "Lifting" 7) and are omitted with that reason, never dropped silently.
// A `#!` script is kept when its interpreter (found in the image, symlinks
// followed as execve would) is itself kept.
import type { RootfsView } from "../oci/rootfs/types.js";
import type { ScanResult, ScannedElf, ScannedScript } from "../scan/scan.js";
import { elfRole } from "../scan/elf-identity.js";

export interface OmittedFile {
  readonly hash: string;
  readonly paths: readonly string[];
  readonly reason: string;
}

export interface Selection {
  /** ELF programs to lift, in scan order. */
  readonly lift: readonly ScannedElf[];
  /** Scripts whose interpreter is one of `lift`, keyed by the interpreter's hash. */
  readonly scripts: readonly { readonly script: ScannedScript; readonly interpreter: string }[];
  readonly omitted: readonly OmittedFile[];
}

/** Why an ELF file cannot be lifted now, or undefined when it can. */
export function elfOmissionReason(elf: ScannedElf): string | undefined {
  const id = elf.elf;
  if (id.elfClass === 32) return `32-bit ELF (${id.machine}) is not supported`;
  if (id.machine !== "x86-64") return `ELF for ${id.machine} is not supported (x86-64 only)`;
  if (id.endian !== "little") return "big-endian ELF is not supported";
  const role = elfRole(id);
  if (role === "shared-library") {
    return "shared library: dynamic linking is not supported yet";
  }
  if (role === "other") return `ELF type ${id.type} is not a program`;
  if (id.linkage === "dynamic") {
    return `dynamically linked (interpreter ${id.interpreter ?? "none"}): dynamic linking is not supported yet`;
  }
  return undefined;
}

/**
 * Splits a scan into what to lift and what to omit. `lifted` may be called
 * again after lifting with the hashes that really lifted (lift failures are
 * then omissions too) to settle the scripts: see settleScripts.
 */
export function selectExecutables(scan: ScanResult): {
  lift: ScannedElf[];
  scripts: ScannedScript[];
  omitted: OmittedFile[];
} {
  const lift: ScannedElf[] = [];
  const scripts: ScannedScript[] = [];
  const omitted: OmittedFile[] = [];
  for (const e of scan.executables) {
    if (e.kind === "script") {
      scripts.push(e);
      continue;
    }
    const reason = elfOmissionReason(e);
    if (reason === undefined) lift.push(e);
    else omitted.push({ hash: e.hash, paths: e.paths, reason });
  }
  for (const p of scan.problems) {
    omitted.push({ hash: p.hash, paths: p.paths, reason: `malformed ELF: ${p.message}` });
  }
  return { lift, scripts, omitted };
}

/**
 * Each script with the hash of the file its interpreter path resolves to in
 * the image, when that file is one of `runnable`; otherwise an omission
 * naming the interpreter and why it cannot run.
 */
export function settleScripts(
  view: RootfsView,
  scripts: readonly ScannedScript[],
  runnable: ReadonlySet<string>,
  omittedHashes: ReadonlyMap<string, string>,
): { scripts: Selection["scripts"]; omitted: OmittedFile[] } {
  const kept: { script: ScannedScript; interpreter: string }[] = [];
  const omitted: OmittedFile[] = [];
  for (const script of scripts) {
    const path = script.script.interpreter;
    const omit = (reason: string): void => {
      omitted.push({ hash: script.hash, paths: script.paths, reason });
    };
    let target;
    try {
      target = path.startsWith("/") ? view.resolve(path) : undefined;
    } catch {
      omit(`interpreter ${path}: too many levels of symbolic links`);
      continue;
    }
    if (!path.startsWith("/")) omit(`interpreter ${path} is not an absolute path`);
    else if (target?.content === undefined) omit(`interpreter ${path} is not in the image`);
    else {
      const hash = `blake3:${target.content.blake3}`;
      if (runnable.has(hash)) kept.push({ script, interpreter: hash });
      else {
        const why = omittedHashes.get(hash);
        omit(`interpreter ${path} is not lifted${why !== undefined ? ` (${why})` : ""}`);
      }
    }
  }
  return { scripts: kept, omitted };
}
