// The native side of the vkernel's differential tests: a program run by
// Linux chrooted into the same root the vkernel gets (issue 5 "Done when":
// native chroot of the same image vs `megalift run`), with the host's /dev
// bound in as a container runtime does, in a mount namespace of its own
// (unshare -m) so the bind ends with the run. Not as root, `unshare -r`
// makes the caller root of a user namespace first.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

/** A system tool's path: the guest's PATH does not name sbin. */
export function tool(name: string): string {
  const found = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
    .map((dir) => join(dir, name))
    .find((path) => existsSync(path));
  if (found === undefined) throw new Error(`${name} is not installed (util-linux, coreutils)`);
  return found;
}

/** The command and arguments that run `argv` natively inside `root` (with /dev bound in). */
export function chrootCommand(root: string, argv: readonly string[]): [string, string[]] {
  mkdirSync(join(root, "dev"), { recursive: true });
  const user = process.getuid?.() === 0 ? [] : ["-r"];
  const inside = `${tool("mount")} --rbind /dev "$0/dev" && exec ${tool("chroot")} "$0" "$@"`;
  return [tool("unshare"), ["-m", ...user, tool("sh"), "-c", inside, root, ...argv]];
}

/** `argv` run natively inside `root` with `env`; /tmp is emptied first. */
export function runChrooted(
  root: string,
  argv: readonly string[],
  env: Record<string, string>,
): SpawnSyncReturns<string> {
  rmSync(join(root, "tmp"), { recursive: true, force: true });
  mkdirSync(join(root, "tmp"), { mode: 0o1777 });
  const [command, args] = chrootCommand(root, argv);
  const result = spawnSync(command, args, { encoding: "utf8", env });
  if (result.error !== undefined) throw result.error;
  return result;
}

/** Extracts every layer of the image `tag` of OCI layout `layout` into `dest`, in order. */
export function unpackLayout(layout: string, tag: string, dest: string): void {
  const blob = (digest: string): string => join(layout, "blobs", ...digest.split(":"));
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const entry = index.manifests.find(
    (m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag,
  );
  if (entry === undefined) throw new Error(`${layout}: no image tagged ${tag}`);
  const manifest = JSON.parse(readFileSync(blob(entry.digest), "utf8")) as {
    layers: { digest: string }[];
  };
  mkdirSync(dest, { recursive: true });
  for (const layer of manifest.layers) {
    const r = spawnSync("tar", ["-x", "-C", dest, "-f", blob(layer.digest)], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`tar of ${layer.digest} failed: ${r.stderr}`);
  }
}
