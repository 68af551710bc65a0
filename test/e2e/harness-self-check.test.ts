// Checks the end-to-end harness itself, with no proxy in the way: each
// distribution flavour serves what skopeo pushed, and skopeo, ctr, podman and
// docker pull straight from it. When a proxy test fails, this says whether
// the harness or the proxy is to blame. Small images only, so it stays cheap.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startContainerd, writeMirrorHostsDir } from "./harness/containerd.js";
import { startDistribution, type Distribution } from "./harness/distribution.js";
import { startDockerd } from "./harness/dockerd.js";
import { Podman } from "./harness/podman.js";
import { Skopeo } from "./harness/skopeo.js";
import { Teardown } from "./harness/teardown.js";
import { writeMultiArchImage, type MultiArchImage } from "./harness/test-images.js";
import { startTokenServer, type TokenServer } from "./harness/token-server.js";

const credentials = { username: "megalift", password: "e2e-pass-word" };

describe("e2e harness, clients straight to distribution", () => {
  const teardown = new Teardown();
  let skopeo: Skopeo;
  let image: MultiArchImage;
  let anonymous: Distribution;
  let basic: Distribution;
  let bearer: Distribution;
  let tokens: TokenServer;

  beforeAll(async () => {
    skopeo = new Skopeo(teardown);
    image = await writeMultiArchImage(teardown.tempDir("multiarch"));
    tokens = await startTokenServer(credentials, teardown);
    [anonymous, basic, bearer] = await Promise.all([
      startDistribution(teardown),
      startDistribution(teardown, { kind: "htpasswd", ...credentials }),
      startDistribution(teardown, { kind: "token", tokenServer: tokens }),
    ]);
    await Promise.all([
      skopeo.push(image, anonymous.host, "library/multiarch", { all: true }),
      skopeo.push(image, basic.host, "library/multiarch", { all: true, credentials }),
      skopeo.push(image, bearer.host, "library/multiarch", { all: true, credentials }),
    ]);
  });
  afterAll(() => teardown.run());

  it("distribution serves the index skopeo pushed, byte for byte", async () => {
    const served = await skopeo.rawManifest(`${anonymous.host}/library/multiarch:v1`);
    expect(served.digest).toBe(image.indexDigest);
  });

  it("counts each blob GET from distribution's access log", async () => {
    const before = image.blobDigests.map((d) => anonymous.blobGets(d));
    const dest = teardown.tempDir("copy");
    await skopeo.copyOk(`docker://${anonymous.host}/library/multiarch:v1`, `oci:${dest}:v1`, {
      all: true,
    });
    expect(image.blobDigests.map((d) => anonymous.blobGets(d))).toEqual(before.map((n) => n + 1));
  });

  it("the htpasswd upstream refuses anonymous pulls and accepts its credentials", async () => {
    const ref = `${basic.host}/library/multiarch:v1`;
    await expect(skopeo.rawManifest(ref)).rejects.toThrow(/unauthorized|authentication/i);
    expect((await skopeo.rawManifest(ref, credentials)).digest).toBe(image.indexDigest);
  });

  it("the bearer upstream accepts tokens from the token server only", async () => {
    const ref = `${bearer.host}/library/multiarch:v1`;
    await expect(skopeo.rawManifest(ref)).rejects.toThrow(/unauthorized|authentication/i);
    expect((await skopeo.rawManifest(ref, credentials)).digest).toBe(image.indexDigest);
    const granted = tokens.requests().filter((r) => r.authorized);
    expect(granted.some((r) => r.scopes.includes("repository:library/multiarch:pull"))).toBe(true);
  });

  it("ctr pulls through a hosts.toml mirror and sends ?ns=", async () => {
    const containerd = await startContainerd(teardown);
    const hostsDir = writeMirrorHostsDir(
      teardown.tempDir("hosts"),
      "registry.e2e.test",
      anonymous.url,
    );
    const ref = "registry.e2e.test/library/multiarch:v1";
    const pulled = await containerd.pull(ref, { hostsDir, namespace: "self-check" });
    expect(pulled.status, pulled.stderr).toBe(0);
    expect(await containerd.imageDigest(ref, "self-check")).toBe(image.indexDigest);
    expect(anonymous.accessLog().some((e) => e.target.endsWith("?ns=registry.e2e.test"))).toBe(
      true,
    );
  });

  it("podman pulls with vfs storage over plain http", async () => {
    const podman = new Podman(teardown);
    const ref = `${anonymous.host}/library/multiarch:v1`;
    const pulled = await podman.pull(ref);
    expect(pulled.status, pulled.stderr).toBe(0);
    const pulledImage = await podman.image(ref);
    expect(pulledImage.repoDigests).toContain(
      `${anonymous.host}/library/multiarch@${image.indexDigest}`,
    );
  });

  it("docker pulls a docker.io name through its registry mirror", async () => {
    const dockerd = await startDockerd(teardown, { mirrorUrl: anonymous.url });
    const pulled = await dockerd.pull("multiarch:v1");
    expect(pulled.status, pulled.stderr).toBe(0);
    expect(await dockerd.repoDigests("multiarch:v1")).toContain(`multiarch@${image.indexDigest}`);
  }, 120_000);
});
