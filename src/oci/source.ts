// Image sources named with skopeo-style transports:
//   oci:DIR[:TAG|@DIGEST]      an OCI image layout directory (read and write)
//   docker-archive:FILE[:REF]  the tarball `docker save` writes (read)
//   docker://HOST/NAME[:TAG|@DIGEST]  a registry (arrives with the registry client)
// A transport turns a parsed reference into an ImageSource; the CLI and the
// stages only ever see ImageSource.
import type { Image, ImageOrIndex } from "./image.js";
import type { Platform } from "./types.js";

export type TransportName = "oci" | "docker-archive" | "docker";

/** A parsed source or destination reference. */
export type SourceReference =
  | {
      readonly transport: "oci";
      readonly dir: string;
      readonly tag?: string;
      readonly digest?: string;
    }
  | { readonly transport: "docker-archive"; readonly file: string; readonly ref?: string }
  | {
      readonly transport: "docker";
      readonly registry: string;
      readonly repository: string;
      readonly tag?: string;
      readonly digest?: string;
    };

export interface ImageSource {
  readonly reference: SourceReference;
  /** The reference as the user wrote it, for messages. */
  readonly display: string;
  /** What the reference names: an image, or an index of images. MANIFEST_UNKNOWN if absent. */
  resolve(): Promise<ImageOrIndex>;
  /**
   * The image for `platform` (linux/amd64 by default): the image itself, or
   * the matching child of an index. MANIFEST_UNKNOWN if the index has none.
   */
  image(platform?: Pick<Platform, "os" | "architecture">): Promise<Image>;
  close(): Promise<void>;
}
