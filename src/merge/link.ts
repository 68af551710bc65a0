// Stage 3, link: every lifted ELF module (each exactly once, by file hash)
// joined into one megabinary with binaryen's wasm-merge. Per-ELF modules
// come from the lift cache as they are — re-emitting all code into one
// binaryen module would mean lifting everything again on every transform,
// which is what the cache exists to avoid (figures in the issue-6 note).
//
// Before merging, each module is relabelled: its `run` export becomes
// `elf_<hash hex>` (the entry the mapping names), other exports get the hash
// as a suffix, and its memory import is
// taken from a small link module, which imports `env.memory` once and
// re-exports it — so the merged module has exactly one memory, as Node 20
// (no multi-memory) needs. Each program keeps its own dispatcher for guest
// PCs; the export name is the hash → entry map, dispatch is by code, never
// through a per-instance funcref table (ARCHITECTURE.md, measured facts).
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { MegaliftError } from "../errors.js";
import type { LiftMetadata } from "../lift/abi.js";
import { INITIAL_MEMORY_PAGES, MAXIMUM_MEMORY_PAGES } from "../lift/guest-layout.js";
import { appendCustomSection, encodeU32, relabelModule, writeSections } from "./wasm-sections.js";

/** Custom section of the megabinary: ProgramsSection as JSON. */
export const PROGRAMS_SECTION = "megalift.programs";

const LINK_MODULE = "megalift_link";

/** Features the lifter emits (src/lift/lift-elf.ts); wasm-merge must accept exactly these. */
const FEATURE_FLAGS = [
  "--enable-simd",
  "--enable-tail-call",
  "--enable-bulk-memory",
  "--enable-sign-ext",
  "--enable-mutable-globals",
  "--enable-nontrapping-float-to-int",
];

export interface LinkInput {
  /** "blake3:<hex>" of the ELF file. */
  readonly hash: string;
  /** The lifted module (lift cache output). */
  readonly wasm: Uint8Array;
  readonly metadata: LiftMetadata;
}

export interface LinkedProgram {
  readonly hash: string;
  readonly export: string;
  readonly base: number;
  readonly entry: number;
  /** Trap messages by id, without a file name (the runtime knows which file it ran). */
  readonly traps: readonly string[];
}

export interface ProgramsSection {
  readonly programs: readonly LinkedProgram[];
}

export interface LinkResult {
  readonly megabinary: Uint8Array;
  readonly programs: readonly LinkedProgram[];
  readonly milliseconds: number;
}

/** The megabinary export that enters the program with this file hash. */
export function programExport(hash: string): string {
  return `elf_${hash.replace(/^blake3:/, "")}`;
}

/**
 * The megabinary's name for export `name` of the program with this hash:
 * `run` is the program's entry (programExport); anything else the lifter
 * exports for the runtime (e.g. the CPU-budget global) gets the hash as a
 * suffix, so every program keeps its own.
 */
export function programSymbol(hash: string, name: string): string {
  return name === "run" ? programExport(hash) : `${name}_${hash.replace(/^blake3:/, "")}`;
}

/** The link module: imports env.memory with the guest limits and exports it. */
function linkModule(): Uint8Array {
  const text = new TextEncoder();
  const name = (s: string): number[] => {
    const bytes = text.encode(s);
    return [...encodeU32(bytes.length), ...bytes];
  };
  const memtype = [0x01, ...encodeU32(INITIAL_MEMORY_PAGES), ...encodeU32(MAXIMUM_MEMORY_PAGES)];
  const imports = [1, ...name("env"), ...name("memory"), 0x02, ...memtype];
  const exports = [1, ...name("memory"), 0x02, 0];
  return writeSections([
    { id: 2, body: Uint8Array.from(imports) },
    { id: 7, body: Uint8Array.from(exports) },
  ]);
}

/** "<binary>: 0x401000: unsupported instruction …" → "0x401000: unsupported instruction …". */
function withoutFileName(metadata: LiftMetadata): string[] {
  const prefix = `${metadata.binary}: `;
  return metadata.traps.map((t) => (t.startsWith(prefix) ? t.slice(prefix.length) : t));
}

function wasmMergePath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("binaryen/package.json")), "bin", "wasm-merge");
}

function runWasmMerge(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [wasmMergePath(), ...args], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve();
      else
        reject(
          new MegaliftError(
            "LINK_FAILED",
            `wasm-merge failed (status ${code}): ${stderr.trim().split("\n").slice(-3).join(" / ")}`,
          ),
        );
    });
  });
}

/**
 * One megabinary from lifted modules: sorted by hash, relabelled, merged
 * (the compile stage validates it), with a `megalift.programs` section. The same inputs give the
 * same bytes (no paths, times or temporary names reach the output).
 */
export async function linkMegabinary(inputs: readonly LinkInput[]): Promise<LinkResult> {
  const started = performance.now();
  const sorted = [...inputs].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]?.hash === sorted[i - 1]?.hash) {
      throw new MegaliftError("LINK_FAILED", `program ${sorted[i]?.hash} is linked twice`);
    }
  }
  const programs: LinkedProgram[] = sorted.map((p) => ({
    hash: p.hash,
    export: programExport(p.hash),
    base: p.metadata.base,
    entry: p.metadata.entry,
    traps: withoutFileName(p.metadata),
  }));
  let merged = linkModule();
  if (sorted.length > 0) {
    const dir = await mkdtemp(join(tmpdir(), "megalift-link-"));
    try {
      const args: string[] = [];
      await writeFile(join(dir, "link.wasm"), merged);
      args.push(join(dir, "link.wasm"), LINK_MODULE);
      for (const [i, p] of sorted.entries()) {
        const relabelled = relabelModule(p.wasm, {
          exportName: (e) => programSymbol(p.hash, e.name),
          importModule: (imp) =>
            imp.module === "env" && imp.name === "memory" ? LINK_MODULE : imp.module,
        });
        const file = join(dir, `p${i}.wasm`);
        await writeFile(file, relabelled);
        args.push(file, `p${i}`);
      }
      const out = join(dir, "megabinary.wasm");
      // -n: the inputs were validated when lifted and V8 validates the result in
      // the compile stage; validating here again costs a third of the merge.
      await runWasmMerge([...args, "-o", out, "-n", ...FEATURE_FLAGS]);
      merged = new Uint8Array(await readFile(out));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const section: ProgramsSection = { programs };
  const megabinary = appendCustomSection(
    merged,
    PROGRAMS_SECTION,
    new TextEncoder().encode(JSON.stringify(section)),
  );
  return { megabinary, programs, milliseconds: performance.now() - started };
}

/** The programs section of a megabinary module. */
export function readProgramsSection(module: WebAssembly.Module): ProgramsSection {
  const [section] = WebAssembly.Module.customSections(module, PROGRAMS_SECTION);
  if (section === undefined) {
    throw new MegaliftError("WASM_INVALID", `the megabinary has no ${PROGRAMS_SECTION} section`);
  }
  return JSON.parse(new TextDecoder().decode(section)) as ProgramsSection;
}
