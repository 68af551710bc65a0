// The real server on port 0: fetched over HTTP (programmatic startProxy), and
// the CLI's first stdout line, which end-to-end tests read to find the port.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startProxy, type RunningProxy } from "../../proxy/index.js";
import { FakeUpstream } from "./fake-upstream.js";
import { addImage } from "./harness.js";
import { CLI_MAIN } from "../helpers/cli.js";

let dir: string;
let proxy: RunningProxy | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "megalift-server-"));
});
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe("startProxy", () => {
  it("serves the pull API over HTTP on port 0", async () => {
    const upstream = new FakeUpstream("registry.test");
    const image = addImage(upstream, "team/app");
    const logs: unknown[] = [];
    proxy = await startProxy(
      {
        listen: "127.0.0.1:0",
        mode: "passthrough",
        cache: { dir, maxBytes: 1024 ** 2, tagTtlSeconds: 60, verifyBeforeServeBytes: 0 },
        upstreams: new Map([
          ["registry.test", { host: "registry.test", url: "http://registry.test" }],
        ]),
        defaultUpstream: "registry.test",
      },
      { clientFactory: () => upstream, logger: { log: (r) => logs.push(r) } },
    );
    expect(proxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const base = await fetch(`${proxy.url}/v2/`);
    expect(base.status).toBe(200);
    expect(base.headers.get("docker-distribution-api-version")).toBe("registry/2.0");

    const head = await fetch(`${proxy.url}/v2/team/app/manifests/latest`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(image.manifest.bytes.length));
    expect(head.headers.get("content-type")).toBe(image.manifest.mediaType);
    expect(head.headers.get("docker-content-digest")).toBe(image.manifest.digest.toString());

    const blob = await fetch(`${proxy.url}/v2/team/app/blobs/${image.layer.toString()}`, {
      headers: { Range: "bytes=2-5" },
    });
    expect(blob.status).toBe(206);
    expect(blob.headers.get("content-range")).toBe(`bytes 2-5/${image.layerBytes.length}`);
    expect(await blob.text()).toBe("yer ");

    const full = await fetch(`${proxy.url}/v2/team/app/blobs/${image.layer.toString()}`);
    expect(full.headers.get("content-length")).toBe(String(image.layerBytes.length));
    expect(await full.text()).toBe("layer bytes");

    const put = await fetch(`${proxy.url}/v2/team/app/manifests/latest`, {
      method: "PUT",
      body: "{}",
    });
    expect(put.status).toBe(405);
    expect(await put.json()).toMatchObject({ errors: [{ code: "UNSUPPORTED" }] });
    // A request is logged when its body has been streamed out, which can be
    // just after the client has read it: wait for the last one's record.
    await vi.waitFor(() => expect(logs.length).toBeGreaterThanOrEqual(5));
  });
});

describe("megalift proxy", () => {
  it("prints the listening line first, serves, and exits on SIGTERM", async () => {
    const child = spawn(
      process.execPath,
      [
        CLI_MAIN,
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        "http://127.0.0.1:9",
        "--cache",
        dir,
        "--mode",
        "passthrough",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const lines = createInterface({ input: child.stdout });
    const iterator = lines[Symbol.asyncIterator]();
    const first = await iterator.next();
    const line = String(first.value);
    expect(line).toMatch(
      /^\{"level":"info","msg":"listening","url":"http:\/\/127\.0\.0\.1:\d+"\}$/,
    );
    const { url } = JSON.parse(line) as { url: string };
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const requestLine = JSON.parse(String((await iterator.next()).value)) as Record<
      string,
      unknown
    >;
    expect(requestLine).toMatchObject({
      level: "info",
      msg: "request",
      method: "GET",
      path: "/healthz",
      status: 200,
    });
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => resolve(code)),
    );
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
