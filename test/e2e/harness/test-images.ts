// The images end-to-end tests push upstream, as OCI layouts: the Debian 12
// minbase image (built once by scripts/build-minbase.sh into .cache/minbase)
// and small images written here — a two-platform index (linux/amd64,
// linux/arm64) and single-layer images of chosen content.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { packageRoot } from "../../../src/package-root.js";
import { buildTar, type TarEntrySpec } from "../../helpers/tar.js";

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: { readonly architecture: string; readonly os: string };
  readonly annotations?: Record<string, string>;
}

/** An OCI image layout on disk and the tag it holds. */
export interface LayoutImage {
  readonly layoutDir: string;
  readonly tag: string;
  /** `oci:DIR:TAG`, for skopeo. */
  readonly reference: string;
}

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";

export const sha256 = (data: Uint8Array): string =>
  "sha256:" + createHash("sha256").update(data).digest("hex");

/** Builds (once per machine) and returns the Debian 12 minbase image. */
export function minbaseImage(): LayoutImage {
  const dest = process.env.MEGALIFT_MINBASE_DIR ?? join(packageRoot(), ".cache", "minbase");
  const layoutDir = join(dest, "oci");
  if (!existsSync(join(layoutDir, "index.json"))) {
    execFileSync("bash", [join(packageRoot(), "scripts", "build-minbase.sh"), dest], {
      stdio: "inherit",
    });
  }
  return { layoutDir, tag: "bookworm", reference: `oci:${layoutDir}:bookworm` };
}

/** Writes blobs into one OCI layout directory. */
class LayoutWriter {
  constructor(readonly dir: string) {
    mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
    writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  }

  blob(mediaType: string, bytes: Uint8Array): Descriptor {
    const digest = sha256(bytes);
    writeFileSync(join(this.dir, "blobs", "sha256", digest.slice("sha256:".length)), bytes);
    return { mediaType, digest, size: bytes.length };
  }

  json(mediaType: string, value: unknown): Descriptor {
    return this.blob(mediaType, Buffer.from(JSON.stringify(value)));
  }

  /** A one-layer image manifest; `level` 0 stores gzip without compressing (random data). */
  async image(
    platform: { architecture: string; os: string },
    files: readonly TarEntrySpec[],
    level = 6,
  ): Promise<{
    readonly manifest: Descriptor;
    readonly config: Descriptor;
    readonly layer: Descriptor;
  }> {
    const tar = await buildTar(files);
    const layer = this.blob(OCI_LAYER_GZIP, gzipSync(tar, { level }));
    const config = this.json(OCI_CONFIG, {
      architecture: platform.architecture,
      os: platform.os,
      config: { Cmd: ["/hello"] },
      rootfs: { type: "layers", diff_ids: [sha256(tar)] },
      history: [{ created_by: "megalift e2e test image" }],
    });
    const manifest = this.json(OCI_MANIFEST, {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config,
      layers: [layer],
    });
    return { manifest: { ...manifest, platform }, config, layer };
  }

  /** index.json naming `tag` for `target`. */
  tag(tag: string, target: Descriptor): LayoutImage {
    const { platform: _platform, ...plain } = target;
    const entry = { ...plain, annotations: { "org.opencontainers.image.ref.name": tag } };
    writeFileSync(
      join(this.dir, "index.json"),
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [entry] }),
    );
    return { layoutDir: this.dir, tag, reference: `oci:${this.dir}:${tag}` };
  }
}

export interface MultiArchImage extends LayoutImage {
  readonly indexDigest: string;
  readonly manifestDigests: { readonly amd64: string; readonly arm64: string };
  /** Configs and layers of both platforms. */
  readonly blobDigests: readonly string[];
}

/**
 * A linux/amd64 + linux/arm64 index tagged "v1". Each platform's image holds
 * one text file naming its architecture: the arm64 one needs no real binary,
 * and pulling, not running, is what the tests check.
 */
export async function writeMultiArchImage(dir: string): Promise<MultiArchImage> {
  const writer = new LayoutWriter(dir);
  const fileFor = (arch: string): TarEntrySpec[] => [
    { name: "etc/" },
    { name: "etc/megalift-e2e-platform", content: `linux/${arch}\n` },
  ];
  const amd64 = await writer.image({ architecture: "amd64", os: "linux" }, fileFor("amd64"));
  const arm64 = await writer.image({ architecture: "arm64", os: "linux" }, fileFor("arm64"));
  const index = writer.json(OCI_INDEX, {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [amd64.manifest, arm64.manifest],
  });
  return {
    ...writer.tag("v1", index),
    indexDigest: index.digest,
    manifestDigests: { amd64: amd64.manifest.digest, arm64: arm64.manifest.digest },
    blobDigests: [amd64, arm64].flatMap((i) => [i.config.digest, i.layer.digest]),
  };
}

export interface SingleLayerImage extends LayoutImage {
  readonly manifestDigest: string;
  readonly layer: Descriptor;
}

/** A linux/amd64 image whose one layer holds `files`, tagged `tag`. */
export async function writeSingleLayerImage(
  dir: string,
  tag: string,
  files: readonly TarEntrySpec[],
  gzipLevel = 6,
): Promise<SingleLayerImage> {
  const writer = new LayoutWriter(dir);
  const { manifest, layer } = await writer.image(
    { architecture: "amd64", os: "linux" },
    files,
    gzipLevel,
  );
  return { ...writer.tag(tag, manifest), manifestDigest: manifest.digest, layer };
}

/** The manifest digest an OCI layout names with `tag` (what a pull into it recorded). */
export function layoutDigest(layoutDir: string, tag: string): string {
  const index = JSON.parse(readFileSync(join(layoutDir, "index.json"), "utf8")) as {
    manifests: Descriptor[];
  };
  const entry = index.manifests.find(
    (m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag,
  );
  if (!entry) throw new Error(`${layoutDir} has no tag ${tag}`);
  return entry.digest;
}

/** True when the layout holds blob `digest` with exactly those bytes. */
export function layoutHasBlob(layoutDir: string, digest: string): boolean {
  const path = join(layoutDir, "blobs", ...digest.split(":"));
  return existsSync(path) && sha256(readFileSync(path)) === digest;
}
