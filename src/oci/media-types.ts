// Media types of the OCI image-spec v1.1 and of Docker's schema2 formats.

export const MediaType = {
  OciManifest: "application/vnd.oci.image.manifest.v1+json",
  OciIndex: "application/vnd.oci.image.index.v1+json",
  OciConfig: "application/vnd.oci.image.config.v1+json",
  OciLayerTar: "application/vnd.oci.image.layer.v1.tar",
  OciLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  OciLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  OciLayerNondistTar: "application/vnd.oci.image.layer.nondistributable.v1.tar",
  OciLayerNondistGzip: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  OciLayerNondistZstd: "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
  OciEmpty: "application/vnd.oci.empty.v1+json",
  DockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  DockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  DockerConfig: "application/vnd.docker.container.image.v1+json",
  DockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  DockerLayerForeignGzip: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  Wasm: "application/wasm",
} as const;

export type KnownMediaType = (typeof MediaType)[keyof typeof MediaType];

/** How a layer's bytes are compressed. */
export type LayerCompression = "none" | "gzip" | "zstd";

const LAYER_COMPRESSION: Record<string, LayerCompression> = {
  [MediaType.OciLayerTar]: "none",
  [MediaType.OciLayerGzip]: "gzip",
  [MediaType.OciLayerZstd]: "zstd",
  [MediaType.OciLayerNondistTar]: "none",
  [MediaType.OciLayerNondistGzip]: "gzip",
  [MediaType.OciLayerNondistZstd]: "zstd",
  [MediaType.DockerLayerGzip]: "gzip",
  [MediaType.DockerLayerForeignGzip]: "gzip",
  // docker save writes plain tars under this media type in its manifest.json world
  "application/vnd.docker.image.rootfs.diff.tar": "none",
};

/** The compression of a layer media type, or undefined if it is not a layer type we read. */
export function layerCompression(mediaType: string): LayerCompression | undefined {
  return LAYER_COMPRESSION[mediaType];
}

export function isManifestMediaType(mediaType: string): boolean {
  return mediaType === MediaType.OciManifest || mediaType === MediaType.DockerManifest;
}

export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MediaType.OciIndex || mediaType === MediaType.DockerManifestList;
}

/** The Accept set megalift sends for manifests: every manifest and index type it reads. */
export const MANIFEST_ACCEPT: readonly string[] = [
  MediaType.OciManifest,
  MediaType.OciIndex,
  MediaType.DockerManifest,
  MediaType.DockerManifestList,
];
