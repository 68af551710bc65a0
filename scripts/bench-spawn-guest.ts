// The vkernel side of `npm run bench:spawn`: the megabinary of the lifted
// driver and true (with, for the big row, a generated module of trivial
// functions), the guest's root — a host directory or an image rootfs of the
// same two files — and one run of the lifted driver over them.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { blake3Hex } from "../src/hash/blake3.js";
import { INITIAL_MEMORY_PAGES, MAXIMUM_MEMORY_PAGES } from "../src/lift/guest-layout.js";
import type { LinkInput, LinkedProgram } from "../src/merge/link.js";
import { encodeU32, writeSections } from "../src/merge/wasm-sections.js";
import { ContentStore, createRootfsView } from "../src/oci/rootfs/index.js";
import type { RootfsEntry } from "../src/oci/rootfs/types.js";
import { runLifted } from "../src/vkernel/run.js";
import { megabinarySource } from "../src/vkernel/process/program.js";
import {
  CachedContent,
  contentStoreReader,
  imageRoot,
  type FsBackend,
} from "../src/vkernel/vfs/index.js";

/** Per-spawn nanoseconds from the driver's "spawn-ns N" lines. */
export function parseTimes(output: string): number[] {
  return output
    .split("\n")
    .filter((l) => l.startsWith("spawn-ns "))
    .map((l) => Number(l.slice(9)));
}

/**
 * A module of `count` functions `() -> i32` and an exported `run` that calls
 * each once (so linking keeps them), importing env.memory like a lifted
 * module: linked into a megabinary it gives the instantiation cost of a big
 * image without lifting one. Nothing runs it.
 */
export function manyFunctionsModule(count: number): Uint8Array {
  const text = new TextEncoder();
  const name = (s: string): number[] => [...encodeU32(s.length), ...text.encode(s)];
  const limits = [0x01, ...encodeU32(INITIAL_MEMORY_PAGES), ...encodeU32(MAXIMUM_MEMORY_PAGES)];
  const types = [1, 0x60, 0, 1, 0x7f];
  const imports = [1, ...name("env"), ...name("memory"), 0x02, ...limits];
  const functions = [...encodeU32(count + 1), ...new Array<number>(count + 1).fill(0)];
  const exports = [1, ...name("run"), 0x00, ...encodeU32(count)];
  const parts: number[][] = [encodeU32(count + 1)];
  const trivial = [4, 0x00, 0x41, 0x00, 0x0b]; // size, no locals, i32.const 0, end
  for (let i = 0; i < count; i++) parts.push(trivial);
  const calls: number[] = [0x00]; // no locals
  for (let i = 0; i < count; i++) calls.push(0x10, ...encodeU32(i), 0x1a); // call i, drop
  calls.push(0x41, 0x00, 0x0b);
  parts.push(encodeU32(calls.length), calls);
  return writeSections([
    { id: 1, body: Uint8Array.from(types) },
    { id: 2, body: Uint8Array.from(imports) },
    { id: 3, body: Uint8Array.from(functions) },
    { id: 7, body: Uint8Array.from(exports) },
    { id: 10, body: Uint8Array.from(parts.flat()) },
  ]);
}

export interface Megabinary {
  readonly module: WebAssembly.Module;
  readonly programs: ReadonlyMap<string, LinkedProgram>;
  readonly bytes: number;
}

/** Links the lifted driver and true (and `extra` functions) once; cached by inputs. */
export async function megabinary(
  inputs: readonly LinkInput[],
  extra: number,
  cacheDir: string,
): Promise<Megabinary> {
  const { linkMegabinary, readProgramsSection } = await import("../src/merge/link.js");
  const all = [...inputs];
  if (extra > 0) {
    const wasm = manyFunctionsModule(extra);
    all.push({
      hash: `blake3:${blake3Hex(wasm)}`,
      wasm,
      metadata: { binary: "functions", lifterVersion: "-", base: 0, entry: 0, traps: [] },
    });
  }
  const key = createHash("sha256");
  for (const i of all) key.update(i.hash).update(i.wasm);
  const file = join(cacheDir, `${key.digest("hex").slice(0, 16)}.wasm`);
  let bytes: Uint8Array;
  if (existsSync(file)) bytes = readFileSync(file);
  else {
    bytes = (await linkMegabinary(all)).megabinary;
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(file, bytes);
  }
  const module = await WebAssembly.compile(bytes);
  const programs = new Map(readProgramsSection(module).programs.map((p) => [p.hash, p]));
  return { module, programs, bytes: bytes.length };
}

