// Runs one command inside an image (`megalift run`): flatten the image into a
// rootfs view, give the process an image-backed filesystem, resolve the
// command by path and hash, and run it — from the image's megabinary when
// the image is transformed (no lifting at run time), else lifted on demand.
// What it executes is found the same way (process/program.ts).
import { join } from "node:path";
import { parseMapping, type Mapping } from "../merge/mapping.js";
import { readProgramsSection, type LinkedProgram } from "../merge/link.js";
import { ContentStore } from "../oci/rootfs/content-store.js";
import { buildRootfs } from "../oci/rootfs/flatten.js";
import type { RootfsView } from "../oci/rootfs/types.js";
import { MAPPING_PATH, MEGABINARY_PATH } from "../oci/mutate.js";
import { openSource } from "../oci/sources.js";
import { CommandError, mappedExport, resolveCommand } from "./image-command.js";
import { CachedContent, contentStoreReader, imageRoot } from "./vfs/index.js";
import { runLifted, type ProgramEntry } from "./run.js";
import type { Limits } from "./process/limits.js";
import {
  liftOnDemandSource,
  megabinarySource,
  type Program,
  type ProgramSource,
} from "./process/program.js";

export interface RunInImageOptions {
  readonly source: string;
  /** argv; empty means the image's Entrypoint + Cmd. */
  readonly command: readonly string[];
  readonly workdir?: string;
  readonly cacheDir?: string;
  readonly limits?: Limits;
  /** The process environment from the image config's Env. */
  readonly env: (configEnv: readonly string[]) => string[];
  readonly onProgress?: (text: string) => void;
  /** Called once the program is about to start (progress output must stop). */
  readonly onReady?: () => void;
}

interface Megabinary {
  readonly module: WebAssembly.Module;
  readonly mapping: Mapping;
  readonly programs: ReadonlyMap<string, LinkedProgram>;
}

async function readMegabinary(view: RootfsView): Promise<Megabinary | undefined> {
  const wasm = view.resolve(MEGABINARY_PATH);
  const mappingEntry = view.resolve(MAPPING_PATH);
  if (wasm?.content === undefined || mappingEntry?.content === undefined) return undefined;
  const mapping = parseMapping(await view.readFile(mappingEntry), MAPPING_PATH);
  const module = await WebAssembly.compile(await view.readFile(wasm));
  const programs = new Map(readProgramsSection(module).programs.map((p) => [p.hash, p]));
  return { module, mapping, programs };
}

function say(message: string): void {
  process.stderr.write(`megalift: ${message}\n`);
}

export async function runInImage(options: RunInImageOptions): Promise<number> {
  const source = await openSource(options.source);
  let view: RootfsView;
  let store: ContentStore;
  let config;
  try {
    const image = await source.image();
    config = (await image.config()).config ?? {};
    const layers = await image.layers();
    store = ContentStore.forCacheDir(options.cacheDir);
    view = await buildRootfs(layers, {
      store,
      onProgress: (p) => options.onProgress?.(`layer ${p.layer + 1}/${layers.length}`),
    });
  } finally {
    await source.close();
  }
  const env = options.env(config.Env ?? []);
  const path = env.find((e) => e.startsWith("PATH="))?.slice(5) ?? "";
  const cwd = options.workdir ?? (config.WorkingDir || "/");
  const argv =
    options.command.length > 0
      ? options.command
      : [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  try {
    const resolved = await resolveCommand(view, argv, { path, cwd });
    const megabinary = await readMegabinary(view);
    const elfBytes = await view.readFile(resolved.entry);
    let module: WebAssembly.Module;
    let entry: ProgramEntry | undefined;
    let programs: ProgramSource;
    let program: Program | undefined;
    if (megabinary !== undefined) {
      const exportName = mappedExport(megabinary.mapping, resolved);
      const linked = megabinary.programs.get(resolved.hash);
      if (linked === undefined) {
        throw new CommandError(`${resolved.path}: ${resolved.hash} has no program section`, 126);
      }
      module = megabinary.module;
      entry = {
        hash: resolved.hash,
        export: exportName,
        name: resolved.path,
        traps: linked.traps,
      };
      // No lifting at run time: execve runs only what the mapping lists.
      programs = megabinarySource(module, megabinary.mapping, megabinary.programs);
      program = await programs.load({
        path: resolved.path,
        hash: resolved.hash,
        bytes: () => elfBytes,
      });
    } else {
      options.onProgress?.(`lifting ${resolved.path}`);
      const { compileLifted, liftWithCache } = await import("../lift/lift-cache.js");
      const liftCache =
        options.cacheDir !== undefined ? { cacheDir: join(options.cacheDir, "lift") } : {};
      const lifted = await liftWithCache(resolved.path, elfBytes, liftCache);
      module = compileLifted(lifted.wasm);
      programs = liftOnDemandSource({ ...liftCache, known: new Map([[resolved.hash, module]]) });
    }
    options.onReady?.();
    return await runLifted({
      module,
      elfBytes,
      path: resolved.path,
      ...(entry !== undefined ? { entry } : {}),
      ...(program !== undefined ? { program } : {}),
      programs,
      vfs: imageRoot(view, new CachedContent(contentStoreReader(store))),
      cwd,
      argv: resolved.argv,
      env,
      debug: process.env.MEGALIFT_DEBUG === "1",
      ...(options.limits !== undefined ? { limits: options.limits } : {}),
    });
  } catch (err) {
    if (err instanceof CommandError) {
      options.onReady?.();
      say(err.message);
      return err.status;
    }
    throw err;
  }
}
