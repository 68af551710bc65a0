// Real clients pull through the megalift proxy from a CNCF distribution
// upstream: skopeo, ctr (through a hosts.toml mirror, so with `?ns=`), podman
// and docker (through `registry-mirrors`, so with no `ns`) each pull the
// Debian minbase image and a two-platform index once, and every digest they
// record equals the one the upstream serves.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startContainerd, writeMirrorHostsDir, type Containerd } from "./harness/containerd.js";
import { startDistribution, type Distribution } from "./harness/distribution.js";
import { startDockerd } from "./harness/dockerd.js";
import { Podman } from "./harness/podman.js";
import { startProxy, type Proxy } from "./harness/proxy.js";
import { Skopeo } from "./harness/skopeo.js";
import { Teardown } from "./harness/teardown.js";
import {
  layoutDigest,
  layoutHasBlob,
  minbaseImage,
  writeMultiArchImage,
  type MultiArchImage,
} from "./harness/test-images.js";

// Names as Docker Hub spells them, so docker's mirror path needs no rewriting.
const MINBASE = "library/minbase:bookworm";
const MULTIARCH = "library/multiarch:v1";
// A registry host only containerd's hosts.toml knows: it reaches the proxy as `?ns=`.
const NS_HOST = "registry.e2e.test";

describe("real clients pull through the proxy", () => {
  const teardown = new Teardown();
  let skopeo: Skopeo;
  let upstream: Distribution;
  let multiArch: MultiArchImage;
  let proxy: Proxy;
  /** Manifest digests as the upstream serves them, by reference. */
  const upstreamDigest: Record<string, string> = {};

  beforeAll(async () => {
    skopeo = new Skopeo(teardown);
    const minbase = minbaseImage();
    multiArch = await writeMultiArchImage(teardown.tempDir("multiarch"));
    upstream = await startDistribution(teardown);
    await skopeo.push(minbase, upstream.host, "library/minbase");
    await skopeo.push(multiArch, upstream.host, "library/multiarch", { all: true });
    for (const ref of [MINBASE, MULTIARCH]) {
      upstreamDigest[ref] = (await skopeo.rawManifest(`${upstream.host}/${ref}`)).digest;
    }
    expect(upstreamDigest[MULTIARCH]).toBe(multiArch.indexDigest);
    proxy = await startProxy(
      { upstream: upstream.url, upstreams: { [NS_HOST]: { url: upstream.url } } },
      teardown,
    );
  }, 900_000);
  afterAll(() => teardown.run());

  it("skopeo copies both images out of the proxy with the upstream's digests", async () => {
    const minbaseDir = teardown.tempDir("skopeo-minbase");
    await skopeo.copyOk(`docker://${proxy.host}/${MINBASE}`, `oci:${minbaseDir}:bookworm`);
    expect(layoutDigest(minbaseDir, "bookworm")).toBe(upstreamDigest[MINBASE]);

    const multiDir = teardown.tempDir("skopeo-multiarch");
    await skopeo.copyOk(`docker://${proxy.host}/${MULTIARCH}`, `oci:${multiDir}:v1`, {
      all: true,
    });
    expect(layoutDigest(multiDir, "v1")).toBe(multiArch.indexDigest);
    for (const digest of [
      multiArch.manifestDigests.amd64,
      multiArch.manifestDigests.arm64,
      ...multiArch.blobDigests,
    ]) {
      expect(layoutHasBlob(multiDir, digest), digest).toBe(true);
    }
  }, 300_000);

  it("skopeo inspect reads the same manifest bytes through the proxy", async () => {
    for (const ref of [MINBASE, MULTIARCH]) {
      expect((await skopeo.rawManifest(`${proxy.host}/${ref}`)).digest).toBe(upstreamDigest[ref]);
    }
  });

  describe("ctr through a hosts.toml mirror", () => {
    let containerd: Containerd;
    let hostsDir: string;
    beforeAll(async () => {
      containerd = await startContainerd(teardown);
      hostsDir = writeMirrorHostsDir(teardown.tempDir("hosts"), NS_HOST, proxy.url);
    });

    it.each([MINBASE, MULTIARCH])(
      "pulls %s with the upstream's digest",
      async (ref) => {
        const pulled = await containerd.pull(`${NS_HOST}/${ref}`, { hostsDir, namespace: "e2e" });
        expect(pulled.status, pulled.stderr).toBe(0);
        expect(await containerd.imageDigest(`${NS_HOST}/${ref}`, "e2e")).toBe(upstreamDigest[ref]);
      },
      300_000,
    );
  });

  it.each([MINBASE, MULTIARCH])(
    "podman pulls %s with the upstream's digest",
    async (ref) => {
      const podman = new Podman(teardown);
      const pulled = await podman.pull(`${proxy.host}/${ref}`);
      expect(pulled.status, pulled.stderr).toBe(0);
      const image = await podman.image(`${proxy.host}/${ref}`);
      const repository = ref.split(":")[0]!;
      expect(image.repoDigests).toContain(`${proxy.host}/${repository}@${upstreamDigest[ref]}`);
    },
    300_000,
  );

  describe("docker through registry-mirrors", () => {
    let docker: Awaited<ReturnType<typeof startDockerd>>;
    beforeAll(async () => {
      docker = await startDockerd(teardown, { mirrorUrl: proxy.url });
    }, 120_000);

    it.each([MINBASE, MULTIARCH])(
      "pulls docker.io/%s with the upstream's digest",
      async (ref) => {
        const short = ref.slice("library/".length);
        const manifestRequests = (): number =>
          proxy.requests().filter((r) => r.path.startsWith(`/v2/${ref.split(":")[0]}/manifests/`))
            .length;
        const before = manifestRequests();
        const pulled = await docker.pull(short);
        expect(pulled.status, pulled.stderr).toBe(0);
        const repository = short.split(":")[0]!;
        expect(await docker.repoDigests(short)).toContain(`${repository}@${upstreamDigest[ref]}`);
        // The manifest came through the mirror, with Docker Hub's library/ prefix.
        expect(manifestRequests()).toBeGreaterThan(before);
      },
      300_000,
    );
  });
});
