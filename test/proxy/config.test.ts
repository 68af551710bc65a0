// The proxy configuration: schema errors as one clear line, YAML and JSON
// files, flags over environment over file (transform mode's own options:
// transform-config.test.ts).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  loadProxyConfig,
  resolveProxyConfig,
  validateConfigDocument,
} from "../../proxy/config/load-config.js";
import { parseSize } from "../../proxy/config/size.js";
import { parseListen } from "../../proxy/server.js";
import { runCli } from "../helpers/cli.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "megalift-config-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function problem(doc: unknown): string {
  try {
    validateConfigDocument(doc, "proxy.yaml");
  } catch (err) {
    return (err as Error).message;
  }
  return "valid";
}

describe("schema errors", () => {
  it.each([
    [{ listen: "nope" }, "proxy.yaml: /listen:"],
    [{ mode: "fast" }, 'proxy.yaml: /mode: "fast" is not one of "passthrough", "transform"'],
    [{ cache: { maxSize: "ten gigs" } }, "proxy.yaml: /cache/maxSize:"],
    [{ cache: { tagTtlSeconds: -1 } }, "proxy.yaml: /cache/tagTtlSeconds: must be >= 0"],
    [
      { upstreams: { "docker.io": {} } },
      'proxy.yaml: /upstreams/docker.io: missing required property "url"',
    ],
    [{ upstreams: { "docker.io": { url: "ftp://x" } } }, "proxy.yaml: /upstreams/docker.io/url:"],
    [{ colour: "blue" }, 'proxy.yaml: (top level): unknown property "colour"'],
  ])("%j → %s", (doc, expected) => {
    const message = problem(doc);
    expect(message).toContain(expected);
    expect(message).not.toContain("\n");
  });

  it("accepts a full configuration", () => {
    expect(
      problem({
        listen: "0.0.0.0:5000",
        mode: "passthrough",
        cache: {
          dir: "/var/cache/megalift",
          maxSize: "20GiB",
          tagTtlSeconds: 60,
          verifyBeforeServe: 1048576,
        },
        upstreams: {
          "docker.io": {
            url: "https://registry-1.docker.io",
            credentials: { username: "u", password: "p" },
          },
          "127.0.0.1:5000": { url: "http://127.0.0.1:5000" },
        },
        default: "docker.io",
      }),
    ).toBe("valid");
  });
});

describe("loading and merging", () => {
  it("reads YAML, and flags override the file", async () => {
    const file = join(dir, "proxy.yaml");
    await writeFile(
      file,
      [
        "listen: 0.0.0.0:6000",
        "cache:",
        "  dir: /from/file",
        "  maxSize: 1GiB",
        "upstreams:",
        "  registry-1.docker.io:",
        "    url: https://registry-1.docker.io",
        "  ghcr.io:",
        "    url: https://ghcr.io",
        "default: docker.io",
      ].join("\n"),
    );
    const fromFile = await loadProxyConfig({ config: file }, {});
    expect(fromFile.listen).toBe("0.0.0.0:6000");
    expect(fromFile.cache).toMatchObject({ dir: "/from/file", maxBytes: 1024 ** 3 });
    expect([...fromFile.upstreams.keys()]).toEqual(["docker.io", "ghcr.io"]);
    expect(fromFile.defaultUpstream).toBe("docker.io");

    const flagged = await loadProxyConfig(
      {
        config: file,
        listen: "127.0.0.1:0",
        cache: "/from/flag",
        upstream: "http://127.0.0.1:5000/",
      },
      {},
    );
    expect(flagged.listen).toBe("127.0.0.1:0");
    expect(flagged.cache.dir).toBe("/from/flag");
    expect(flagged.defaultUpstream).toBe("127.0.0.1:5000");
    expect(flagged.upstreams.get("127.0.0.1:5000")?.url).toBe("http://127.0.0.1:5000");
  });

  it("reads JSON and reports bad syntax in one line", async () => {
    const file = join(dir, "proxy.json");
    await writeFile(file, '{"default": "https://registry.example"}');
    expect((await loadProxyConfig({ config: file }, {})).defaultUpstream).toBe("registry.example");
    await writeFile(file, '{"default": ');
    await expect(loadProxyConfig({ config: file }, {})).rejects.toThrow(
      /proxy\.json: not valid JSON/,
    );
  });

  it("takes the upstream from MEGALIFT_UPSTREAM below the flag", () => {
    const env = { MEGALIFT_UPSTREAM: "https://mirror.example" };
    expect(resolveProxyConfig({}, {}, env).defaultUpstream).toBe("mirror.example");
    expect(
      resolveProxyConfig({}, { upstream: "http://other.example:5000" }, env).defaultUpstream,
    ).toBe("other.example:5000");
  });

  it("refuses a configuration without any upstream, and a default naming nothing", () => {
    expect(() => resolveProxyConfig({}, {}, {})).toThrow(/no upstream registry/);
    expect(() => resolveProxyConfig({ default: "ghcr.io" }, {}, {})).toThrow(
      /neither a URL nor a host/,
    );
  });

  it("parses sizes and listen addresses", () => {
    expect(parseSize("10GiB")).toBe(10 * 1024 ** 3);
    expect(parseSize("1.5 MB")).toBe(1_500_000);
    expect(parseSize(42)).toBe(42);
    expect(parseSize("lots")).toBeUndefined();
    expect(parseListen("[::]:5000")).toEqual({ host: "::", port: 5000 });
    expect(parseListen("127.0.0.1:0")).toEqual({ host: "127.0.0.1", port: 0 });
    expect(() => parseListen("5000")).toThrow(/HOST:PORT/);
  });
});

describe("megalift proxy (CLI)", () => {
  it("reports a bad config file in one line", async () => {
    const file = join(dir, "bad.yaml");
    await writeFile(file, "listen: 5000\nmode: fast\n");
    const result = runCli(["proxy", "--config", file]);
    expect(result.status).not.toBe(0);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain(`${file}: /listen:`);
    expect(result.stderr).toContain("/mode:");
  });
});
