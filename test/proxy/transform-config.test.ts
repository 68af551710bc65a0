// Transform-mode configuration: the defaults (transform is the default
// mode), the config file's `transform` and `repositories` sections, the
// flags, and `megalift proxy --mode transform` starting with a generated key.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveProxyConfig, validateConfigDocument } from "../../proxy/config/load-config.js";
import { DEFAULT_TRANSFORM } from "../../proxy/config/proxy-config.js";
import { RepositoryModes } from "../../proxy/transform/repository-modes.js";
import { CLI_MAIN } from "../helpers/cli.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "megalift-transform-config-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const env = { MEGALIFT_CACHE_DIR: "/var/cache/megalift" };

describe("transform configuration", () => {
  it("defaults to transform mode with the default settings", () => {
    const config = resolveProxyConfig({}, { upstream: "http://127.0.0.1:5000" }, env);
    expect(config.mode).toBe("transform");
    expect(config.transform).toEqual(DEFAULT_TRANSFORM);
    expect(config.repositories).toEqual([]);
  });

  it("reads the transform section and lets flags override it", () => {
    const file = validateConfigDocument(
      {
        upstreams: { "127.0.0.1:5000": { url: "http://127.0.0.1:5000" } },
        default: "127.0.0.1:5000",
        repositories: [{ match: "mirror/*", mode: "passthrough" }],
        transform: {
          signingKey: "/etc/megalift/key.pem",
          timeoutSeconds: 600,
          waitSeconds: 20,
          retryFailedAfterSeconds: 30,
          maxConcurrent: 2,
          otherPlatforms: "passthrough",
          workDir: "/var/lib/megalift/work",
          workers: 2,
          liftOptimize: 0,
          compileOptimize: 1,
        },
      },
      "proxy.yaml",
    );
    const config = resolveProxyConfig(file, { transformWait: "5", signingKey: "/k.pem" }, env);
    expect(config.repositories).toEqual([{ match: "mirror/*", mode: "passthrough" }]);
    expect(config.transform).toEqual({
      signingKeyFile: "/k.pem",
      timeoutSeconds: 600,
      waitSeconds: 5,
      retryFailedAfterSeconds: 30,
      maxConcurrent: 2,
      otherPlatforms: "passthrough",
      workDir: "/var/lib/megalift/work",
      workers: 2,
      liftOptimize: 0,
      compileOptimize: 1,
    });
  });

  it.each([
    [{ transform: { otherPlatforms: "keep" } }, "/transform/otherPlatforms"],
    [{ transform: { timeoutSeconds: 0 } }, "/transform/timeoutSeconds"],
    [{ transform: { colour: 1 } }, 'unknown property "colour"'],
    [{ repositories: [{ match: "x" }] }, 'missing required property "mode"'],
  ])("rejects %j (%s)", (doc, expected) => {
    expect(() => validateConfigDocument(doc, "proxy.yaml")).toThrow(expected);
  });

  it("rejects a --transform-timeout that is not whole seconds", () => {
    expect(() =>
      resolveProxyConfig({}, { upstream: "http://x:1", transformTimeout: "1m" }, env),
    ).toThrow(/--transform-timeout/);
  });

  it("matches repository rules by name or HOST/name, first rule first", () => {
    const modes = new RepositoryModes(
      [
        { match: "library/keep", mode: "transform" },
        { match: "library/*", mode: "passthrough" },
        { match: "ghcr.io/*", mode: "passthrough" },
      ],
      "transform",
    );
    expect(modes.modeOf("docker.io", "library/keep")).toBe("transform");
    expect(modes.modeOf("docker.io", "library/busybox")).toBe("passthrough");
    expect(modes.modeOf("ghcr.io", "team/app")).toBe("passthrough");
    expect(modes.modeOf("docker.io", "team/app")).toBe("transform");
  });
});

describe("megalift proxy --mode transform (CLI)", () => {
  it("announces the URL first, generates and serves a signing key, lists no transforms", async () => {
    const cache = join(dir, "cache");
    const child = spawn(
      process.execPath,
      [CLI_MAIN, "proxy", "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9"].concat([
        "--cache",
        cache,
        "--mode",
        "transform",
      ]),
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    try {
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const first = JSON.parse(String((await lines.next()).value)) as { msg: string; url: string };
      expect(first.msg).toBe("listening");
      const second = JSON.parse(String((await lines.next()).value)) as { msg: string };
      expect(second.msg).toBe("generated a signing key");
      const key = await (await fetch(`${first.url}/megalift/v1/key.pub`)).text();
      expect(key).toBe(await readFile(join(cache, "signing", "proxy-signing-key.pub"), "utf8"));
      const status = await fetch(`${first.url}/megalift/v1/transforms`);
      expect(await status.json()).toEqual({ transforms: [] });
    } finally {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    }
  });
});
