#!/usr/bin/env node
// Builds a busybox OCI image from Debian's busybox-static (/bin/busybox): the
// binary plus one symlink per applet in /bin, /etc/passwd and a #! script, in
// one deterministic layer — the image the transform tests and
// `npm run bench:transform` use. Needs `npm run build`.
// Usage: node scripts/build-busybox-image.mjs DEST [BUSYBOX]
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { buildDeterministicLayer } = await import(join(root, "dist/src/oci/deterministic-layer.js"));
const { buildImage } = await import(join(root, "dist/src/oci/memory-image.js"));
const { writeLayout } = await import(join(root, "dist/src/oci/layout.js"));

const dest = process.argv[2];
if (dest === undefined) {
  console.error("usage: build-busybox-image.mjs DEST [BUSYBOX]");
  process.exit(2);
}
const busybox = process.argv[3] ?? "/bin/busybox";
const applets = execFileSync(busybox, ["--list"], { encoding: "utf8" })
  .split("\n")
  .filter((a) => a !== "" && a !== "busybox")
  .sort();
const layer = await buildDeterministicLayer([
  { path: "/bin/busybox", type: "file", content: readFileSync(busybox), mode: 0o755 },
  ...applets.map((a) => ({ path: `/bin/${a}`, type: "symlink", target: "busybox" })),
  { path: "/etc/passwd", type: "file", content: Buffer.from("root:x:0:0:root:/root:/bin/sh\n") },
  {
    path: "/usr/local/bin/hello.sh",
    type: "file",
    content: Buffer.from("#!/bin/sh\necho hello from $0\n"),
    mode: 0o755,
  },
  { path: "/root", type: "directory", mode: 0o700 },
  { path: "/tmp", type: "directory", mode: 0o1777 },
]);
const image = await buildImage({
  config: {
    architecture: "amd64",
    os: "linux",
    config: { Env: ["PATH=/usr/local/bin:/bin"], Cmd: ["/bin/sh"] },
    rootfs: { type: "layers", diff_ids: [] },
  },
  layers: [layer],
  annotations: { "org.opencontainers.image.title": "busybox (Debian busybox-static)" },
});
rmSync(dest, { recursive: true, force: true });
await writeLayout(dest, "latest", { kind: "image", image });
console.log(`wrote oci:${dest}:latest ${image.digest.toString()}`);
