// The table of CLI commands and the top-level help text.
import type { CliCommand } from "./command.js";
import { scanCommand } from "./commands/scan.js";
import { proxyCommand } from "./commands/proxy.js";
import { verifyCommand } from "./commands/verify.js";
import { generateKeyPairCommand } from "./commands/generate-key-pair.js";
import { liftCommand } from "./commands/lift.js";
import { execCommand } from "./commands/exec.js";
import { transformCommand } from "./commands/transform.js";
import { runCommand } from "./commands/run.js";

export const COMMANDS: readonly CliCommand[] = [
  scanCommand,
  transformCommand,
  runCommand,
  proxyCommand,
  verifyCommand,
  generateKeyPairCommand,
  liftCommand,
  execCommand,
];

export function renderHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    "megalift — turn Linux container images into one WebAssembly megabinary",
    "",
    "Usage: megalift <command> [options]",
    "",
    "Commands:",
    ...lines,
    "",
    "Image sources (skopeo-style transports):",
    "  oci:DIR[:TAG|@DIGEST]        an OCI image layout directory",
    "  docker-archive:FILE[:REF]    a tarball written by `docker save`",
    "  docker://HOST/NAME[:TAG|@DIGEST]  a registry (MEGALIFT_INSECURE_REGISTRIES=host,… for plain http)",
    "",
    "Run `megalift <command> --help` for a command's options.",
    "Environment: MEGALIFT_CACHE_DIR (default ~/.cache/megalift), MEGALIFT_DEBUG=1 for stack traces.",
    "",
  ].join("\n");
}
