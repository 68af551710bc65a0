// Reads one layer's uncompressed tar as an async sequence of entries with
// normalised absolute paths, streaming: each entry's body must be read (or
// is skipped) before the next entry is parsed, so only one chunk of the
// layer is in memory at a time. tar-stream parses ustar, PAX extended
// headers (path, linkpath, size) and GNU long names ('L', 'K'); PAX uid,
// gid and mtime are applied here. Any parse failure, including a tar cut
// short, becomes LAYER_CORRUPT naming the layer.
import type { Readable } from "node:stream";
import { extract, type Header } from "tar-stream";
import { MegaliftError, isMegaliftError } from "../../errors.js";
import { normalizeTarName } from "./paths.js";
import type { EntryType } from "./types.js";

export interface TarEntry {
  /** The name as stored in the tar (after PAX / GNU long-name replacement). */
  readonly name: string;
  /** Absolute normalised path: "/", "/usr/bin/ls". */
  readonly path: string;
  readonly type: EntryType;
  /** mode & 0o7777 */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes of the body (regular files; 0 otherwise). */
  readonly size: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
  /** symlink: the target as stored; hardlink: the normalised absolute path it links to. */
  readonly linkTarget?: string;
  readonly devMajor?: number;
  readonly devMinor?: number;
  /** The entry's bytes; read it before asking for the next entry (or it is skipped). */
  readonly body: AsyncIterable<Uint8Array>;
}

/** An entry stream as tar-stream yields it (a streamx Readable of the entry's bytes). */
type TarSourceEntry = AsyncIterable<Uint8Array> & { readonly header: Header };

/** Tar type → entry type; tar-stream decodes typeflags it does not know (GNU sparse 'S', …) as null. */
const ENTRY_TYPE: Partial<Record<string, EntryType>> = {
  file: "file",
  "contiguous-file": "file", // POSIX ustar '7': a regular file
  link: "hardlink",
  symlink: "symlink",
  directory: "directory",
  "character-device": "char",
  "block-device": "block",
  fifo: "fifo",
};

/**
 * The entries of `tar`, in archive order. `layerLabel` names the layer in
 * errors ("layer sha256:…"). Throws LAYER_CORRUPT for a bad or truncated
 * tar, PATH_ESCAPE for an entry name or hardlink target outside the root;
 * an error of `tar` itself that is already a MegaliftError passes through.
 */
export async function* readTarEntries(
  tar: Readable,
  layerLabel: string,
): AsyncGenerator<TarEntry, void, undefined> {
  const extractor = extract();
  let sourceError: unknown;
  const toLayerError = (err: unknown): MegaliftError => {
    const cause = sourceError ?? err;
    if (isMegaliftError(cause)) return cause;
    const reason = cause instanceof Error ? cause.message : String(cause);
    if (sourceError !== undefined) {
      return new MegaliftError("IO", `reading ${layerLabel} failed: ${reason}`, { cause });
    }
    return new MegaliftError(
      "LAYER_CORRUPT",
      `${layerLabel} is truncated or not a valid tar (${reason})`,
      { cause },
    );
  };

  // Feed the extractor from `tar`, honouring its back-pressure.
  void (async () => {
    try {
      for await (const chunk of tar as AsyncIterable<Uint8Array>) {
        if (extractor.destroying) return;
        if (!extractor.write(chunk)) await drainedOrClosed(extractor);
      }
      extractor.end(undefined);
    } catch (err) {
      sourceError = err;
      extractor.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  })();

  const entries = extractor[Symbol.asyncIterator]();
  try {
    while (true) {
      let next: IteratorResult<TarSourceEntry>;
      try {
        next = (await entries.next()) as IteratorResult<TarSourceEntry>;
      } catch (err) {
        throw toLayerError(err);
      }
      if (next.done) return;
      const source = next.value;
      const body = new EntryBody(source, toLayerError);
      yield toTarEntry(source.header, body, layerLabel);
      await body.drain();
    }
  } finally {
    if (!extractor.destroyed) extractor.destroy();
    if (!tar.destroyed) tar.destroy();
  }
}

function toTarEntry(header: Header, body: EntryBody, layerLabel: string): TarEntry {
  const what = `${layerLabel} entry ${JSON.stringify(header.name)}`;
  const rawType = header.type as string | null;
  const type = rawType === null ? undefined : ENTRY_TYPE[rawType];
  if (type === undefined) {
    throw new MegaliftError(
      "LAYER_CORRUPT",
      `${what}: unsupported tar entry type ${rawType ?? "(unknown typeflag)"}`,
    );
  }
  const pax = paxRecords(header.pax);
  const entry = {
    name: header.name,
    path: normalizeTarName(header.name, what),
    type,
    mode: header.mode & 0o7777,
    uid: paxNumber(pax.uid) ?? header.uid,
    gid: paxNumber(pax.gid) ?? header.gid,
    size: type === "file" ? header.size : 0,
    mtime: Math.floor(paxNumber(pax.mtime) ?? header.mtime.getTime() / 1000),
    body,
  };
  switch (type) {
    case "hardlink":
      return {
        ...entry,
        linkTarget: normalizeTarName(header.linkname ?? "", `${what} (hardlink target)`),
      };
    case "symlink":
      return { ...entry, linkTarget: header.linkname ?? "" };
    case "char":
    case "block":
      return { ...entry, devMajor: header.devmajor, devMinor: header.devminor };
    default:
      return entry;
  }
}

/** PAX extended header records (POSIX pax "keyword=value"), as tar-stream decoded them. */
function paxRecords(pax: unknown): Readonly<Record<string, string | undefined>> {
  return typeof pax === "object" && pax !== null ? (pax as Record<string, string>) : {};
}

function paxNumber(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** Resolves when a streamx writable drains or is closed (so a destroyed one never hangs us). */
function drainedOrClosed(stream: ReturnType<typeof extract>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}

/**
 * One entry's bytes. tar-stream's entry stream must be read to its end
 * before the archive can advance (destroying it early would lose the
 * position), so `drain()` reads whatever the consumer left.
 */
class EntryBody implements AsyncIterable<Uint8Array> {
  private iterator: AsyncIterator<Uint8Array> | undefined;
  private finished = false;

  constructor(
    private readonly source: AsyncIterable<Uint8Array>,
    private readonly toLayerError: (err: unknown) => MegaliftError,
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.chunks();
  }

  async drain(): Promise<void> {
    while (!this.finished) await this.nextChunk();
  }

  private async *chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    while (true) {
      const chunk = await this.nextChunk();
      if (chunk === undefined) return;
      yield chunk;
    }
  }

  private async nextChunk(): Promise<Uint8Array | undefined> {
    if (this.finished) return undefined;
    this.iterator ??= this.source[Symbol.asyncIterator]();
    let next: IteratorResult<Uint8Array>;
    try {
      next = await this.iterator.next();
    } catch (err) {
      this.finished = true;
      throw this.toLayerError(err);
    }
    if (next.done) {
      this.finished = true;
      return undefined;
    }
    return next.value;
  }
}
