// Tag listing (lexical order, n, last, Link) and the referrers API.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MediaType } from "../../src/oci/media-types.js";
import { paginate } from "../../proxy/services/tags-service.js";
import { addImage, errorCode, makeHarness, type Harness } from "./harness.js";

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
  const { manifest } = addImage(h.upstream, "team/app", "v2");
  for (const tag of ["v10", "alpha", "v1", "Beta", "latest"])
    h.upstream.tag("team/app", tag, manifest.digest);
});
afterEach(async () => {
  await h.cleanup();
});

describe("GET /v2/<name>/tags/list", () => {
  it("lists every tag in lexical order", async () => {
    const res = await h.request("/v2/team/app/tags/list");
    expect(res.status).toBe(200);
    expect(res.headers.get("Link")).toBeNull();
    expect(await res.json()).toEqual({
      name: "team/app",
      tags: ["Beta", "alpha", "latest", "v1", "v10", "v2"],
    });
  });

  it("paginates with n and last and a Link to the next page", async () => {
    const first = await h.request("/v2/team/app/tags/list?n=2");
    expect(await first.json()).toEqual({ name: "team/app", tags: ["Beta", "alpha"] });
    expect(first.headers.get("Link")).toBe('</v2/team/app/tags/list?n=2&last=alpha>; rel="next"');
    const second = await h.request("/v2/team/app/tags/list?n=2&last=alpha");
    expect(await second.json()).toEqual({ name: "team/app", tags: ["latest", "v1"] });
    const last = await h.request("/v2/team/app/tags/list?n=2&last=v1");
    expect(await last.json()).toEqual({ name: "team/app", tags: ["v10", "v2"] });
    expect(last.headers.get("Link")).toBeNull();
  });

  it("keeps ns in the Link", async () => {
    const res = await h.request("/v2/team/app/tags/list?n=1&ns=registry.test");
    expect(res.headers.get("Link")).toBe(
      '</v2/team/app/tags/list?ns=registry.test&n=1&last=Beta>; rel="next"',
    );
  });

  it("answers NAME_UNKNOWN for an unknown repository", async () => {
    const res = await h.request("/v2/nobody/tags/list");
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe("NAME_UNKNOWN");
  });

  it("paginate handles n=0 and a last past the end", () => {
    expect(paginate(["b", "a"], 0, undefined)).toEqual({ tags: [] });
    expect(paginate(["b", "a"], 5, "z")).toEqual({ tags: [] });
  });
});

describe("GET /v2/<name>/referrers/<digest>", () => {
  const subject = `sha256:${"a".repeat(64)}`;

  it("answers 200 with an empty OCI index", async () => {
    const res = await h.request(`/v2/team/app/referrers/${subject}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe(MediaType.OciIndex);
    expect(res.headers.get("OCI-Filters-Applied")).toBeNull();
    expect(await res.json()).toEqual({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [],
    });
  });

  it("reports the artifactType filter as applied", async () => {
    const res = await h.request(
      `/v2/team/app/referrers/${subject}?artifactType=application/vnd.dev.sigstore.bundle.v0.3%2Bjson`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("OCI-Filters-Applied")).toBe("artifactType");
    expect(((await res.json()) as { manifests: unknown[] }).manifests).toEqual([]);
  });
});
