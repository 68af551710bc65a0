// The referrers API (distribution-spec "Listing Referrers"): always 200 with
// an OCI image index, filtered by artifactType when asked. The referrers the
// proxy knows are the signatures of the images it transformed (the sigstore
// bundle artifact whose subject is the augmented image); for anything else
// the list is empty. The filter is reported as applied either way.
import type { Digest } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/media-types.js";
import type { Descriptor } from "../../src/oci/types.js";

export interface ReferrersReply {
  readonly index: {
    readonly schemaVersion: 2;
    readonly mediaType: string;
    readonly manifests: readonly Descriptor[];
  };
  /** The filters applied, for the OCI-Filters-Applied header. */
  readonly filtersApplied: readonly string[];
}

/** Where referrers come from: the transform store, in transform mode. */
export interface ReferrersSource {
  referrers(subject: Digest): Promise<readonly Descriptor[]>;
}

export class ReferrersService {
  constructor(private readonly source?: ReferrersSource) {}

  /** The descriptors that refer to `subject`, optionally only those of `artifactType`. */
  async list(subject: Digest, artifactType: string | undefined): Promise<ReferrersReply> {
    const known = (await this.source?.referrers(subject)) ?? [];
    const manifests =
      artifactType === undefined ? known : known.filter((d) => d.artifactType === artifactType);
    return {
      index: { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests },
      filtersApplied: artifactType === undefined ? [] : ["artifactType"],
    };
  }
}
