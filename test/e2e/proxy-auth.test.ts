// The proxy authenticates to its upstreams with the credentials in its
// config: Basic to an htpasswd-protected distribution, and the Bearer token
// flow to a distribution using `auth: token` with a token server. The two
// upstreams hold different images under the same name, and containerd's
// `?ns=` decides which one answers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startContainerd, writeMirrorHostsDir, type Containerd } from "./harness/containerd.js";
import { startDistribution, type Distribution } from "./harness/distribution.js";
import { startProxy, type Proxy } from "./harness/proxy.js";
import { Skopeo } from "./harness/skopeo.js";
import { Teardown } from "./harness/teardown.js";
import {
  layoutDigest,
  sha256,
  writeSingleLayerImage,
  type SingleLayerImage,
} from "./harness/test-images.js";
import { startTokenServer, type TokenServer } from "./harness/token-server.js";

const credentials = { username: "megalift-proxy", password: "e2e-upstream-secret" };
const BASIC_HOST = "basic.e2e.test";
const TOKEN_HOST = "token.e2e.test";
const APP = "library/app:v1";

describe("proxy to authenticated upstreams", () => {
  const teardown = new Teardown();
  let skopeo: Skopeo;
  let tokens: TokenServer;
  let basic: Distribution;
  let bearer: Distribution;
  let basicImage: SingleLayerImage;
  let bearerImage: SingleLayerImage;
  let proxy: Proxy;

  beforeAll(async () => {
    skopeo = new Skopeo(teardown);
    tokens = await startTokenServer(credentials, teardown);
    [basic, bearer] = await Promise.all([
      startDistribution(teardown, { kind: "htpasswd", ...credentials }),
      startDistribution(teardown, { kind: "token", tokenServer: tokens }),
    ]);
    const content = (who: string) => [{ name: "etc/" }, { name: "etc/upstream", content: who }];
    basicImage = await writeSingleLayerImage(teardown.tempDir("basic"), "v1", content("basic"));
    bearerImage = await writeSingleLayerImage(teardown.tempDir("bearer"), "v1", content("bearer"));
    expect(basicImage.manifestDigest).not.toBe(bearerImage.manifestDigest);
    await skopeo.push(basicImage, basic.host, "library/app", { credentials });
    await skopeo.push(bearerImage, bearer.host, "library/app", { credentials });
    proxy = await startProxy(
      {
        defaultUpstream: BASIC_HOST,
        upstreams: {
          [BASIC_HOST]: { url: basic.url, credentials },
          [TOKEN_HOST]: { url: bearer.url, credentials },
        },
      },
      teardown,
    );
  }, 300_000);
  afterAll(() => teardown.run());

  it("skopeo pulls from the htpasswd upstream (the default) without credentials of its own", async () => {
    const dir = teardown.tempDir("pull");
    await skopeo.copyOk(`docker://${proxy.host}/${APP}`, `oci:${dir}:v1`);
    expect(layoutDigest(dir, "v1")).toBe(basicImage.manifestDigest);
  });

  it("answers ?ns= requests from the upstream of that host", async () => {
    for (const [ns, image] of [
      [BASIC_HOST, basicImage],
      [TOKEN_HOST, bearerImage],
    ] as const) {
      const res = await fetch(`${proxy.url}/v2/library/app/manifests/v1?ns=${ns}`, {
        headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
      });
      const body = Buffer.from(await res.arrayBuffer());
      expect(res.status, ns).toBe(200);
      expect(res.headers.get("docker-content-digest"), ns).toBe(image.manifestDigest);
      expect(sha256(body), ns).toBe(image.manifestDigest);
    }
  });

  it("got its tokens from the token server with its configured credentials", () => {
    const granted = tokens.requests().filter((r) => r.authorized);
    expect(granted.some((r) => r.scopes.includes("repository:library/app:pull"))).toBe(true);
  });

  describe("ctr pulls by registry host through one proxy", () => {
    let containerd: Containerd;
    let hostsDir: string;
    beforeAll(async () => {
      containerd = await startContainerd(teardown);
      hostsDir = teardown.tempDir("hosts");
      writeMirrorHostsDir(hostsDir, BASIC_HOST, proxy.url);
      writeMirrorHostsDir(hostsDir, TOKEN_HOST, proxy.url);
    });

    it.each([
      [BASIC_HOST, "htpasswd", () => basicImage],
      [TOKEN_HOST, "token", () => bearerImage],
    ])("%s (the %s upstream)", async (host, _kind, image) => {
      const ref = `${host}/${APP}`;
      const pulled = await containerd.pull(ref, { hostsDir, namespace: "auth" });
      expect(pulled.status, pulled.stderr).toBe(0);
      expect(await containerd.imageDigest(ref, "auth")).toBe(image().manifestDigest);
      const layer = await fetch(
        `${proxy.url}/v2/library/app/blobs/${image().layer.digest}?ns=${host}`,
      );
      expect(layer.status).toBe(200);
      expect(sha256(Buffer.from(await layer.arrayBuffer()))).toBe(image().layer.digest);
    });
  });

  it("the upstreams refuse the same pulls without credentials", async () => {
    for (const upstream of [basic, bearer]) {
      await expect(skopeo.rawManifest(`${upstream.host}/${APP}`)).rejects.toThrow(
        /unauthorized|authentication required/i,
      );
    }
  });
});
