// Reads the tarball `docker save` writes (both the classic layout with
// <id>/layer.tar members and the Docker 25+ layout with blobs/sha256/…) as an
// image source. The archive is indexed once; its manifest.json names each
// image's config and layers. An OCI image manifest is synthesised for the
// chosen image so it has a digest, and layers are read by byte range.
import { createHash } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";
import { posix } from "node:path";
import { Readable } from "node:stream";
import { isMegaliftError, MegaliftError } from "../errors.js";
import { Digest } from "./digest.js";
import {
  loadImageOrIndex,
  MAX_CONFIG_BYTES,
  selectPlatformImage,
  type BlobReader,
} from "./blob-image.js";
import type { Image, ImageOrIndex } from "./image.js";
import { sniffCompression } from "./layer.js";
import { MediaType, type LayerCompression } from "./media-types.js";
import { formatReference, normaliseDockerTag } from "./reference.js";
import { parseConfigBytes, parseJsonBytes, validateDocument } from "./schema.js";
import type { ImageSource, SourceReference } from "./source.js";
import { indexTar, normaliseMemberName, type TarMember } from "./tar-index.js";
import type { Descriptor, ImageManifest } from "./types.js";

export type DockerArchiveReference = Extract<SourceReference, { transport: "docker-archive" }>;

/** One entry of the archive's manifest.json. */
interface ArchiveImageEntry {
  readonly Config: string;
  readonly RepoTags?: readonly string[] | null;
  readonly Layers: readonly string[];
}

/** A byte range of the archive, or bytes held in memory. */
type BlobLocation =
  { readonly offset: number; readonly size: number } | { readonly bytes: Uint8Array };

const LAYER_MEDIA_TYPE: Record<LayerCompression, string> = {
  none: MediaType.OciLayerTar,
  gzip: MediaType.OciLayerGzip,
  zstd: MediaType.OciLayerZstd,
};

const MAX_SYMLINK_HOPS = 40;

class ArchiveBlobReader implements BlobReader {
  readonly blobs = new Map<string, BlobLocation>();

  constructor(
    private readonly file: string,
    private readonly where: string,
  ) {}

  async readBlob(digest: Digest): Promise<Readable> {
    const location = this.locate(digest);
    if ("bytes" in location) return Readable.from([Buffer.from(location.bytes)]);
    if (location.size === 0) return Readable.from([]);
    const handle = await open(this.file, "r").catch((err: unknown) => {
      throw new MegaliftError("IO", `cannot read ${this.where}: ${String(err)}`, { cause: err });
    });
    return handle.createReadStream({
      start: location.offset,
      end: location.offset + location.size - 1,
    });
  }

