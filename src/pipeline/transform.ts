// The toolchain workflow end to end (ARCHITECTURE.md "The one-paragraph
// picture"): source image → rootfs view → scan → lift (worker threads, lift
// cache) → link → compile → mapping → output image (+ wasm variant, index) →
// OCI layout or registry → signatures. Each stage is its own module; this
// file only composes them and reports progress and a summary. The CLI (`megalift
// transform`) and the proxy's transform-on-pull call it.
import { join } from "node:path";
import { isMegaliftError, MegaliftError } from "../errors.js";
import { compileMegabinary } from "../compile/compile.js";
import { lifterFingerprint } from "../lift/lift-cache.js";
import { createLiftPool } from "../lift/lift-pool.js";
import { METADATA_SECTION, type LiftMetadata } from "../lift/abi.js";
import { linkMegabinary, programExport, type LinkInput } from "../merge/link.js";
import { buildMapping, serializeMapping, type ContentHash } from "../merge/mapping.js";
import { selectExecutables, settleScripts, type OmittedFile } from "../merge/select.js";
import { customSectionPayload } from "../merge/wasm-sections.js";
import { appendMegabinaryLayer, transformedIndex, wasmPlatformImage } from "../oci/mutate.js";
import type { ImageOrIndex } from "../oci/image.js";
import { parseSourceReference } from "../oci/reference.js";
import { ContentStore } from "../oci/rootfs/content-store.js";
import { buildRootfs } from "../oci/rootfs/flatten.js";
import { openSource } from "../oci/sources.js";
import { scanRootfs } from "../scan/scan.js";
import type { SigningSetup } from "../sign/signer.js";
import type { DockerReference } from "../registry/docker-transport.js";
import type { PushOptions } from "../registry/push.js";
import { openPushTarget } from "../registry/push-target.js";
import {
  layoutSignatureDestination,
  signTransformedImage,
  type SignatureDestination,
} from "../sign/publish.js";
import { TOOL_VERSION } from "../version.js";
import { polyfillFor, type Polyfill } from "../merge/polyfill.js";

export type Stage = "flatten" | "scan" | "lift" | "link" | "compile" | "write" | "sign";

export interface TransformProgress {
  readonly stage: Stage;
  readonly done?: number;
  readonly total?: number;
  /** What is being worked on: a layer digest, a path. */
  readonly detail?: string;
}

export interface TransformOptions {
  readonly source: string;
  /** oci:DIR[:TAG] or docker://HOST/NAME[:TAG] */
  readonly destination: string;
  /** false: reach a docker:// destination over plain http (skopeo's --dest-tls-verify=false). */
  readonly destinationTlsVerify?: boolean;
  readonly signing?: SigningSetup;
  /** Where flattened contents and lifts are kept (default $MEGALIFT_CACHE_DIR or ~/.cache/megalift). */
  readonly cacheDir?: string;
  readonly workers?: number;
  /** Lift optimisation level (src/lift/abi.ts DEFAULT_OPTIMIZE). */
  readonly liftOptimize?: number;
  /** Whole-megabinary binaryen level (src/compile/compile.ts). */
  readonly compileOptimize?: number;
  /** Prebuilt modules standing in for executables that cannot be lifted (merge/polyfill.ts). */
  readonly polyfills?: readonly Polyfill[];
  readonly onProgress?: (p: TransformProgress) => void;
}

export interface PolyfilledSummary {
  readonly hash: string;
  readonly paths: readonly string[];
  /** The polyfill's name. */
  readonly polyfill: string;
}

export interface LiftedSummary {
  readonly hash: string;
  readonly path: string;
  readonly fromCache: boolean;
  readonly bytes: number;
  /** Instructions without semantics (they trap if reached), when lifted now. */
  readonly unsupported?: number;
  readonly liftMilliseconds?: number;
}

export interface TransformSummary {
  readonly source: string;
  readonly sourceDigest: string;
  readonly destination: string;
  readonly indexDigest: string;
  readonly manifestDigest: string;
  readonly toolchainVersion: string;
  readonly executables: { readonly elf: number; readonly scripts: number };
  readonly lifted: readonly LiftedSummary[];
  readonly polyfilled: readonly PolyfilledSummary[];
  readonly scripts: number;
  readonly omitted: readonly OmittedFile[];
  readonly megabinaryBytes: number;
  readonly mappingBytes: number;
  readonly signed: boolean;
  readonly milliseconds: Readonly<Record<Stage | "total", number>>;
}

/** The toolchain version recorded in outputs: package version + lifter fingerprint. */
export function toolchainVersion(): string {
  return `${TOOL_VERSION}+lift.${lifterFingerprint()}`;
}

