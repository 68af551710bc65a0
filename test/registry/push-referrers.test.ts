// The referrers API client (distribution-spec 1.1 "Listing Referrers"): pages
// followed through Link, the artifactType filter applied again on our side,
// anything but 200 on the first page read as "no referrers API", and a next
// page on another origin refused.
import { afterEach, describe, expect, it } from "vitest";
import { isMegaliftError } from "../../src/errors.js";
import { Digest } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/media-types.js";
import { createPushDispatch } from "../../src/registry/push-dispatch.js";
import { listReferrers } from "../../src/registry/referrers.js";
import { sendError, startServer, type FakeServer } from "./fake-registry.js";

const SUBJECT = Digest.of("subject");
const BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json";
let server: FakeServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

function entry(text: string, artifactType: string) {
  return {
    mediaType: MediaType.OciManifest,
    digest: Digest.of(text).toString(),
    size: 1,
    artifactType,
  };
}

async function list(answer: Parameters<typeof startServer>[0]) {
  server = await startServer(answer);
  const endpoint = { host: server.host, baseUrl: server.baseUrl };
  const dispatch = createPushDispatch({ endpoint, retry: { attempts: 1 } });
  return listReferrers(dispatch, endpoint, "team/app", SUBJECT, BUNDLE);
}

describe("listReferrers", () => {
  it("follows Link pages and keeps only the asked artifactType", async () => {
    const found = await list((req, res) => {
      const page2 = req.url?.includes("page=2") ?? false;
      res.writeHead(200, {
        "content-type": MediaType.OciIndex,
        ...(page2
          ? {}
          : { link: `</v2/team/app/referrers/${SUBJECT.toString()}?page=2>; rel="next"` }),
      });
      const manifests = page2
        ? [entry("b", BUNDLE)]
        : [entry("a", BUNDLE), entry("sbom", "application/spdx+json")];
      res.end(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }));
    });
    expect(found?.map((d) => d.digest)).toEqual([
      Digest.of("a").toString(),
      Digest.of("b").toString(),
    ]);
    expect(server?.requests[0]?.url).toBe(
      `/v2/team/app/referrers/${SUBJECT.toString()}?artifactType=${encodeURIComponent(BUNDLE)}`,
    );
  });

  it("answers undefined when the registry has no referrers API (404)", async () => {
    expect(await list((_req, res) => sendError(res, 404, "NAME_UNKNOWN"))).toBeUndefined();
  });

  it("refuses a next page on another origin", async () => {
    const err = await list((_req, res) => {
      res.writeHead(200, { link: `<http://elsewhere.test/v2/next>; rel="next"` });
      res.end(JSON.stringify({ schemaVersion: 2, manifests: [] }));
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isMegaliftError(err, "UPSTREAM_UNAVAILABLE")).toBe(true);
  });
});
