// Tag listing: every page, following Link rel="next" (distribution-spec "Listing Tags").
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MediaType } from "../../src/oci/media-types.js";
import { createRegistryClient } from "../../src/registry/client.js";
import type { RegistryClient } from "../../src/registry/types.js";
import { FakeRegistry } from "./fake-registry.js";

let registry: FakeRegistry;
let client: RegistryClient;

beforeEach(async () => {
  registry = await FakeRegistry.start();
  client = createRegistryClient({
    endpoint: { host: registry.host, baseUrl: registry.server.baseUrl },
    retry: { attempts: 1 },
  });
});

afterEach(() => registry.close());

describe("listTags", () => {
  it("follows Link rel=next across pages", async () => {
    const tags = ["a", "b", "c", "d", "e", "f", "g"];
    for (const tag of tags)
      registry.putManifest("lib/app", Buffer.from("{}"), MediaType.OciManifest, tag);
    registry.intercept = (req, res) => {
      // the registry pages by 3 when the client does not say
      if (req.url !== "/v2/lib/app/tags/list") return false;
      res.writeHead(302, { location: "/v2/lib/app/tags/list?n=3" });
      res.end();
      return true;
    };
    expect(await client.listTags("lib/app")).toEqual({ name: "lib/app", tags });
    expect(registry.requests.map((r) => r.url)).toEqual([
      "/v2/lib/app/tags/list",
      "/v2/lib/app/tags/list?n=3",
      "/v2/lib/app/tags/list?n=3&last=c",
      "/v2/lib/app/tags/list?n=3&last=f",
    ]);
  });

  it("accepts tags: null and maps 404 to NAME_UNKNOWN", async () => {
    registry.intercept = (req, res) => {
      if (req.url !== "/v2/lib/empty/tags/list") return false;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ name: "lib/empty", tags: null }));
      return true;
    };
    expect(await client.listTags("lib/empty")).toEqual({ name: "lib/empty", tags: [] });
    await expect(client.listTags("lib/none")).rejects.toMatchObject({
      code: "NAME_UNKNOWN",
      message: expect.stringContaining(`tags of ${registry.host}/lib/none`),
    });
  });

  it("refuses a next link to another origin", async () => {
    registry.intercept = (_req, res) => {
      res.writeHead(200, { link: '<http://elsewhere.example/v2/x/tags/list>; rel="next"' });
      res.end(JSON.stringify({ name: "lib/app", tags: ["a"] }));
      return true;
    };
    await expect(client.listTags("lib/app")).rejects.toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
    });
  });
});
