// JSON shapes of OCI image-spec v1.1 documents and Docker schema2 documents.
// Validated against schemas/ (see schema.ts) before they are trusted.

export type Annotations = Readonly<Record<string, string>>;

/** image-spec descriptor.md */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly urls?: readonly string[];
  readonly annotations?: Annotations;
  readonly data?: string;
  readonly artifactType?: string;
  readonly platform?: Platform;
}

/** image-index.md platform object */
export interface Platform {
  readonly architecture: string;
  readonly os: string;
  readonly "os.version"?: string;
  readonly "os.features"?: readonly string[];
  readonly variant?: string;
  readonly features?: readonly string[];
}

/** image-spec manifest.md (also covers Docker schema2, which has the same shape minus some fields) */
export interface ImageManifest {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Annotations;
}

/** image-spec image-index.md (also covers Docker manifest lists) */
export interface ImageIndexManifest {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly manifests: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Annotations;
}

/** image-spec config.md */
export interface ImageConfig {
  readonly created?: string;
  readonly author?: string;
  readonly architecture: string;
  readonly os: string;
  readonly "os.version"?: string;
  readonly "os.features"?: readonly string[];
  readonly variant?: string;
  readonly config?: ContainerConfig;
  readonly rootfs: { readonly type: "layers"; readonly diff_ids: readonly string[] };
  readonly history?: readonly HistoryEntry[];
}

export interface ContainerConfig {
  readonly User?: string;
  readonly ExposedPorts?: Readonly<Record<string, object>>;
  readonly Env?: readonly string[];
  readonly Entrypoint?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly Volumes?: Readonly<Record<string, object>>;
  readonly WorkingDir?: string;
  readonly Labels?: Readonly<Record<string, string>> | null;
  readonly StopSignal?: string;
}

export interface HistoryEntry {
  readonly created?: string;
  readonly created_by?: string;
  readonly author?: string;
  readonly comment?: string;
  readonly empty_layer?: boolean;
}

/** image-layout.md: index.json at the layout root is an image index. */
export const OCI_LAYOUT_VERSION = "1.0.0";
/** The annotation that names a tag in an OCI layout's index.json. */
export const ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name";
