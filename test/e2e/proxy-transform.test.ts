// Transform on pull, end to end: CNCF distribution upstream holding busybox
// and Debian minbase, the megalift proxy in transform mode in front of it,
// and the real clients. One proxy and one cache for every case, so each
// image is transformed once: skopeo's first pull (the cold pull) waits for
// the transform, everything after is served from the proxy's transform
// store. Checks: the pulled images carry the megabinary and the mapping
// annotation, `megalift verify` passes through the proxy with the key from
// /megalift/v1/key.pub, `megalift run` runs the pulled busybox, docker, ctr
// and podman pull both images, a second pull costs no transform, and a
// restarted proxy keeps the transforms. Pull times are printed.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../src/package-root.js";
import { startContainerd, writeMirrorHostsDir } from "./harness/containerd.js";
import { startDistribution, type Distribution } from "./harness/distribution.js";
import { startDockerd } from "./harness/dockerd.js";
import { Podman } from "./harness/podman.js";
import { startProxy, type Proxy } from "./harness/proxy.js";
import { run, type RunResult } from "./harness/run.js";
import { Skopeo } from "./harness/skopeo.js";
import { Teardown } from "./harness/teardown.js";
import { layoutDigest, minbaseImage, type LayoutImage } from "./harness/test-images.js";
import { CLI_MAIN } from "../helpers/cli.js";

const root = packageRoot();
const BUSYBOX = "library/busybox:latest";
const MINBASE = "library/minbase:bookworm";
const NS_HOST = "registry.e2e.test";
const MAPPING_ANNOTATIONS = ["dev.megalift.mapping", "dev.megalift.mapping.digest"];
const TRANSFORM_SETTINGS = {
  // The first pull waits for the whole transform (a client gets 503 only after this).
  waitSeconds: 600,
  timeoutSeconds: 1200,
  // Lifts are kept across test runs, as a CI cache would keep them.
  workDir: process.env.MEGALIFT_E2E_TRANSFORM_WORK ?? join(root, ".cache", "e2e-transform-work"),
};

function megalift(args: readonly string[]): Promise<RunResult> {
  return run(process.execPath, [CLI_MAIN, ...args], {
    timeoutMs: 600_000,
  });
}

/** The busybox image scripts/build-busybox-image.mjs builds (once per checkout). */
function busyboxImage(): LayoutImage {
  const dir = join(root, ".cache", "busybox-image");
  if (!existsSync(join(dir, "index.json"))) {
    execFileSync(process.execPath, [join(root, "scripts", "build-busybox-image.mjs"), dir], {
      stdio: "inherit",
    });
  }
  return { layoutDir: dir, tag: "latest", reference: `oci:${dir}:latest` };
}

interface IndexJson {
  manifests: { digest: string; platform?: { os: string; architecture: string } }[];
  annotations?: Record<string, string>;
}
interface ManifestJson {
  layers: { digest: string; annotations?: Record<string, string> }[];
  annotations?: Record<string, string>;
}

