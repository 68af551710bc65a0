// Builds tar archives in memory for tests, with tar-stream (ustar + PAX for long names).
import { pack, type Header } from "tar-stream";
import { gzipSync } from "node:zlib";

export interface TarEntrySpec {
  readonly name: string;
  readonly type?: Header["type"];
  readonly content?: string | Uint8Array;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly linkname?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
  readonly mtime?: Date;
}

/** A tar archive holding `entries` in order. */
export async function buildTar(entries: readonly TarEntrySpec[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on("data", (c: unknown) => void chunks.push(c as Buffer));
  const finished = new Promise<void>((resolve, reject) => {
    p.on("end", resolve);
    p.on("error", reject);
  });
  for (const e of entries) {
    const type = e.type ?? (e.content !== undefined ? "file" : "directory");
    const body = e.content === undefined ? undefined : Buffer.from(e.content);
    const header: Partial<Header> & Pick<Header, "name"> = {
      name: e.name,
      type,
      mode: e.mode ?? (type === "directory" ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? new Date(0),
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      ...(e.devmajor !== undefined ? { devmajor: e.devmajor, devminor: e.devminor ?? 0 } : {}),
      ...(type === "file" ? { size: body?.length ?? 0 } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (type === "file") p.entry(header, body ?? Buffer.alloc(0), done);
      else p.entry(header, done);
    });
  }
  p.finalize();
  await finished;
  return Buffer.concat(chunks);
}

export async function buildTarGz(entries: readonly TarEntrySpec[]): Promise<Buffer> {
  return gzipSync(await buildTar(entries));
}