/** Where the guest finds /bin/spawn-loop and /bin/true. */
export const GUEST_DRIVER = "/bin/spawn-loop";
export const GUEST_TRUE = "/bin/true";

/**
 * The guest's root: the host directory `dir` (as `megalift exec --root`
 * serves it), or an image rootfs of the same files under the in-memory
 * writable layer (as `megalift run` serves an image).
 */
export type GuestRoot =
  | { readonly kind: "host"; readonly dir: string }
  | { readonly kind: "image"; readonly dir: string; readonly vfs: () => FsBackend };

/** An image rootfs holding the files of `dir`/bin, its content in a store under `work`. */
export async function imageGuestRoot(dir: string, work: string): Promise<GuestRoot> {
  const store = ContentStore.at(join(work, "content"));
  const directory = (path: string): RootfsEntry => ({
    path,
    type: "directory",
    mode: 0o755,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: 0,
    layer: 0,
  });
  const entries: RootfsEntry[] = [directory("/"), directory("/bin")];
  for (const path of [GUEST_DRIVER, GUEST_TRUE]) {
    const bytes = readFileSync(join(dir, path));
    const content = await store.write(
      (async function* () {
        yield bytes;
      })(),
    );
    entries.push({ ...directory(path), type: "file", size: bytes.length, content });
  }
  const view = createRootfsView(entries, store);
  return {
    kind: "image",
    dir,
    vfs: () => imageRoot(view, new CachedContent(contentStoreReader(store))),
  };
}

/** Runs the lifted driver as pid 1 of a run over the megabinary; its per-spawn times. */
export async function runInVkernel(
  mb: Megabinary,
  root: GuestRoot,
  spawns: number,
  warmup: number,
): Promise<number[]> {
  const { buildMapping } = await import("../src/merge/mapping.js");
  const files = { driver: GUEST_DRIVER, truePath: GUEST_TRUE };
  const driverBytes = readFileSync(join(root.dir, GUEST_DRIVER));
  const driverHash = `blake3:${blake3Hex(driverBytes)}`;
  const trueHash = `blake3:${blake3Hex(readFileSync(join(root.dir, GUEST_TRUE)))}`;
  const exportOf = (hash: string): string => mb.programs.get(hash)?.export ?? "";
  const mapping = buildMapping({
    toolchainVersion: "bench",
    executables: [
      { hash: driverHash, kind: "elf", export: exportOf(driverHash), paths: [files.driver] },
      { hash: trueHash, kind: "elf", export: exportOf(trueHash), paths: [files.truePath] },
    ],
  });
  const linked = mb.programs.get(driverHash);
  if (linked === undefined) throw new Error("the driver is not in the megabinary");
  const out: Uint8Array[] = [];
  const status = await runLifted({
    module: mb.module,
    elfBytes: driverBytes,
    entry: { hash: driverHash, export: linked.export, name: files.driver, traps: linked.traps },
    programs: megabinarySource(mb.module, mapping, mb.programs),
    ...(root.kind === "host" ? { root: root.dir } : { vfs: root.vfs() }),
    argv: [files.driver, files.truePath, String(spawns), String(warmup)],
    env: [],
    stdout: (b) => out.push(Uint8Array.from(b)),
  });
  if (status !== 0) throw new Error(`the lifted driver exited ${status}`);
  return parseTimes(Buffer.concat(out).toString("utf8"));
}
