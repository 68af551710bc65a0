// mapping.json: what a megabinary holds, by BLAKE3 file hash (schemas/mapping.schema.json).
// The vkernel resolves execve by the hash of a file and runs only what this
// document lists (ARCHITECTURE.md "no raw ELF execution"); the omitted list
// makes the hash-failure policy visible. buildMapping checks and normalises
// what merge hands it; serializeMapping gives the one canonical byte form
// (fixed key order, hash-keyed maps sorted, paths sorted bytewise), so the
// same inputs always give the same bytes — and the same signed digest.
import { MegaliftError } from "../errors.js";
import { validateMappingDocument } from "./mapping-schema.js";

/** A BLAKE3 content hash as mapping.json spells it: "blake3:<64 lowercase hex>". */
export type ContentHash = string;

export type ExecutableEntry =
  | { readonly kind: "elf"; readonly export: string; readonly paths: readonly string[] }
  | {
      readonly kind: "script";
      /** The hash of the `#!` interpreter's file; it must itself be in `executables`. */
      readonly interpreter: ContentHash;
      /** Scripts run their interpreter; an export only if merge gave the script its own. */
      readonly export?: string;
      readonly paths: readonly string[];
    }
  | { readonly kind: "polyfill"; readonly export: string; readonly paths: readonly string[] };

export interface LibraryEntry {
  /** The prelinked load address chosen at merge time, lowercase hex ("0x7f0000000000"). */
  readonly base: string;
  readonly paths: readonly string[];
}

export interface OmittedEntry {
  readonly hash: ContentHash;
  readonly paths: readonly string[];
  /** Why it could not be lifted, one line ("unsupported: 32-bit ELF", "lift failed: …"). */
  readonly reason: string;
}

export interface Mapping {
  readonly schemaVersion: 1;
  readonly hashAlgorithm: "blake3";
  readonly toolchain: { readonly name: "megalift"; readonly version: string };
  readonly executables: Readonly<Record<ContentHash, ExecutableEntry>>;
  readonly libraries: Readonly<Record<ContentHash, LibraryEntry>>;
  readonly omitted: readonly OmittedEntry[];
}

/** What merge knows: entries in any order, paths unsorted, bases as numbers. */
export interface MappingInput {
  readonly toolchainVersion: string;
  readonly executables?: Iterable<ExecutableEntry & { readonly hash: ContentHash }>;
  readonly libraries?: Iterable<{
    readonly hash: ContentHash;
    readonly base: bigint | number;
    readonly paths: readonly string[];
  }>;
  readonly omitted?: Iterable<OmittedEntry>;
}

/** Guest pages are 4 KiB; a library base must start a page. */
const PAGE_SIZE = 0x1000n;

/** Bytewise (UTF-8) order, the order tar and the rootfs view use. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function invalid(message: string): MegaliftError {
  return new MegaliftError("MAPPING_INVALID", `invalid mapping: ${message}`);
}

function sortedPaths(paths: readonly string[], hash: string): string[] {
  const unique = [...new Set(paths)].sort(compareBytes);
  if (unique.length === 0) throw invalid(`${hash} has no paths`);
  return unique;
}

function formatBase(base: bigint | number, hash: string): string {
  if (typeof base === "number" && !Number.isSafeInteger(base)) {
    throw invalid(`library ${hash} has base ${base}, which is not an exact integer`);
  }
  const value = BigInt(base);
  if (value <= 0n || value % PAGE_SIZE !== 0n) {
    throw invalid(`library ${hash} has base 0x${value.toString(16)}, not a non-zero page address`);
  }
  return `0x${value.toString(16)}`;
}

/** One executable entry with its keys in canonical order. */
function canonicalExecutable(entry: ExecutableEntry, hash: string): ExecutableEntry {
  const paths = sortedPaths(entry.paths, hash);
  switch (entry.kind) {
    case "elf":
      return { kind: "elf", export: entry.export, paths };
    case "polyfill":
      return { kind: "polyfill", export: entry.export, paths };
    case "script":
      return {
        kind: "script",
        ...(entry.export !== undefined ? { export: entry.export } : {}),
        interpreter: entry.interpreter,
        paths,
      };
  }
}

