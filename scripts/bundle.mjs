// Bundles the built CLI (dist/src/cli/main.js, from tsc) into dist/bundle/
// with esbuild: the `megalift` command then loads a few ES modules instead of
// about 110. Node 20 resolves, reads and links each ES module on its own
// (package.json lookups, URL handling); measured, that was about 60 ms of the
// 0.42 s of every `megalift exec`. Each command stays its own chunk, loaded
// only when it runs (src/cli/commands.ts). Packages in node_modules are not
// bundled. The lifter's fingerprint (lift-cache.ts) is computed here from the
// built lifter modules and written into the bundle, so the bundled and the
// unbundled CLI (which the lift workers and some tests run) share their lift
// cache, and the bundle does not hash its own files on every run.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(fileURLToPath(import.meta.url), "..", "..");
const { lifterFingerprint } = await import(join(root, "dist", "src", "lift", "lift-cache.js"));
const outdir = join(root, "dist", "bundle");
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { megalift: "dist/src/cli/main.js" },
  outdir,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  define: { MEGALIFT_LIFT_FINGERPRINT: JSON.stringify(lifterFingerprint()) },
  logLevel: "warning",
});