describe("transform on pull through the proxy", () => {
  const teardown = new Teardown();
  const times: Record<string, number> = {};
  let skopeo: Skopeo;
  let upstream: Distribution;
  let proxy: Proxy;
  let keyFile: string;
  const sourceDigest: Record<string, string> = {};
  const transformedDigest: Record<string, string> = {};

  const transforms = async (): Promise<{ state: string; sourceDigest: string }[]> => {
    const response = await fetch(`${proxy.url}/megalift/v1/transforms`);
    return ((await response.json()) as { transforms: { state: string; sourceDigest: string }[] })
      .transforms;
  };
  const timedCopy = async (label: string, ref: string, dir: string, tag: string) => {
    const started = performance.now();
    await skopeo.copyOk(`docker://${proxy.host}/${ref}`, `oci:${dir}:${tag}`);
    times[label] = Math.round(performance.now() - started);
  };

  beforeAll(async () => {
    skopeo = new Skopeo(teardown);
    upstream = await startDistribution(teardown);
    await skopeo.push(busyboxImage(), upstream.host, "library/busybox");
    await skopeo.push(minbaseImage(), upstream.host, "library/minbase");
    for (const ref of [BUSYBOX, MINBASE]) {
      sourceDigest[ref] = (await skopeo.rawManifest(`${upstream.host}/${ref}`)).digest;
    }
    proxy = await startProxy(
      {
        mode: "transform",
        upstream: upstream.url,
        upstreams: { [NS_HOST]: { url: upstream.url } },
        transform: TRANSFORM_SETTINGS,
      },
      teardown,
    );
    keyFile = join(teardown.tempDir("key"), "proxy.pub");
    writeFileSync(keyFile, await (await fetch(`${proxy.url}/megalift/v1/key.pub`)).text());
  }, 900_000);
  afterAll(async () => {
    console.log(`pull times through the proxy (skopeo copy, ms): ${JSON.stringify(times)}`);
    await teardown.run();
  });

  it.each([
    ["busybox", BUSYBOX],
    ["minbase", MINBASE],
  ])(
    "skopeo pulls the transformed %s: megabinary layer and mapping annotation",
    async (label, ref) => {
      const dir = teardown.tempDir(`skopeo-${label}`);
      await timedCopy(`${label} cold`, ref, dir, "t");
      const raw = await skopeo.rawManifest(`${proxy.host}/${ref}`);
      transformedDigest[ref] = raw.digest;
      const index = JSON.parse(raw.bytes.toString("utf8")) as IndexJson;
      expect(index.annotations?.["dev.megalift.proxy.source.digest"]).toBe(sourceDigest[ref]);
      const amd64 = index.manifests.find((m) => m.platform?.architecture === "amd64");
      expect(amd64).toBeDefined();
      expect(index.manifests.some((m) => m.platform?.architecture === "wasm")).toBe(true);
      expect(layoutDigest(dir, "t")).toBe(amd64?.digest);
      const manifest = JSON.parse(
        readFileSync(join(dir, "blobs", ...amd64!.digest.split(":")), "utf8"),
      ) as ManifestJson;
      // The mapping rides inline, or (when large) as a digest of the mapping artifact.
      const keys = Object.keys(manifest.annotations ?? {});
      expect(
        keys.some((k) => MAPPING_ANNOTATIONS.includes(k)),
        keys.join(", "),
      ).toBe(true);
      const last = manifest.layers.at(-1)!;
      const listing = execFileSync("tar", [
        "-tzf",
        join(dir, "blobs", ...last.digest.split(":")),
      ]).toString();
      expect(listing).toMatch(/\.megalift\/megabinary\.wasm/);
      expect(listing).toMatch(/\.megalift\/mapping\.json/);

      // The warm pull: no second transform.
      await timedCopy(`${label} warm`, ref, teardown.tempDir(`skopeo-${label}-warm`), "t");
      const done = (await transforms()).filter((t) => t.sourceDigest === sourceDigest[ref]);
      expect(done).toEqual([expect.objectContaining({ state: "done" })]);
    },
    1_200_000,
  );

  it("keeps the source reachable by digest, unchanged", async () => {
    for (const ref of [BUSYBOX, MINBASE]) {
      const name = ref.split(":")[0]!;
      const raw = await skopeo.rawManifest(`${proxy.host}/${name}@${sourceDigest[ref]}`);
      expect(raw.digest).toBe(sourceDigest[ref]);
    }
  }, 120_000);

  it.each([BUSYBOX, MINBASE])(
    "megalift verify passes for %s through the proxy with its public key",
    async (ref) => {
      const verified = await megalift([
        "verify",
        `docker://${proxy.host}/${ref}`,
        "--key",
        keyFile,
        "--json",
      ]);
      expect(verified.status, verified.stderr).toBe(0);
      const report = JSON.parse(verified.stdout.toString("utf8")) as {
        signatures: { kind: string; ok: boolean }[];
      };
      expect(report.signatures.map((s) => s.kind).sort()).toEqual(["bundle", "cosign"]);
      expect(report.signatures.every((s) => s.ok)).toBe(true);
    },
    300_000,
  );

  it("megalift run runs the pulled busybox", async () => {
    const dir = teardown.tempDir("run-busybox");
    await skopeo.copyOk(`docker://${proxy.host}/${BUSYBOX}`, `oci:${dir}:t`);
    const ran = await megalift(["run", `oci:${dir}:t`, "--", "sh", "-c", "echo hi | tr a-z A-Z"]);
    expect(ran.status, ran.stderr).toBe(0);
    expect(ran.stdout.toString("utf8")).toBe("HI\n");
  }, 300_000);

  it.each([BUSYBOX, MINBASE])(
    "ctr pulls the transformed %s through a hosts.toml mirror",
    async (ref) => {
      const containerd = await startContainerd(teardown);
      const hostsDir = writeMirrorHostsDir(teardown.tempDir("hosts"), NS_HOST, proxy.url);
      const pulled = await containerd.pull(`${NS_HOST}/${ref}`, { hostsDir, namespace: "e2e" });
      expect(pulled.status, pulled.stderr).toBe(0);
      expect(await containerd.imageDigest(`${NS_HOST}/${ref}`, "e2e")).toBe(transformedDigest[ref]);
    },
    300_000,
  );

  it.each([BUSYBOX, MINBASE])(
    "podman pulls the transformed %s",
    async (ref) => {
      const podman = new Podman(teardown);
      const pulled = await podman.pull(`${proxy.host}/${ref}`);
      expect(pulled.status, pulled.stderr).toBe(0);
      const image = await podman.image(`${proxy.host}/${ref}`);
      const repository = ref.split(":")[0]!;
      expect(image.repoDigests).toContain(`${proxy.host}/${repository}@${transformedDigest[ref]}`);
    },
    300_000,
  );

  describe("docker through registry-mirrors", () => {
    let docker: Awaited<ReturnType<typeof startDockerd>>;
    beforeAll(async () => {
      docker = await startDockerd(teardown, { mirrorUrl: proxy.url });
    }, 120_000);

    it.each([BUSYBOX, MINBASE])(
      "pulls the transformed docker.io/%s",
      async (ref) => {
        const short = ref.slice("library/".length);
        const pulled = await docker.pull(short);
        expect(pulled.status, pulled.stderr).toBe(0);
        const repository = short.split(":")[0]!;
        expect(await docker.repoDigests(short)).toContain(
          `${repository}@${transformedDigest[ref]}`,
        );
      },
      300_000,
    );
  });

  it("costs no transform on later pulls, and a restarted proxy keeps the transforms", async () => {
    const metrics = await (await fetch(`${proxy.url}/metrics`)).text();
    expect(metrics).toContain('megalift_proxy_transforms_total{result="done"} 2');
    expect(metrics).not.toContain('megalift_proxy_transforms_total{result="failed"}');
    const cacheDir = proxy.cacheDir;
    await proxy.stop();
    proxy = await startProxy(
      { mode: "transform", upstream: upstream.url, transform: TRANSFORM_SETTINGS, cacheDir },
      teardown,
    );
    for (const ref of [BUSYBOX, MINBASE]) {
      const label = ref.includes("busybox") ? "busybox" : "minbase";
      await timedCopy(`${label} after restart`, ref, teardown.tempDir(`restart-${label}`), "t");
      expect((await skopeo.rawManifest(`${proxy.host}/${ref}`)).digest).toBe(
        transformedDigest[ref],
      );
    }
    const after = await (await fetch(`${proxy.url}/metrics`)).text();
    expect(after).not.toContain("megalift_proxy_transforms_total{");
    expect((await transforms()).map((t) => t.state)).toEqual(["done", "done"]);
    expect(await (await fetch(`${proxy.url}/megalift/v1/key.pub`)).text()).toBe(
      readFileSync(keyFile, "utf8"),
    );
  }, 300_000);
});
