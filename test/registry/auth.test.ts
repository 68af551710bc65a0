// Auth against fake registries: anonymous, Basic, the Bearer token flow
// (token per scope, cached until expiry, re-auth after a 401), 403 → DENIED.
import type { IncomingMessage, ServerResponse } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Digest } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/media-types.js";
import { createRegistryClient } from "../../src/registry/client.js";
import type { RegistryClient } from "../../src/registry/types.js";
import { makeImage, makeLayer, SAMPLE_ENTRIES } from "../oci/build-image.js";
import {
  FakeClock,
  FakeRegistry,
  sendError,
  startServer,
  type FakeServer,
} from "./fake-registry.js";

const USER = { username: "alice", password: "s3cret:with:colons" };
const BASIC = `Basic ${Buffer.from(`${USER.username}:${USER.password}`).toString("base64")}`;

let registry: FakeRegistry;
let tokenServer: FakeServer | undefined;
let manifestBytes: Buffer;

beforeEach(async () => {
  registry = await FakeRegistry.start();
  const image = makeImage([await makeLayer(SAMPLE_ENTRIES)]);
  manifestBytes = image.manifestBytes;
  registry.putManifest("team/app", image.manifestBytes, MediaType.OciManifest, "v1");
  registry.putManifest("team/other", image.manifestBytes, MediaType.OciManifest, "v1");
  registry.putBlobs(image.blobs);
});

afterEach(async () => {
  await registry.close();
  await tokenServer?.close();
  tokenServer = undefined;
});

function client(options: Partial<Parameters<typeof createRegistryClient>[0]> = {}): RegistryClient {
  return createRegistryClient({
    endpoint: { host: registry.host, baseUrl: registry.server.baseUrl },
    retry: { attempts: 2, baseDelayMs: 1 },
    ...options,
  });
}

function repositoryOf(url: string): string | undefined {
  return /^\/v2\/(.+)\/(?:manifests|blobs|tags)\//.exec(url)?.[1];
}

describe("anonymous", () => {
  it("pulls without an Authorization header", async () => {
    const manifest = await client().getManifest("team/app", "v1");
    expect(Buffer.from(manifest.bytes)).toEqual(manifestBytes);
    await client().ping();
    expect(registry.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
    expect(registry.requests[0]?.headers["user-agent"]).toMatch(/^megalift\//);
  });
});

describe("Basic", () => {
  beforeEach(() => {
    registry.intercept = (req, res) => {
      if (req.headers.authorization === BASIC) return false;
      res.writeHead(401, { "www-authenticate": 'Basic realm="fake"' });
      res.end();
      return true;
    };
  });

  it("answers the challenge with the credentials, then sends them up front", async () => {
    const c = client({ credentials: async (host) => (host === registry.host ? USER : undefined) });
    await c.getManifest("team/app", "v1");
    await c.getManifest("team/other", "v1");
    expect(registry.requests.map((r) => r.headers.authorization ?? "none")).toEqual([
      "none",
      BASIC,
      BASIC,
    ]);
  });

  it("is UNAUTHORIZED without credentials, and with wrong ones after one re-auth", async () => {
    await expect(client().getManifest("team/app", "v1")).rejects.toMatchObject({
      code: "UNAUTHORIZED",
      message: expect.stringContaining(`manifest ${registry.host}/team/app:v1`),
    });
    const wrong = client({ credentials: async () => ({ username: "alice", password: "no" }) });
    await expect(wrong.getManifest("team/app", "v1")).rejects.toMatchObject({
      code: "UNAUTHORIZED",
    });
    // anonymous, then the wrong credentials once; never a loop
    expect(registry.requests).toHaveLength(3);
  });
});

describe("Basic on some repositories only", () => {
  it("still tries other repositories anonymously after a challenge it cannot answer", async () => {
    registry.intercept = (req, res) => {
      if (!req.url?.startsWith("/v2/team/app/")) return false;
      res.writeHead(401, { "www-authenticate": 'Basic realm="private"' });
      res.end();
      return true;
    };
    const c = client();
    await expect(c.getManifest("team/app", "v1")).rejects.toMatchObject({
      code: "UNAUTHORIZED",
      message: expect.stringContaining("requires credentials (Basic) and none are configured"),
    });
    await expect(c.getManifest("team/other", "v1")).resolves.toBeDefined();
  });
});

interface TokenServer {
  issued: { token: string; scopes: string[] }[];
  revoked: Set<string>;
}

/** A docker token server plus a registry that wants its tokens (docker token auth spec). */
async function bearerSetup(
  options: { field?: "token" | "access_token"; expiresIn?: number; alsoOffer?: string } = {},
): Promise<TokenServer> {
  const state: TokenServer = { issued: [], revoked: new Set() };
  tokenServer = await startServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://t");
    if (url.searchParams.get("service") !== "fake-registry")
      return sendError(res, 400, "BAD_SERVICE");
    if (req.headers.authorization !== undefined && req.headers.authorization !== BASIC) {
      return sendError(res, 401, "UNAUTHORIZED");
    }
    const token = `tok-${state.issued.length + 1}`;
    state.issued.push({ token, scopes: url.searchParams.getAll("scope") });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({ [options.field ?? "token"]: token, expires_in: options.expiresIn ?? 300 }),
    );
  });
  const realm = `${tokenServer.baseUrl}/token`;
  registry.intercept = (req: IncomingMessage, res: ServerResponse) => {
    const repository = repositoryOf(req.url ?? "");
    const scope = repository !== undefined ? `repository:${repository}:pull` : undefined;
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const grant = state.issued.find((g) => g.token === token);
    const valid =
      grant !== undefined &&
      !state.revoked.has(grant.token) &&
      (scope === undefined || grant.scopes.includes(scope));
    if (valid) return false;
    const scopeParam = scope !== undefined ? `,scope="${scope}"` : "";
    const bearer = `Bearer realm="${realm}",service="fake-registry"${scopeParam}`;
    res.writeHead(401, {
      "www-authenticate": options.alsoOffer !== undefined ? [options.alsoOffer, bearer] : bearer,
      "content-type": "application/json",
    });
    res.end(
      JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }),
    );
    return true;
  };
  return state;
}