function sortedRecord<T>(entries: Map<string, T>): Record<string, T> {
  const keys = [...entries.keys()].sort(compareBytes);
  return Object.fromEntries(keys.map((k) => [k, entries.get(k) as T]));
}

/**
 * Checks and normalises merge's view into a Mapping: duplicate hashes,
 * scripts whose interpreter is not an executable, exports used twice, a hash
 * both lifted and omitted, and schema violations are MAPPING_INVALID.
 */
export function buildMapping(input: MappingInput): Mapping {
  const executables = new Map<string, ExecutableEntry>();
  for (const { hash, ...entry } of input.executables ?? []) {
    if (executables.has(hash)) throw invalid(`executable ${hash} is listed twice`);
    executables.set(hash, canonicalExecutable(entry as ExecutableEntry, hash));
  }
  const libraries = new Map<string, LibraryEntry>();
  for (const { hash, base, paths } of input.libraries ?? []) {
    if (libraries.has(hash)) throw invalid(`library ${hash} is listed twice`);
    libraries.set(hash, { base: formatBase(base, hash), paths: sortedPaths(paths, hash) });
  }
  const omitted = new Map<string, OmittedEntry>();
  for (const { hash, paths, reason } of input.omitted ?? []) {
    if (omitted.has(hash)) throw invalid(`omitted ${hash} is listed twice`);
    if (executables.has(hash) || libraries.has(hash)) {
      throw invalid(`${hash} is both in the megabinary and omitted`);
    }
    omitted.set(hash, { hash, paths: sortedPaths(paths, hash), reason });
  }
  const mapping: Mapping = {
    schemaVersion: 1,
    hashAlgorithm: "blake3",
    toolchain: { name: "megalift", version: input.toolchainVersion },
    executables: sortedRecord(executables),
    libraries: sortedRecord(libraries),
    omitted: [...omitted.keys()].sort(compareBytes).map((k) => omitted.get(k) as OmittedEntry),
  };
  checkMapping(mapping);
  return mapping;
}

/** Schema plus the rules a schema cannot say; MAPPING_INVALID naming the first problem. */
export function checkMapping(mapping: Mapping): void {
  validateMappingDocument(mapping);
  const exports = new Map<string, string>();
  for (const [hash, entry] of Object.entries(mapping.executables)) {
    if (entry.kind === "script" && !(entry.interpreter in mapping.executables)) {
      throw invalid(
        `script ${hash} (${entry.paths[0] ?? "?"}) names interpreter ${entry.interpreter}, which is not an executable in the mapping`,
      );
    }
    if (entry.export === undefined) continue;
    const owner = exports.get(entry.export);
    if (owner !== undefined) {
      throw invalid(`export "${entry.export}" is used by both ${owner} and ${hash}`);
    }
    exports.set(entry.export, hash);
  }
}

/** The canonical bytes of mapping.json: 2-space JSON, keys in canonical order, final newline. */
export function serializeMapping(mapping: Mapping): Uint8Array {
  // Rebuild through buildMapping's canonical shapes so a hand-made Mapping
  // (keys in another order) serialises to the same bytes as a built one.
  const canonical = buildMapping({
    toolchainVersion: mapping.toolchain.version,
    executables: Object.entries(mapping.executables).map(([hash, e]) => ({ ...e, hash })),
    libraries: Object.entries(mapping.libraries).map(([hash, l]) => ({
      hash,
      base: BigInt(l.base),
      paths: l.paths,
    })),
    omitted: mapping.omitted,
  });
  return Buffer.from(`${JSON.stringify(canonical, null, 2)}\n`, "utf8");
}

/** Parses and checks mapping.json bytes (MAPPING_INVALID if they are not a valid mapping). */
export function parseMapping(bytes: Uint8Array, what = "mapping.json"): Mapping {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as unknown;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new MegaliftError("MAPPING_INVALID", `${what} is not valid JSON: ${reason}`, {
      cause: err,
    });
  }
  validateMappingDocument(doc, what);
  const mapping = doc as Mapping;
  checkMapping(mapping);
  return mapping;
}
