// Reads what a transformed image actually holds, for comparison with what was
// signed: the manifest digest, the megabinary layer (its blob digest is
// checked as it streams, and its diff_id), the digests of the two files inside
// it, and the mapping as the manifest carries it (annotation or blob).
import { createHash } from "node:crypto";
import { extract } from "tar-stream";
import { isMegaliftError, MegaliftError } from "../errors.js";
import { mappingReference } from "../merge/mapping-annotation.js";
import { blobReaderOf } from "../oci/blob-image.js";
import { Digest } from "../oci/digest.js";
import type { Image } from "../oci/image.js";
import { MAPPING_PATH, MEGABINARY_PATH } from "../oci/mutate.js";
import type { Annotations } from "../oci/types.js";

export interface TransformedContent {
  readonly manifest: Digest;
  readonly annotations: Annotations;
  /** The megabinary layer's blob digest (the image's last layer). */
  readonly layer: Digest;
  /** sha256 of the files inside the megabinary layer. */
  readonly megabinary: Digest;
  readonly mapping: Digest;
  /** sha256 of the mapping as the manifest carries it (decoded annotation, or the blob). */
  readonly mappingCarried:
    { readonly kind: "annotation" | "blob"; readonly digest: Digest } | undefined;
  /** The dev.megalift.mapping.digest annotation, if present. */
  readonly mappingDeclared: Digest | undefined;
}

const MAX_MAPPING_BLOB = 256 * 1024 * 1024;

function mismatch(message: string, cause?: unknown): MegaliftError {
  return new MegaliftError("SIGNED_CONTENT_MISMATCH", message, { cause });
}

/** sha256 of each regular file in a tar stream, by normalised absolute path. */
async function hashTarFiles(stream: NodeJS.ReadableStream): Promise<Map<string, Digest>> {
  const files = new Map<string, Digest>();
  const reader = extract();
  const done = new Promise<void>((resolve, reject) => {
    reader.on("entry", (header, body, next) => {
      const hash = createHash("sha256");
      body.on("data", (chunk: unknown) => void hash.update(chunk as Buffer));
      body.on("end", () => {
        if (header.type === "file") {
          const path = "/" + header.name.replace(/^\.?\/+/, "");
          files.set(path, Digest.parse(`sha256:${hash.digest("hex")}`));
        }
        next();
      });
      body.on("error", reject);
      body.resume();
    });
    reader.on("finish", resolve);
    reader.on("error", reject);
    stream.on("error", reject);
  });
  stream.pipe(reader);
  await done;
  return files;
}

export async function inspectTransformedImage(image: Image): Promise<TransformedContent> {
  const manifest = await image.manifest();
  const layers = await image.layers();
  const last = layers[layers.length - 1];
  if (!last)
    throw mismatch(`image ${image.digest.toString()} has no layers, so no megabinary layer`);
  let files: Map<string, Digest>;
  try {
    files = await hashTarFiles(await last.uncompressed());
  } catch (err) {
    if (isMegaliftError(err, "DIGEST_MISMATCH") || isMegaliftError(err, "LAYER_CORRUPT")) {
      throw mismatch(
        `the megabinary layer ${last.digest.toString()} was changed: ${err.message}`,
        err,
      );
    }
    throw err;
  }
  const file = (path: string): Digest => {
    const digest = files.get(path);
    if (!digest)
      throw mismatch(
        `the last layer ${last.digest.toString()} has no ${path}: it is not a megabinary layer`,
      );
    return digest;
  };
  const reference = mappingReference(manifest.annotations);
  let mappingCarried: TransformedContent["mappingCarried"];
  if (reference.kind === "annotation") {
    mappingCarried = { kind: "annotation", digest: Digest.of(reference.bytes) };
  } else if (reference.kind === "blob") {
    const store = blobReaderOf(image);
    const bytes = store
      ? await store.readBlobBytes(reference.digest, MAX_MAPPING_BLOB).catch(() => undefined)
      : undefined;
    if (!bytes)
      throw mismatch(
        `the mapping blob ${reference.digest.toString()} named by the manifest is missing`,
      );
    mappingCarried = { kind: "blob", digest: Digest.of(bytes) };
  }
  return {
    manifest: image.digest,
    annotations: manifest.annotations ?? {},
    layer: last.digest,
    megabinary: file(MEGABINARY_PATH),
    mapping: file(MAPPING_PATH),
    mappingCarried,
    mappingDeclared: reference.kind === "none" ? undefined : reference.digest,
  };
}
