// Pushing images and indexes to an in-process registry: blobs only when the
// HEAD says they are missing, POST then PUT ?digest= at a relative or
// absolute Location whose query is kept, exact manifest bytes and media
// types, children before the index, mounts, retries that resend the body,
// the push scope in the token flow, and registry errors as MegaliftErrors.
import type { IncomingMessage, ServerResponse } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isMegaliftError, type ErrorCode } from "../../src/errors.js";
import { Digest } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/media-types.js";
import {
  openPushTarget,
  pushEndpoint,
  type RegistryPushTarget,
} from "../../src/registry/push-target.js";
import { sourceImage, transform } from "../sign/transform-fixture.js";
import { sendError, startServer, type FakeServer } from "./fake-registry.js";
import { PushFakeRegistry } from "./push-fake-registry.js";

let registry: PushFakeRegistry;
let target: RegistryPushTarget;
let tokenServer: FakeServer | undefined;

function open(repository = "team/app", credentials?: { username: string; password: string }) {
  return openPushTarget(
    { transport: "docker", registry: registry.host, repository, tag: "v1" },
    {
      credentials: async () => credentials,
      retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    },
  );
}

beforeEach(async () => {
  registry = await PushFakeRegistry.start();
  target = open();
});

afterEach(async () => {
  await target.close();
  await registry.close();
  await tokenServer?.close();
  tokenServer = undefined;
});

async function failure(run: Promise<unknown>): Promise<{ code: ErrorCode; message: string }> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isMegaliftError(err)) throw new Error(`expected a MegaliftError, got ${String(err)}`);
  return { code: err.code, message: err.message };
}

const requestsOf = (method: string) =>
  registry.requests.filter((r) => r.method === method).map((r) => r.url);

