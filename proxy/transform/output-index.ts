// The index the proxy serves for a transformed tag: transformImage's index
// (augmented linux/amd64 image, wasm-platform variant, mapping artifact)
// plus what became of the source's other platforms — listed unchanged when
// otherPlatforms is "passthrough", left out when "drop" — and, either way,
// annotations saying so and naming the source manifest. Written as one more
// blob of the output layout; its children are not changed, so the
// signatures of the augmented image stay valid.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Digest } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/media-types.js";
import type { Descriptor } from "../../src/oci/types.js";
import type { SourcePlan } from "./source-layout.js";

/** Annotations on the served index (dev.megalift.proxy.*). */
export const ProxyAnnotation = {
  /** The manifest the pulled tag named upstream. */
  SourceDigest: "dev.megalift.proxy.source.digest",
  /** The platform that was transformed ("linux/amd64"). */
  Transformed: "dev.megalift.proxy.platforms.transformed",
  /** Comma-separated platforms of the source index left out of this index. */
  Dropped: "dev.megalift.proxy.platforms.dropped",
  /** Comma-separated platforms listed unchanged (not transformed) in this index. */
  PassedThrough: "dev.megalift.proxy.platforms.passed-through",
} as const;

interface IndexJson {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly manifests: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Writes the served index into `layoutDir` and returns its digest. */
export async function writeServedIndex(
  layoutDir: string,
  transformedIndex: Digest,
  source: Digest,
  plan: SourcePlan,
): Promise<Digest> {
  const path = (d: Digest): string => join(layoutDir, "blobs", d.algorithm, d.hex);
  const index = JSON.parse(await readFile(path(transformedIndex), "utf8")) as IndexJson;
  const others = plan.others.map((o) => o.platform).join(",");
  const passthrough = plan.otherPlatforms === "passthrough";
  const annotations: Record<string, string> = {
    ...index.annotations,
    [ProxyAnnotation.SourceDigest]: source.toString(),
    [ProxyAnnotation.Transformed]: "linux/amd64",
    ...(others !== ""
      ? { [passthrough ? ProxyAnnotation.PassedThrough : ProxyAnnotation.Dropped]: others }
      : {}),
  };
  const served: IndexJson = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [...index.manifests, ...(passthrough ? plan.others.map((o) => o.descriptor) : [])],
    annotations: Object.fromEntries(
      Object.entries(annotations).sort(([a], [b]) => (a < b ? -1 : 1)),
    ),
  };
  const bytes = Buffer.from(JSON.stringify(served));
  const digest = Digest.of(bytes);
  await writeFile(path(digest), bytes);
  return digest;
}
