// Polyfills (ARCHITECTURE.md: binaries that cannot be lifted — a JIT runtime
// such as node — are replaced by prebuilt WebAssembly): a polyfill is a wasm
// module with the lifted-module ABI (lift/abi.ts) that stands in for the
// executables it names, by BLAKE3 hash or by path. merge links it exactly as
// a lifted module (link.ts) and mapping.json lists it as kind "polyfill".
//
// The ABI a polyfill module keeps: it imports only `env.memory` and the
// `kernel` functions (syscall, trap, rdtsc, x87, sse); it exports `run`
// (entered with state.rip = the metadata's entry on the first call, and
// again after every yield) and the CPU-budget global; its `megalift.lift` custom section
// holds LiftMetadata, where `base` is the end of the memory it lays out for
// itself (the program break starts there) — it has no ELF segments to load.
//
// A polyfill set is a directory with polyfills.json:
//   [{ "name": "node", "module": "node.wasm",
//      "hashes": ["blake3:…"], "paths": ["/usr/bin/node"] }]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MegaliftError } from "../errors.js";
import { BUDGET_EXPORT, METADATA_SECTION, type LiftMetadata } from "../lift/abi.js";

export interface Polyfill {
  readonly name: string;
  readonly wasm: Uint8Array;
  readonly metadata: LiftMetadata;
  /** Executables it replaces, by "blake3:<hex>". */
  readonly hashes: readonly string[];
  /** Executables it replaces, by absolute path in the image. */
  readonly paths: readonly string[];
}

const KERNEL_IMPORTS = new Set(["syscall", "trap", "rdtsc", "x87", "sse"]);

function invalid(name: string, why: string): MegaliftError {
  return new MegaliftError("WASM_INVALID", `polyfill ${name}: ${why}`);
}

/** Checks a module against the polyfill ABI; its metadata. */
export function checkPolyfillModule(name: string, wasm: Uint8Array): LiftMetadata {
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(wasm);
  } catch (err) {
    throw invalid(name, `not a valid WebAssembly module (${(err as Error).message})`);
  }
  for (const i of WebAssembly.Module.imports(module)) {
    const ok =
      (i.module === "env" && i.name === "memory" && i.kind === "memory") ||
      (i.module === "kernel" && KERNEL_IMPORTS.has(i.name) && i.kind === "function");
    if (!ok) throw invalid(name, `imports ${i.module}.${i.name}, which the vkernel does not give`);
  }
  const exports = new Map(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));
  if (exports.get("run") !== "function") throw invalid(name, "has no `run` function export");
  if (exports.get(BUDGET_EXPORT) !== "global") {
    throw invalid(name, `has no \`${BUDGET_EXPORT}\` global export`);
  }
  const [section] = WebAssembly.Module.customSections(module, METADATA_SECTION);
  if (section === undefined) throw invalid(name, `has no ${METADATA_SECTION} custom section`);
  let metadata: LiftMetadata;
  try {
    metadata = JSON.parse(new TextDecoder().decode(section)) as LiftMetadata;
  } catch {
    throw invalid(name, `its ${METADATA_SECTION} section is not JSON`);
  }
  if (!Number.isInteger(metadata.entry) || !Number.isInteger(metadata.base)) {
    throw invalid(name, `its ${METADATA_SECTION} section needs integer entry and base`);
  }
  return metadata;
}

interface PolyfillIndexEntry {
  readonly name?: unknown;
  readonly module?: unknown;
  readonly hashes?: unknown;
  readonly paths?: unknown;
}

const strings = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === "string");

/** Reads DIR/polyfills.json and the modules it names, each checked against the ABI. */
export function loadPolyfills(dir: string): Polyfill[] {
  const indexPath = join(dir, "polyfills.json");
  let index: unknown;
  try {
    index = JSON.parse(readFileSync(indexPath, "utf8"));
  } catch (err) {
    throw new MegaliftError(
      "USAGE",
      `polyfills: cannot read ${indexPath}: ${(err as Error).message}`,
    );
  }
  if (!Array.isArray(index))
    throw new MegaliftError("USAGE", `${indexPath}: expected a JSON array`);
  return index.map((raw: PolyfillIndexEntry, i) => {
    const where = `${indexPath} [${i}]`;
    if (typeof raw.name !== "string" || typeof raw.module !== "string") {
      throw new MegaliftError("USAGE", `${where}: needs "name" and "module" strings`);
    }
    const hashes = raw.hashes ?? [];
    const paths = raw.paths ?? [];
    if (!strings(hashes) || !strings(paths) || hashes.length + paths.length === 0) {
      throw new MegaliftError("USAGE", `${where}: needs "hashes" or "paths" (arrays of strings)`);
    }
    const bad = hashes.find((h) => !/^blake3:[0-9a-f]{64}$/.test(h));
    if (bad !== undefined) throw new MegaliftError("USAGE", `${where}: ${bad} is not blake3:<hex>`);
    const wasm = new Uint8Array(readFileSync(join(dir, raw.module)));
    return { name: raw.name, wasm, metadata: checkPolyfillModule(raw.name, wasm), hashes, paths };
  });
}

/** The polyfill that replaces an executable with this hash or at one of these paths. */
export function polyfillFor(
  polyfills: readonly Polyfill[],
  hash: string,
  paths: readonly string[],
): Polyfill | undefined {
  return polyfills.find((p) => p.hashes.includes(hash) || paths.some((x) => p.paths.includes(x)));
}
