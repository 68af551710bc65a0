// Upstream selection: containerd's ?ns= (echoed as OCI-Namespace), the
// default upstream, /v2/<host>/<name> path prefixes, and Docker Hub's library/.
import { afterEach, describe, expect, it } from "vitest";
import { FakeUpstream } from "./fake-upstream.js";
import { addImage, errorCode, makeHarness, type Harness } from "./harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

function twoUpstreams() {
  const main = new FakeUpstream("registry.test");
  const other = new FakeUpstream("other.example:5000");
  return { main, other, upstreams: { "registry.test": main, "other.example:5000": other } };
}

describe("?ns= routing", () => {
  it("picks the upstream named by ns and echoes OCI-Namespace", async () => {
    const { main, other, upstreams } = twoUpstreams();
    h = await makeHarness({ upstreams });
    const mainImage = addImage(main, "app", "latest", "main layer");
    const otherImage = addImage(other, "app", "latest", "other layer");
    const viaNs = await h.request("/v2/app/manifests/latest?ns=other.example:5000");
    expect(viaNs.status).toBe(200);
    expect(viaNs.headers.get("OCI-Namespace")).toBe("other.example:5000");
    expect(viaNs.headers.get("Docker-Content-Digest")).toBe(otherImage.manifest.digest.toString());
    const viaDefault = await h.request("/v2/app/manifests/latest");
    expect(viaDefault.headers.get("OCI-Namespace")).toBeNull();
    expect(viaDefault.headers.get("Docker-Content-Digest")).toBe(
      mainImage.manifest.digest.toString(),
    );
  });

  it("echoes OCI-Namespace on errors too, and falls back to the default for unknown ns", async () => {
    h = await makeHarness();
    addImage(h.upstream, "app");
    const res = await h.request("/v2/app/manifests/missing?ns=unknown.example");
    expect(res.status).toBe(404);
    expect(res.headers.get("OCI-Namespace")).toBe("unknown.example");
    expect(h.upstream.log).toContain("getManifest app missing");
  });

  it("answers NAME_UNKNOWN when nothing names an upstream and there is no default", async () => {
    h = await makeHarness({ defaultHost: null });
    const res = await h.request("/v2/app/manifests/latest");
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe("NAME_UNKNOWN");
  });
});

describe("path-prefix routing", () => {
  it("routes /v2/<host>/<name>/… to a configured host", async () => {
    const { other, upstreams } = twoUpstreams();
    h = await makeHarness({ upstreams });
    const image = addImage(other, "team/app");
    const res = await h.request("/v2/other.example:5000/team/app/manifests/latest");
    expect(res.status).toBe(200);
    expect(res.headers.get("Docker-Content-Digest")).toBe(image.manifest.digest.toString());
    const blob = await h.request(`/v2/other.example:5000/team/app/blobs/${image.layer.toString()}`);
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(image.layerBytes);
    expect(other.log).toContain(`getBlob team/app ${image.layer.toString()}`);
  });

  it("treats a host-like first segment that is not configured as part of the name", async () => {
    h = await makeHarness();
    addImage(h.upstream, "ghcr.io/team/app");
    const res = await h.request("/v2/ghcr.io/team/app/manifests/latest");
    expect(res.status).toBe(200);
    expect(h.upstream.log).toContain("getManifest ghcr.io/team/app latest");
  });
});

describe("Docker Hub", () => {
  it("adds library/ to one-segment names, and only on docker.io", async () => {
    const hub = new FakeUpstream("docker.io");
    h = await makeHarness({ upstreams: { "docker.io": hub } });
    addImage(hub, "library/debian");
    addImage(hub, "team/app");
    expect((await h.request("/v2/debian/manifests/latest")).status).toBe(200);
    expect((await h.request("/v2/team/app/manifests/latest")).status).toBe(200);
    expect(hub.log).toEqual(["getManifest library/debian latest", "getManifest team/app latest"]);
  });

  it("does not add library/ for other registries", async () => {
    h = await makeHarness();
    addImage(h.upstream, "debian");
    expect((await h.request("/v2/debian/manifests/latest")).status).toBe(200);
    expect(h.upstream.log).toEqual(["getManifest debian latest"]);
  });
});
