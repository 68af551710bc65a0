// podman with its own storage (`--root`/`--runroot` in a temp dir, vfs, so
// no mounts are left behind) and its own registries.conf, pulling from
// plain-http registries. podman has no daemon: each call is one process.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, runOk, type RunResult } from "./run.js";
import type { Teardown } from "./teardown.js";

export interface PodmanImage {
  /** The manifest digest podman pulled by (an index's when the tag names one). */
  readonly digest: string;
  /** Every `name@digest` podman recorded for the image. */
  readonly repoDigests: readonly string[];
}

export class Podman {
  private readonly global: string[];
  private readonly env: NodeJS.ProcessEnv;

  constructor(teardown: Teardown) {
    const dir = teardown.tempDir("podman");
    const registries = join(dir, "registries.conf");
    writeFileSync(registries, 'unqualified-search-registries = []\nshort-name-mode = "disabled"\n');
    this.global = [
      "--root",
      join(dir, "root"),
      "--runroot",
      join(dir, "runroot"),
      "--storage-driver",
      "vfs",
      "--cgroup-manager",
      "cgroupfs",
      "--events-backend",
      "none",
      "--tmpdir",
      join(dir, "tmp"),
    ];
    writeFileSync(join(dir, "auth.json"), JSON.stringify({ auths: {} }));
    this.env = {
      CONTAINERS_REGISTRIES_CONF: registries,
      REGISTRY_AUTH_FILE: join(dir, "auth.json"),
      TMPDIR: dir,
    };
  }

  pull(reference: string): Promise<RunResult> {
    return run("podman", [...this.global, "pull", "--quiet", "--tls-verify=false", reference], {
      env: this.env,
    });
  }

  async image(reference: string): Promise<PodmanImage> {
    const out = await runOk("podman", [...this.global, "image", "inspect", reference], {
      env: this.env,
    });
    const [image] = JSON.parse(out.toString()) as { Digest: string; RepoDigests: string[] }[];
    if (!image) throw new Error(`podman image inspect ${reference}: no image`);
    return { digest: image.Digest, repoDigests: image.RepoDigests };
  }
}
