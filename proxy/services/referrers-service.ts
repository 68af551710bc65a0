// The referrers API (distribution-spec "Listing Referrers"): always 200 with
// an OCI image index, filtered by artifactType when asked. The proxy holds
// no referrers until signing exists (the sign stage publishes signatures as
// referrers), so the list is empty; the filter is still reported as applied.
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

export class ReferrersService {
  /** The descriptors that refer to `subject`, optionally only those of `artifactType`. */
  async list(_subject: Digest, artifactType: string | undefined): Promise<ReferrersReply> {
    const known: readonly Descriptor[] = [];
    const manifests =
      artifactType === undefined ? known : known.filter((d) => d.artifactType === artifactType);
    return {
      index: { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests },
      filtersApplied: artifactType === undefined ? [] : ["artifactType"],
    };
  }
}