describe("Bearer token flow", () => {
  it("fetches a token for the scope with the credentials and caches it per scope until expiry", async () => {
    const tokens = await bearerSetup();
    const clock = new FakeClock();
    const c = client({ credentials: async () => USER, clock });
    await c.getManifest("team/app", "v1");
    await c.getManifest("team/app", "v1");
    const blobDigest = JSON.parse(manifestBytes.toString()).config.digest as string;
    await c.headManifest("team/app", "v1");
    expect(tokens.issued).toHaveLength(1);
    const tokenRequest = tokenServer?.requests[0];
    const query = new URL(tokenRequest?.url ?? "", "http://t").searchParams;
    expect(query.getAll("scope")).toEqual(["repository:team/app:pull"]);
    expect(query.get("account")).toBe("alice");
    expect(tokenRequest?.headers.authorization).toBe(BASIC);

    // another repository is another scope: another token, fetched up front (no second 401)
    const before401 = registry.requests.length;
    await c.getManifest("team/other", "v1");
    expect(tokens.issued.map((g) => g.scopes)).toEqual([
      ["repository:team/app:pull"],
      ["repository:team/other:pull"],
    ]);
    expect(registry.requests.slice(before401).map((r) => r.headers.authorization)).toEqual([
      "Bearer tok-2",
    ]);

    // the first token expires (300 s less the margin): a fresh one
    clock.advance(295_000);
    const stream = (await c.getBlob("team/app", Digest.parse(blobDigest))).stream;
    for await (const _chunk of stream) {
      // drain
    }
    expect(tokens.issued).toHaveLength(3);
    expect(registry.requests.at(-1)?.headers.authorization).toBe("Bearer tok-3");
  });

  it("accepts access_token, anonymous tokens and a scope-less token for the ping", async () => {
    const tokens = await bearerSetup({ field: "access_token" });
    const c = client();
    await c.ping();
    await c.getManifest("team/app", "v1");
    expect(tokens.issued.map((g) => g.scopes)).toEqual([[], ["repository:team/app:pull"]]);
    expect(tokenServer?.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
    expect(tokenServer?.requests.every((r) => !r.url.includes("account="))).toBe(true);
  });

  it("re-authenticates once after a 401 with a stale token, then fails with UNAUTHORIZED", async () => {
    const tokens = await bearerSetup();
    const c = client({ credentials: async () => USER });
    await c.getManifest("team/app", "v1");
    tokens.revoked.add("tok-1");
    await c.getManifest("team/app", "v1");
    expect(tokens.issued).toHaveLength(2);
    expect(registry.requests.at(-1)?.headers.authorization).toBe("Bearer tok-2");

    // a registry that rejects every token: one fresh token, then UNAUTHORIZED
    const issuedBefore = tokens.issued.length;
    const requestsBefore = registry.requests.length;
    const real = registry.intercept;
    registry.intercept = (req, res, recorded) => {
      for (const g of tokens.issued) tokens.revoked.add(g.token);
      return real ? real(req, res, recorded) : false;
    };
    await expect(c.getManifest("team/app", "v1")).rejects.toMatchObject({
      code: "UNAUTHORIZED",
      message: expect.stringMatching(/team\/app:v1.*401 again/),
    });
    expect(tokens.issued.length - issuedBefore).toBe(1);
    expect(registry.requests.length - requestsBefore).toBe(2);
  });

  it("is UNAUTHORIZED when the token server rejects the credentials", async () => {
    await bearerSetup();
    const c = client({ credentials: async () => ({ username: "alice", password: "wrong" }) });
    await expect(c.getManifest("team/app", "v1")).rejects.toMatchObject({
      code: "UNAUTHORIZED",
      message: expect.stringContaining("token server answered 401"),
    });
  });

  it("prefers Bearer when several challenges are offered", async () => {
    const tokens = await bearerSetup({ alsoOffer: 'Basic realm="x", Negotiate' });
    await client({ credentials: async () => USER }).getManifest("team/app", "v1");
    expect(tokens.issued).toHaveLength(1);
  });
});

describe("403", () => {
  it("is DENIED, naming registry, repository and reference", async () => {
    registry.intercept = (_req, res) => {
      sendError(res, 403, "DENIED", "requested access to the resource is denied");
      return true;
    };
    await expect(client().getManifest("team/app", "v1")).rejects.toMatchObject({
      code: "DENIED",
      message: `manifest ${registry.host}/team/app:v1: registry ${registry.host} denied access (DENIED: requested access to the resource is denied)`,
    });
  });
});
