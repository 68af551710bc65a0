// containerd (Debian's 1.6) started with a temp root, state and socket, and
// `ctr` pulling through a registry mirror written as a `hosts.toml` under a
// `--hosts-dir`: that is the path on which containerd adds `?ns=<registry>`
// to every request it sends the mirror.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDaemon } from "./daemon.js";
import { run, runOk, type RunResult } from "./run.js";
import type { Teardown } from "./teardown.js";

export interface Containerd {
  readonly address: string;
  /** `ctr images pull` of `reference` in `namespace`, resolving hosts through `hostsDir`. */
  pull(reference: string, options: { hostsDir: string; namespace: string }): Promise<RunResult>;
  /** The target digest containerd recorded for `reference` (`ctr images ls`). */
  imageDigest(reference: string, namespace: string): Promise<string>;
  stop(): Promise<void>;
}

/** A hosts dir sending every pull of `registryHost` to `mirrorUrl` (plain http). */
export function writeMirrorHostsDir(dir: string, registryHost: string, mirrorUrl: string): string {
  mkdirSync(join(dir, registryHost), { recursive: true });
  writeFileSync(
    join(dir, registryHost, "hosts.toml"),
    [
      `server = "${mirrorUrl}"`,
      ``,
      `[host."${mirrorUrl}"]`,
      `  capabilities = ["pull", "resolve"]`,
      ``,
    ].join("\n"),
  );
  return dir;
}

export async function startContainerd(teardown: Teardown): Promise<Containerd> {
  const dir = teardown.tempDir("containerd");
  const address = join(dir, "containerd.sock");
  const config = [
    "version = 2",
    `root = "${join(dir, "root")}"`,
    `state = "${join(dir, "state")}"`,
    // Pulling needs content, images and the native snapshotter; nothing else.
    `disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",`,
    `  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",`,
    `  "io.containerd.snapshotter.v1.zfs", "io.containerd.internal.v1.tracing"]`,
    "[grpc]",
    `  address = "${address}"`,
    "[ttrpc]",
    `  address = "${address}.ttrpc"`,
    "[debug]",
    `  address = ""`,
    "[metrics]",
    `  address = ""`,
    "",
  ].join("\n");
  const configFile = join(dir, "config.toml");
  writeFileSync(configFile, config);
  const daemon = await startDaemon(
    {
      name: "containerd",
      command: "containerd",
      args: ["--config", configFile],
      logFile: join(dir, "containerd.log"),
      ready: async () => (await run("ctr", ["--address", address, "version"])).status === 0,
    },
    teardown,
  );
  const ctr = (args: readonly string[]): string[] => ["--address", address, ...args];
  return {
    address,
    pull: (reference, { hostsDir, namespace }) =>
      run(
        "ctr",
        ctr([
          "--namespace",
          namespace,
          "images",
          "pull",
          "--hosts-dir",
          hostsDir,
          // Unpacking with native needs no mounts, so temp dirs remove cleanly.
          "--snapshotter",
          "native",
          reference,
        ]),
      ),
    imageDigest: async (reference, namespace) => {
      const out = (await runOk("ctr", ctr(["--namespace", namespace, "images", "ls"]))).toString();
      // REF  TYPE  DIGEST  SIZE  PLATFORMS  LABELS
      for (const line of out.split("\n").slice(1)) {
        const [ref, , digest] = line.trim().split(/\s+/);
        if (ref === reference && digest) return digest;
      }
      throw new Error(`ctr images ls has no ${reference}:\n${out}`);
    },
    stop: () => daemon.stop(),
  };
}