function liftMetadata(wasm: Uint8Array): LiftMetadata {
  const payload = customSectionPayload(wasm, METADATA_SECTION);
  if (payload === undefined) {
    throw new MegaliftError("WASM_INVALID", `lifted module has no ${METADATA_SECTION} section`);
  }
  return JSON.parse(new TextDecoder().decode(payload)) as LiftMetadata;
}

type Destination =
  | { readonly transport: "oci"; readonly dir: string; readonly tag: string }
  | { readonly transport: "docker"; readonly reference: DockerReference; readonly tag: string };

/** oci:DIR[:TAG] or docker://HOST/NAME[:TAG]; the tag defaults to latest. */
function parseDestination(text: string): Destination {
  const ref = parseSourceReference(text);
  if (ref.transport === "docker-archive") {
    throw new MegaliftError(
      "UNSUPPORTED",
      `transform writes to an OCI layout (oci:DIR:TAG) or a registry (docker://HOST/NAME:TAG), not to a docker-archive`,
    );
  }
  if (ref.digest !== undefined) {
    throw new MegaliftError("USAGE", `destination ${text}: name a tag, not a digest`);
  }
  const tag = ref.tag ?? "latest";
  return ref.transport === "oci"
    ? { transport: "oci", dir: ref.dir, tag }
    : { transport: "docker", reference: ref, tag };
}

/** Where the image and its signatures are written: a layout directory or a registry repository. */
function openDestination(
  destination: Destination,
  tlsVerify: boolean | undefined,
): SignatureDestination & {
  push(value: ImageOrIndex, tag: string, options?: PushOptions): Promise<unknown>;
  close(): Promise<void>;
} {
  if (destination.transport === "oci") {
    return { ...layoutSignatureDestination(destination.dir), close: async () => undefined };
  }
  return openPushTarget(destination.reference, tlsVerify === false ? { tlsVerify } : {});
}

