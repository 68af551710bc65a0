// dockerd (Debian's docker.io 20.10) started with vfs storage, temp
// data/exec roots, its own unix socket and no network setup, using one
// registry mirror: docker sends every docker.io pull to the mirror (with
// Docker Hub's `library/` prefix for one-segment names) and never `?ns=`.
import { request } from "node:http";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { startDaemon } from "./daemon.js";
import { run, runOk, type RunResult } from "./run.js";
import type { Teardown } from "./teardown.js";

export interface Dockerd {
  readonly socket: string;
  pull(reference: string): Promise<RunResult>;
  /** `name@sha256:…` entries docker recorded for the pulled image. */
  repoDigests(reference: string): Promise<readonly string[]>;
  stop(): Promise<void>;
}

function pingSocket(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: "/_ping", timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

export async function startDockerd(
  teardown: Teardown,
  options: { readonly mirrorUrl: string },
): Promise<Dockerd> {
  const dir = teardown.tempDir("dockerd");
  const socket = join(dir, "docker.sock");
  const mirrorHost = new URL(options.mirrorUrl).host;
  // An empty daemon.json keeps /etc/docker/daemon.json out of the test.
  const configFile = join(dir, "daemon.json");
  writeFileSync(configFile, "{}");
  const daemon = await startDaemon(
    {
      name: "dockerd",
      command: "dockerd",
      args: [
        "--config-file",
        configFile,
        "--host",
        `unix://${socket}`,
        "--data-root",
        join(dir, "data"),
        "--exec-root",
        join(dir, "exec"),
        "--pidfile",
        join(dir, "docker.pid"),
        "--storage-driver",
        "vfs",
        "--iptables=false",
        "--ip6tables=false",
        "--ip-masq=false",
        "--bridge=none",
        "--registry-mirror",
        options.mirrorUrl,
        "--insecure-registry",
        mirrorHost,
      ],
      logFile: join(dir, "dockerd.log"),
      ready: () => pingSocket(socket),
      readyTimeoutMs: 60_000,
      stopTimeoutMs: 20_000,
    },
    teardown,
  );
  const env = { DOCKER_CONFIG: join(dir, "client"), DOCKER_HOST: `unix://${socket}` };
  return {
    socket,
    pull: (reference) => run("docker", ["pull", "--quiet", reference], { env }),
    repoDigests: async (reference) => {
      const out = await runOk(
        "docker",
        ["image", "inspect", "--format", "{{json .RepoDigests}}", reference],
        { env },
      );
      return JSON.parse(out.toString()) as string[];
    },
    stop: () => daemon.stop(),
  };
}
