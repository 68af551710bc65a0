#!/usr/bin/env node
// Builds fixtures/images/demo, the small OCI layout `npm start` scans: the
// static hello programs (glibc and musl), the dynamic PIE and its shared
// library, and a #! script, in one deterministic layer. Needs `npm run build`.
// Usage: node scripts/build-demo-image.mjs [DEST]
import { readFileSync, rmSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { buildDeterministicLayer } = await import(join(root, "dist/src/oci/deterministic-layer.js"));
const { buildImage } = await import(join(root, "dist/src/oci/memory-image.js"));
const { writeLayout } = await import(join(root, "dist/src/oci/layout.js"));

const dest = process.argv[2] ?? join(root, "fixtures", "images", "demo");
const bin = (p) => readFileSync(join(root, "fixtures", "bin", p));

const layer = await buildDeterministicLayer([
  { path: "/bin/hello-glibc", type: "file", content: bin("glibc/hello"), mode: 0o755 },
  { path: "/bin/hello-musl", type: "file", content: bin("musl/hello"), mode: 0o755 },
  { path: "/bin/hello-copy", type: "file", content: bin("musl/hello"), mode: 0o755 },
  { path: "/bin/greet", type: "file", content: bin("dynamic/greet"), mode: 0o755 },
  { path: "/lib/libgreet.so.1", type: "file", content: bin("dynamic/libgreet.so.1"), mode: 0o644 },
  { path: "/bin/hello.sh", type: "file", content: bin("scripts/hello.sh"), mode: 0o755 },
  { path: "/bin/sh", type: "symlink", target: "hello-musl" },
  { path: "/etc/motd", type: "file", content: Buffer.from("megalift demo image\n") },
]);
const image = await buildImage({
  config: {
    architecture: "amd64",
    os: "linux",
    config: { Env: ["PATH=/bin"], Cmd: ["/bin/hello-musl"] },
    rootfs: { type: "layers", diff_ids: [] },
  },
  layers: [layer],
  annotations: { "org.opencontainers.image.title": "megalift demo" },
});
rmSync(dest, { recursive: true, force: true });
await writeLayout(dest, "latest", { kind: "image", image });
console.log(`wrote oci:${dest}:latest ${image.digest.toString()}`);