export async function transformImage(options: TransformOptions): Promise<TransformSummary> {
  const startedAll = performance.now();
  const ms: Record<Stage | "total", number> = {
    flatten: 0,
    scan: 0,
    lift: 0,
    link: 0,
    compile: 0,
    write: 0,
    sign: 0,
    total: 0,
  };
  const timed = async <T>(stage: Stage, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      ms[stage] += performance.now() - started;
    }
  };
  const progress = (p: TransformProgress): void => options.onProgress?.(p);
  const destination = parseDestination(options.destination);
  const version = toolchainVersion();
  const source = await openSource(options.source);
  const target = openDestination(destination, options.destinationTlsVerify);
  try {
    const image = await source.image();
    const layers = await image.layers();
    const store = ContentStore.forCacheDir(options.cacheDir);
    const view = await timed("flatten", () =>
      buildRootfs(layers, {
        store,
        onProgress: (p) =>
          progress({
            stage: "flatten",
            done: p.layer,
            total: layers.length,
            detail: p.digest.toString(),
          }),
      }),
    );
    const scan = await timed("scan", () =>
      scanRootfs(view, {
        onProgress: (done, total, path) => progress({ stage: "scan", done, total, detail: path }),
      }),
    );
    const chosen = selectExecutables(scan);
    // A polyfill replaces what it names, whether it would be lifted or omitted.
    const polyfilled: PolyfilledSummary[] = [];
    const linkInputs: LinkInput[] = [];
    const replaced = (hash: string, paths: readonly string[]): boolean => {
      const polyfill = polyfillFor(options.polyfills ?? [], hash, paths);
      if (polyfill === undefined) return false;
      polyfilled.push({ hash, paths, polyfill: polyfill.name });
      linkInputs.push({ hash, wasm: polyfill.wasm, metadata: polyfill.metadata });
      return true;
    };
    const selected = {
      lift: chosen.lift.filter((e) => !replaced(e.hash, e.paths)),
      scripts: chosen.scripts,
      omitted: chosen.omitted.filter((o) => !replaced(o.hash, o.paths)),
    };
    const omitted: OmittedFile[] = [...selected.omitted];
    const lifted: LiftedSummary[] = [];
    await timed("lift", async () => {
      const pool = createLiftPool({
        ...(options.workers !== undefined ? { workers: options.workers } : {}),
        ...(options.liftOptimize !== undefined ? { optimize: options.liftOptimize } : {}),
        ...(options.cacheDir !== undefined ? { cacheDir: join(options.cacheDir, "lift") } : {}),
      });
      let done = 0;
      try {
        await Promise.all(
          selected.lift.map(async (elf) => {
            const path = elf.paths[0] as string;
            try {
              const entry = view.lstat(path);
              if (entry === undefined) throw new Error(`${path} vanished from the view`);
              // The file's hash names it in lifts: the same content lifted from any
              // path or image gives the same module (determinism across images).
              const lift = await pool.lift(elf.hash, await view.readFile(entry));
              linkInputs.push({
                hash: elf.hash,
                wasm: lift.wasm,
                metadata: liftMetadata(lift.wasm),
              });
              let unsupported: number | undefined;
              if (lift.report !== undefined) {
                unsupported = 0;
                for (const n of lift.report.unsupported.values()) unsupported += n;
              }
              lifted.push({
                hash: elf.hash,
                path,
                fromCache: lift.fromCache,
                bytes: lift.wasm.length,
                ...(unsupported !== undefined ? { unsupported } : {}),
                ...(lift.report !== undefined
                  ? { liftMilliseconds: Math.round(lift.report.liftMilliseconds) }
                  : {}),
              });
            } catch (err) {
              // Bad input (a malformed ELF) is an omission with its reason; anything
              // else is a lifter bug and stops the transform rather than hide it.
              if (!isMegaliftError(err)) throw err;
              omitted.push({
                hash: elf.hash,
                paths: elf.paths,
                reason: `lift failed: ${err.message}`,
              });
            } finally {
              progress({ stage: "lift", done: ++done, total: selected.lift.length, detail: path });
            }
          }),
        );
      } finally {
        await pool.close();
      }
    });
    const runnable = new Set(linkInputs.map((l) => l.hash));
    const settled = settleScripts(
      view,
      selected.scripts,
      runnable,
      new Map(omitted.map((o) => [o.hash, o.reason])),
    );
    omitted.push(...settled.omitted);

    progress({ stage: "link", done: 0, total: linkInputs.length });
    const linked = await timed("link", () => linkMegabinary(linkInputs));
    progress({ stage: "compile" });
    const compiled = await timed("compile", () =>
      compileMegabinary(linked.megabinary, { optimize: options.compileOptimize ?? 0 }),
    );
    const megabinary = compiled.megabinary;

    const pathsOf = new Map(selected.lift.map((e) => [e.hash, e.paths]));
    const mapping = buildMapping({
      toolchainVersion: version,
      executables: [
        ...linked.programs.map((p) => {
          const polyfill = polyfilled.find((f) => f.hash === p.hash);
          return {
            hash: p.hash as ContentHash,
            kind: polyfill !== undefined ? ("polyfill" as const) : ("elf" as const),
            export: programExport(p.hash),
            paths: polyfill?.paths ?? pathsOf.get(p.hash) ?? [],
          };
        }),
        ...settled.scripts.map(({ script, interpreter }) => ({
          hash: script.hash,
          kind: "script" as const,
          interpreter,
          paths: script.paths,
        })),
      ],
      omitted,
    });
    const mappingBytes = serializeMapping(mapping);

    progress({ stage: "write", detail: options.destination });
    const written = await timed("write", async () => {
      const megabinaryOptions = {
        megabinary,
        mapping: mappingBytes,
        toolchainVersion: version,
        sourceName: source.display,
      };
      const augmented = await appendMegabinaryLayer(image, megabinaryOptions);
      const wasm = await wasmPlatformImage(image, megabinaryOptions);
      const index = await transformedIndex(augmented, wasm);
      // Source layers already on the destination registry are mounted, not copied.
      const from = source.reference;
      const mountFrom =
        from.transport === "docker" &&
        destination.transport === "docker" &&
        from.registry === destination.reference.registry
          ? { mountFrom: from.repository }
          : {};
      await target.push({ kind: "index", index }, destination.tag, mountFrom);
      return { augmented, index };
    });
    if (options.signing !== undefined) {
      const signing = options.signing;
      progress({ stage: "sign" });
      await timed("sign", () =>
        signTransformedImage({
          destination: target,
          image: written.augmented,
          megabinary,
          mapping: mappingBytes,
          setup: signing,
          reference:
            destination.transport === "docker"
              ? `${destination.reference.registry}/${destination.reference.repository}`
              : options.destination,
          toolchainVersion: version,
          source: { name: source.display, digest: image.digest.toString() },
        }),
      );
    }
    ms.total = performance.now() - startedAll;
    const byHash = (a: { hash: string }, b: { hash: string }): number =>
      a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0;
    return {
      source: source.display,
      sourceDigest: image.digest.toString(),
      destination: options.destination,
      indexDigest: written.index.digest.toString(),
      manifestDigest: written.augmented.digest.toString(),
      toolchainVersion: version,
      executables: {
        elf: scan.totals.elfExecutables + scan.totals.sharedLibraries + scan.totals.otherElf,
        scripts: scan.totals.scripts,
      },
      lifted: lifted.sort(byHash),
      polyfilled: polyfilled.sort(byHash),
      scripts: settled.scripts.length,
      omitted: mapping.omitted,
      megabinaryBytes: megabinary.length,
      mappingBytes: mappingBytes.length,
      signed: options.signing !== undefined,
      milliseconds: Object.fromEntries(
        Object.entries(ms).map(([k, v]) => [k, Math.round(v)]),
      ) as Record<Stage | "total", number>,
    };
  } finally {
    await target.close();
    await source.close();
  }
}
