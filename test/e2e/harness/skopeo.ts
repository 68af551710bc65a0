// skopeo as the tests use it: pushes OCI layouts to a plain-http registry,
// copies images out of one (the pull under test), and reads the exact
// manifest bytes a registry serves for a reference, to compare digests.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, runOk, type RunResult } from "./run.js";
import { sha256, type LayoutImage } from "./test-images.js";
import type { Teardown } from "./teardown.js";

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface CopyOptions {
  /** Copy every image of an index, not only this machine's platform. */
  readonly all?: boolean;
  readonly sourceCredentials?: Credentials;
  readonly destinationCredentials?: Credentials;
}

/** Isolates skopeo from any auth file or policy on the machine. */
export class Skopeo {
  private readonly env: NodeJS.ProcessEnv;

  constructor(teardown: Teardown) {
    const dir = teardown.tempDir("skopeo");
    writeFileSync(join(dir, "auth.json"), JSON.stringify({ auths: {} }));
    this.env = { REGISTRY_AUTH_FILE: join(dir, "auth.json"), TMPDIR: dir };
  }

  private creds(flag: string, c: Credentials | undefined): string[] {
    return c ? [flag, `${c.username}:${c.password}`] : [];
  }

  /** `skopeo copy` with plain http on both sides; the result, even on failure. */
  copy(source: string, destination: string, options: CopyOptions = {}): Promise<RunResult> {
    return run(
      "skopeo",
      [
        "copy",
        "--quiet",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        // Fail rather than silently convert: every digest must stay as upstream made it.
        "--preserve-digests",
        ...(options.all ? ["--all"] : []),
        ...this.creds("--src-creds", options.sourceCredentials),
        ...this.creds("--dest-creds", options.destinationCredentials),
        source,
        destination,
      ],
      { env: this.env },
    );
  }

  async copyOk(source: string, destination: string, options: CopyOptions = {}): Promise<void> {
    const result = await this.copy(source, destination, options);
    if (result.status !== 0) {
      throw new Error(`${result.command} exited with ${result.status}:\n${result.stderr}`);
    }
  }

  /** Pushes a layout image to `registryHost/repository:tag`. */
  push(
    image: LayoutImage,
    registryHost: string,
    repository: string,
    options: { all?: boolean; credentials?: Credentials } = {},
  ): Promise<void> {
    return this.copyOk(image.reference, `docker://${registryHost}/${repository}:${image.tag}`, {
      ...(options.all ? { all: true } : {}),
      ...(options.credentials ? { destinationCredentials: options.credentials } : {}),
    });
  }

  /** The exact manifest bytes served for `docker://reference`, and their digest. */
  async rawManifest(
    reference: string,
    credentials?: Credentials,
  ): Promise<{ bytes: Buffer; digest: string }> {
    const bytes = await runOk(
      "skopeo",
      [
        "inspect",
        "--raw",
        "--tls-verify=false",
        ...this.creds("--creds", credentials),
        `docker://${reference}`,
      ],
      { env: this.env },
    );
    return { bytes, digest: sha256(bytes) };
  }
}