  async readBlobBytes(digest: Digest, maxSize: number): Promise<Uint8Array> {
    const location = this.locate(digest);
    if ("bytes" in location) return location.bytes;
    if (location.size > maxSize) {
      throw new MegaliftError(
        "MANIFEST_INVALID",
        `blob ${digest.toString()} in ${this.where} is too large`,
      );
    }
    const handle = await open(this.file, "r").catch((err: unknown) => {
      throw new MegaliftError("IO", `cannot read ${this.where}: ${String(err)}`, { cause: err });
    });
    try {
      const buffer = Buffer.alloc(location.size);
      const { bytesRead } = await handle.read(buffer, 0, location.size, location.offset);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  private locate(digest: Digest): BlobLocation {
    const location = this.blobs.get(digest.toString());
    if (!location)
      throw new MegaliftError("BLOB_UNKNOWN", `blob ${digest.toString()} is not in ${this.where}`);
    return location;
  }
}

/** The regular-file member `name` names, following symlinks and hardlinks inside the archive. */
function resolveMember(members: Map<string, TarMember>, name: string, where: string): TarMember {
  let current = normaliseMemberName(name);
  for (let hop = 0; hop <= MAX_SYMLINK_HOPS; hop++) {
    const member = members.get(current);
    if (!member)
      throw new MegaliftError(
        "MANIFEST_INVALID",
        `${where}: manifest.json names ${name}, which is not in the archive`,
      );
    if (member.type === "file") return member;
    if (member.type === "symlink" && member.linkName !== undefined) {
      // classic docker save links repeated layers: <id>/layer.tar -> ../<other>/layer.tar
      current = normaliseMemberName(posix.join(posix.dirname(current), member.linkName));
    } else if (member.type === "hardlink" && member.linkName !== undefined) {
      current = normaliseMemberName(member.linkName);
    } else {
      throw new MegaliftError(
        "MANIFEST_INVALID",
        `${where}: ${name} is not a regular file in the archive`,
      );
    }
  }
  throw new MegaliftError("MANIFEST_INVALID", `${where}: too many links resolving ${name}`);
}

async function readMember(
  handle: FileHandle,
  member: TarMember,
  maxSize: number,
  where: string,
): Promise<Buffer> {
  if (member.size > maxSize) {
    throw new MegaliftError(
      "MANIFEST_INVALID",
      `${where}: ${member.name} is larger than ${maxSize} bytes`,
    );
  }
  const buffer = Buffer.alloc(member.size);
  await handle.read(buffer, 0, member.size, member.offset);
  return buffer;
}

/** Picks the manifest.json entry for REF: a RepoTag, @N, or (none given) the first image. */
function pickEntry(
  entries: readonly ArchiveImageEntry[],
  ref: string | undefined,
  where: string,
): ArchiveImageEntry {
  if (ref === undefined) {
    const first = entries[0];
    if (!first) throw new MegaliftError("MANIFEST_UNKNOWN", `${where} holds no images`);
    return first;
  }
  if (ref.startsWith("@")) {
    const n = Number(ref.slice(1));
    const entry = entries[n];
    if (!entry)
      throw new MegaliftError(
        "MANIFEST_UNKNOWN",
        `${where} has no image ${ref} (it holds ${entries.length})`,
      );
    return entry;
  }
  const wanted = normaliseDockerTag(ref);
  const entry = entries.find((e) =>
    (e.RepoTags ?? []).some((t) => normaliseDockerTag(t) === wanted),
  );
  if (!entry) {
    const tags = entries.flatMap((e) => e.RepoTags ?? []);
    throw new MegaliftError(
      "MANIFEST_UNKNOWN",
      `${ref} not found in ${where} (tags: ${tags.length > 0 ? tags.join(", ") : "none"})`,
    );
  }
  return entry;
}

/** The digest of an archive member's bytes: from a blobs/<alg>/<hex> name, else by hashing. */
async function memberDigest(handle: FileHandle, member: TarMember): Promise<Digest> {
  const named = /(?:^|\/)blobs\/(sha256|sha512)\/([a-f0-9]+)$/.exec(member.name);
  if (named && Digest.isValid(`${named[1]}:${named[2]}`))
    return Digest.parse(`${named[1]}:${named[2]}`);
  const hash = createHash("sha256");
  const chunk = Buffer.alloc(1024 * 1024);
  for (let done = 0; done < member.size;) {
    const { bytesRead } = await handle.read(
      chunk,
      0,
      Math.min(chunk.length, member.size - done),
      member.offset + done,
    );
    if (bytesRead === 0) break;
    hash.update(chunk.subarray(0, bytesRead));
    done += bytesRead;
  }
  return Digest.parse(`sha256:${hash.digest("hex")}`);
}

/**
 * Indexes the archive and synthesises an OCI manifest for the chosen image.
 * Layers are media-typed by their magic bytes; a plain tar's digest is its
 * diff_id (config.md), a compressed one's comes from its blobs/ name or a hash.
 */
async function loadArchiveImage(ref: DockerArchiveReference, where: string): Promise<ImageOrIndex> {
  const handle = await open(ref.file, "r").catch((err: unknown) => {
    const missing = (err as { code?: unknown }).code === "ENOENT";
    throw new MegaliftError(
      "IO",
      `cannot open ${where}: ${missing ? `file ${ref.file} does not exist` : String(err)}`,
      {
        cause: err,
      },
    );
  });
  try {
    const members = await indexTar(handle, where);
    const manifestMember = members.get("manifest.json");
    if (!manifestMember)
      throw new MegaliftError(
        "MANIFEST_INVALID",
        `${where} has no manifest.json (is it a docker save archive?)`,
      );
    const what = `manifest.json of ${where}`;
    const entries = parseJsonBytes(
      await readMember(handle, manifestMember, MAX_CONFIG_BYTES, where),
      what,
    );
    validateDocument("docker-archive-manifest", entries, what);
    const entry = pickEntry(entries as ArchiveImageEntry[], ref.ref, where);

    const reader = new ArchiveBlobReader(ref.file, where);
    const configBytes = await readMember(
      handle,
      resolveMember(members, entry.Config, where),
      MAX_CONFIG_BYTES,
      where,
    );
    const configDigest = Digest.of(configBytes);
    const config = parseConfigBytes(configBytes, `config ${entry.Config} of ${where}`);
    reader.blobs.set(configDigest.toString(), { bytes: configBytes });
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== entry.Layers.length) {
      throw new MegaliftError(
        "MANIFEST_INVALID",
        `${where}: manifest.json lists ${entry.Layers.length} layers but the config has ${diffIds.length} diff_ids`,
      );
    }
    const layers: Descriptor[] = [];
    for (const [i, name] of entry.Layers.entries()) {
      const member = resolveMember(members, name, where);
      const head = Buffer.alloc(Math.min(4, member.size));
      await handle.read(head, 0, head.length, member.offset);
      const compression = sniffCompression(head);
      const digest =
        compression === "none"
          ? Digest.parse(diffIds[i] ?? "")
          : await memberDigest(handle, member);
      reader.blobs.set(digest.toString(), { offset: member.offset, size: member.size });
      layers.push({
        mediaType: LAYER_MEDIA_TYPE[compression],
        digest: digest.toString(),
        size: member.size,
      });
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: {
        mediaType: MediaType.OciConfig,
        digest: configDigest.toString(),
        size: configBytes.length,
      },
      layers,
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const manifestDigest = Digest.of(manifestBytes);
    reader.blobs.set(manifestDigest.toString(), { bytes: manifestBytes });
    const descriptor = {
      mediaType: MediaType.OciManifest,
      digest: manifestDigest.toString(),
      size: manifestBytes.length,
    };
    return await loadImageOrIndex(reader, descriptor, where);
  } catch (err) {
    if (isMegaliftError(err)) throw err;
    throw new MegaliftError(
      "IO",
      `cannot read ${where}: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    );
  } finally {
    await handle.close();
  }
}

class DockerArchiveSource implements ImageSource {
  constructor(
    readonly reference: DockerArchiveReference,
    readonly display: string,
    private readonly resolved: ImageOrIndex,
  ) {}

  async resolve(): Promise<ImageOrIndex> {
    return this.resolved;
  }

  async image(platform?: { os: string; architecture: string }): Promise<Image> {
    return selectPlatformImage(this.resolved, this.display, platform);
  }

  async close(): Promise<void> {}
}

/** Opens a `docker save` tarball as an image source (IO if unreadable, MANIFEST_UNKNOWN if REF is absent). */
export async function openDockerArchiveSource(
  ref: DockerArchiveReference,
  display = formatReference(ref),
): Promise<ImageSource> {
  return new DockerArchiveSource(ref, display, await loadArchiveImage(ref, display));
}
