// What execve(2) runs: a Program is lifted code (a module and the names of
// its exports) plus the ELF image its segments are loaded from. A
// ProgramSource finds the program for a file by its BLAKE3 hash — the
// hash-failure policy lives here: a source refuses a hash it does not know,
// and the file never runs.
import { parseElf64 } from "../../elf/index.js";
import { isMegaliftError } from "../../errors.js";
import { METADATA_SECTION, type LiftMetadata } from "../../lift/abi.js";
import { createGuestImage, type GuestImage } from "../../lift/guest-image.js";
import { programSymbol, type LinkedProgram } from "../../merge/link.js";
import type { Mapping } from "../../merge/mapping.js";
import { ENOEXEC } from "../errno.js";

/**
 * What a polyfill (merge/polyfill.ts) starts from instead of ELF segments:
 * its entry, and `base`, the end of the memory it lays out for itself.
 */
export interface PolyfillImage {
  readonly kind: "polyfill";
  readonly name: string;
  readonly entry: number;
  readonly base: number;
}

export type ProgramImage = GuestImage | PolyfillImage;

export interface Program {
  readonly module: WebAssembly.Module;
  readonly image: ProgramImage;
  /** The module's export for runtime name `name` ("run", the CPU-budget global). */
  readonly exportOf: (name: string) => string;
  /** Trap messages by the id the code passes to kernel.trap, already naming the file. */
  readonly traps: readonly string[];
  /** The file's path, for messages. */
  readonly name: string;
}

/** An executable file as execve found it. */
export interface ExecFile {
  readonly path: string;
  /** "blake3:<hex>". */
  readonly hash: string;
  /** The file's bytes (read on first call: a known program needs none). */
  readonly bytes: () => Uint8Array;
}

/** execve refused to run a file: the errno it returns and the line the kernel prints. */
export class ExecRefused extends Error {
  constructor(
    readonly errno: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ProgramSource {
  /**
   * The program for `file`. Throws ExecRefused (synchronously when the
   * answer is known at once) for a file that must not run.
   */
  load(file: ExecFile): Program | Promise<Program>;
}

export function readLiftMetadata(module: WebAssembly.Module): LiftMetadata {
  const [section] = WebAssembly.Module.customSections(module, METADATA_SECTION);
  if (section === undefined) throw new Error(`lifted module has no ${METADATA_SECTION} section`);
  return JSON.parse(new TextDecoder().decode(section)) as LiftMetadata;
}

function guestImage(file: { path: string; bytes: Uint8Array }): GuestImage {
  return createGuestImage(file.path, parseElf64(file.bytes));
}

/** A program lifted on its own (the lift cache's module for one ELF). */
export function singleProgram(
  module: WebAssembly.Module,
  file: { path: string; bytes: Uint8Array },
): Program {
  const metadata = readLiftMetadata(module);
  return {
    module,
    image: guestImage(file),
    exportOf: (name) => name,
    traps: metadata.traps.map((t) => `${file.path}: ${t}`),
    name: file.path,
  };
}

/** A program inside a megabinary: its exports carry the file hash (merge/link.ts). */
export function megabinaryProgram(
  module: WebAssembly.Module,
  linked: LinkedProgram,
  file: { path: string; bytes: Uint8Array },
): Program {
  return {
    module,
    image: guestImage(file),
    exportOf: (name) => programSymbol(linked.hash, name),
    traps: linked.traps.map((t) => `${file.path}: ${t}`),
    name: file.path,
  };
}

/** A polyfill inside a megabinary: no ELF to load, its entry and base from its metadata. */
export function polyfillProgram(
  module: WebAssembly.Module,
  linked: LinkedProgram,
  file: { path: string },
): Program {
  return {
    module,
    image: { kind: "polyfill", name: file.path, entry: linked.entry, base: linked.base },
    exportOf: (name) => programSymbol(linked.hash, name),
    traps: linked.traps.map((t) => `${file.path}: ${t}`),
    name: file.path,
  };
}

/** Programs of a transformed image: only hashes its mapping lists (ELF or polyfill) run. */
export function megabinarySource(
  module: WebAssembly.Module,
  mapping: Mapping,
  programs: ReadonlyMap<string, LinkedProgram>,
): ProgramSource {
  const loaded = new Map<string, Program>();
  return {
    load(file) {
      const key = `${file.hash}\0${file.path}`;
      const known = loaded.get(key);
      if (known !== undefined) return known;
      const entry = mapping.executables[file.hash];
      const linked = programs.get(file.hash);
      if ((entry?.kind === "elf" || entry?.kind === "polyfill") && linked !== undefined) {
        const program =
          entry.kind === "polyfill"
            ? polyfillProgram(module, linked, file)
            : megabinaryProgram(module, linked, { path: file.path, bytes: file.bytes() });
        loaded.set(key, program);
        return program;
      }
      const omitted = mapping.omitted.find((o) => o.hash === file.hash);
      throw new ExecRefused(
        ENOEXEC,
        `${file.path}: ${file.hash} is not in the megabinary${
          omitted !== undefined ? ` (omitted: ${omitted.reason})` : ""
        }; it is never executed`,
      );
    },
  };
}

/**
 * Programs lifted on demand (an untransformed image, `exec --root`), through
 * the lift cache; each hash is lifted and compiled once per run. A file the
 * lifter refuses (not a static x86-64 ELF) never runs.
 */
export function liftOnDemandSource(options: {
  readonly cacheDir?: string;
  readonly optimize?: number;
  /** Programs already compiled, by hash (the first program of a run). */
  readonly known?: ReadonlyMap<string, WebAssembly.Module>;
}): ProgramSource {
  const modules = new Map<string, Promise<WebAssembly.Module>>();
  for (const [hash, module] of options.known ?? []) modules.set(hash, Promise.resolve(module));
  // One Program per hash and path: its ELF is parsed once, not at every exec.
  const programs = new Map<string, Program>();
  return {
    async load(file) {
      const key = `${file.hash}\0${file.path}`;
      const known = programs.get(key);
      if (known !== undefined) return known;
      let module = modules.get(file.hash);
      if (module === undefined) {
        module = (async () => {
          const { compileLifted, liftWithCache } = await import("../../lift/lift-cache.js");
          const lifted = await liftWithCache(file.path, file.bytes(), {
            ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
            ...(options.optimize !== undefined ? { optimize: options.optimize } : {}),
          });
          return compileLifted(lifted.wasm);
        })();
        modules.set(file.hash, module);
      }
      try {
        const program = singleProgram(await module, { path: file.path, bytes: file.bytes() });
        programs.set(key, program);
        return program;
      } catch (err) {
        modules.delete(file.hash);
        if (!isMegaliftError(err)) throw err;
        throw new ExecRefused(
          ENOEXEC,
          `${file.path}: ${file.hash} cannot be lifted (${err.message}); it is never executed`,
        );
      }
    },
  };
}