describe("pushing an image", () => {
  it("uploads each blob with POST then PUT ?digest=, then PUTs the exact manifest", async () => {
    const image = (await transform(await sourceImage())).augmented;
    const manifest = await image.manifest();
    const pushed = await target.push({ kind: "image", image }, "v1");
    expect(pushed.digest.equals(image.digest)).toBe(true);
    const blobs = [...manifest.layers.map((l) => l.digest), manifest.config.digest];
    for (const digest of blobs) expect(registry.blobs.has(digest)).toBe(true);
    expect(requestsOf("POST")).toHaveLength(blobs.length);
    // The relative Location's _state came back, with the digest added to it.
    for (const url of requestsOf("PUT").filter((u) => u.includes("/blobs/uploads/"))) {
      expect(url).toMatch(/\?_state=state-session-\d+&digest=sha256%3A[0-9a-f]{64}$/);
    }
    const stored = registry.manifests.get("team/app:v1");
    expect(stored?.bytes).toEqual(Buffer.from(await image.rawManifest()));
    expect(registry.putTypes.get("team/app:v1")).toBe(MediaType.OciManifest);
  });

  it("skips blobs the repository already holds (HEAD first)", async () => {
    const image = (await transform(await sourceImage())).augmented;
    await target.push({ kind: "image", image }, "v1");
    const postsBefore = requestsOf("POST").length;
    const outcomes: string[] = [];
    await target.push({ kind: "image", image }, "v2", { onBlob: (_d, o) => outcomes.push(o) });
    expect(requestsOf("POST")).toHaveLength(postsBefore);
    expect(outcomes.every((o) => o === "present")).toBe(true);
    expect(registry.manifests.has("team/app:v2")).toBe(true);
  });

  it("follows an absolute Location", async () => {
    registry.options.location = "absolute";
    const image = await sourceImage();
    await target.push({ kind: "image", image }, "v1");
    expect(registry.manifests.has("team/app:v1")).toBe(true);
  });

  it("refuses an upload Location on another origin", async () => {
    registry.hook = (req, res) => {
      if (req.method !== "POST") return false;
      res.writeHead(202, { location: "http://elsewhere.test/upload/1" });
      res.end();
      return true;
    };
    const { code, message } = await failure(
      target.push({ kind: "image", image: await sourceImage() }, "v1"),
    );
    expect(code).toBe("UPSTREAM_UNAVAILABLE");
    expect(message).toMatch(/another origin \(http:\/\/elsewhere\.test\)/);
  });

  it("mounts blobs from another repository of the registry", async () => {
    registry.options.mount = true;
    const image = await sourceImage();
    await target.push({ kind: "image", image }, "v1");
    const other = open("team/other");
    try {
      const outcomes: string[] = [];
      await other.push({ kind: "image", image }, "v1", {
        mountFrom: "team/app",
        onBlob: (_d, o) => outcomes.push(o),
      });
      expect(new Set(outcomes)).toEqual(new Set(["mounted"]));
      expect(requestsOf("PUT").filter((u) => u.startsWith("/v2/team/other/blobs/"))).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it("retries a PUT that failed with 503, sending the whole body again", async () => {
    let failed = false;
    registry.hook = async (req, res) => {
      if (failed || req.method !== "PUT" || !req.url?.includes("/blobs/uploads/")) return false;
      failed = true;
      for await (const _chunk of req) {
        // drain the first attempt's body
      }
      res.writeHead(503);
      res.end();
      return true;
    };
    await target.push({ kind: "image", image: await sourceImage() }, "v1");
    expect(failed).toBe(true);
    expect(registry.manifests.has("team/app:v1")).toBe(true);
  });
});

describe("pushing an index", () => {
  it("pushes the children by digest before the index by tag", async () => {
    const { index, augmented, wasm } = await transform(await sourceImage());
    await target.push({ kind: "index", index }, "v1");
    expect(registry.manifestPuts).toEqual([
      augmented.digest.toString(),
      wasm.digest.toString(),
      "v1",
    ]);
    expect(registry.putTypes.get("team/app:v1")).toBe(MediaType.OciIndex);
    expect(Digest.of(registry.manifests.get("team/app:v1")?.bytes ?? "").equals(index.digest)).toBe(
      true,
    );
    // Pushed again: the children are there (HEAD), only the index is PUT.
    await target.push({ kind: "index", index }, "v2");
    expect(registry.manifestPuts.slice(3)).toEqual(["v2"]);
  });
});

describe("registry errors", () => {
  it("names MANIFEST_BLOB_UNKNOWN as a missing blob", async () => {
    registry.hook = (req, res) => {
      if (req.method !== "PUT" || !req.url?.includes("/manifests/")) return false;
      sendError(res, 400, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry");
      return true;
    };
    const { code, message } = await failure(
      target.push({ kind: "image", image: await sourceImage() }, "v1"),
    );
    expect(code).toBe("BLOB_UNKNOWN");
    expect(message).toMatch(
      /manifest .*team\/app:v1: .*answered 400: the manifest names a blob the registry does not hold \(MANIFEST_BLOB_UNKNOWN: blob unknown to registry\)/,
    );
  });

  it("says when a registry takes no pushes (405), and when it refuses access (403)", async () => {
    registry.hook = (req, res) => {
      if (req.method !== "POST") return false;
      sendError(res, 405, "UNSUPPORTED", "push is not supported");
      return true;
    };
    expect(
      await failure(target.push({ kind: "image", image: await sourceImage() }, "v1")),
    ).toMatchObject({
      code: "UNSUPPORTED",
      message: expect.stringMatching(/does not accept pushes/) as string,
    });
    registry.hook = (req, res) => {
      if (req.method !== "POST") return false;
      sendError(res, 403, "DENIED", "requested access to the resource is denied");
      return true;
    };
    const denied = await failure(target.push({ kind: "image", image: await sourceImage() }, "v1"));
    expect(denied.code).toBe("DENIED");
    expect(denied.message).toMatch(/push access/);
  });

  it("rejects a Docker-Content-Digest that is not the digest of the pushed manifest", async () => {
    registry.hook = async (req, res) => {
      if (req.method !== "PUT" || !req.url?.includes("/manifests/")) return false;
      for await (const _chunk of req) {
        // drain
      }
      res.writeHead(201, { "docker-content-digest": Digest.of("other").toString() });
      res.end();
      return true;
    };
    const { code } = await failure(
      target.push({ kind: "image", image: await sourceImage() }, "v1"),
    );
    expect(code).toBe("DIGEST_MISMATCH");
  });
});

describe("auth with push scope", () => {
  it("asks the token server for repository:NAME:pull,push", async () => {
    const scopes: string[] = [];
    tokenServer = await startServer((req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? "/", "http://token");
      scopes.push(...url.searchParams.getAll("scope"));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ token: "push-token", expires_in: 300 }));
    });
    const realm = `${tokenServer.baseUrl}/token`;
    registry.hook = (req, res) => {
      if (req.headers.authorization === "Bearer push-token") return false;
      res.writeHead(401, {
        "www-authenticate": `Bearer realm="${realm}",service="fake",scope="repository:team/app:pull,push"`,
      });
      res.end();
      return true;
    };
    await target.push({ kind: "image", image: await sourceImage() }, "v1");
    expect(registry.manifests.has("team/app:v1")).toBe(true);
    expect(new Set(scopes)).toEqual(new Set(["repository:team/app:pull,push"]));
  });
});

describe("pushEndpoint", () => {
  it("uses https unless the host is loopback, listed insecure, or TLS verification is off", () => {
    expect(pushEndpoint("registry.test:5000", { env: {} }).baseUrl).toBe(
      "https://registry.test:5000",
    );
    expect(pushEndpoint("localhost:5000", { env: {} }).baseUrl).toBe("http://localhost:5000");
    expect(pushEndpoint("registry.test:5000", { env: {}, tlsVerify: false }).baseUrl).toBe(
      "http://registry.test:5000",
    );
    expect(
      pushEndpoint("registry.test", {
        env: { MEGALIFT_INSECURE_REGISTRIES: "other.test" },
        tlsVerify: false,
      }).baseUrl,
    ).toBe("http://registry.test");
  });
});
