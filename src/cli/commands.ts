// The table of CLI commands and the top-level help text. A command's module
// (and what it imports: the proxy's HTTP stack, the signer, the lifter…) loads
// only when that command runs: importing all eight cost 65-78 ms of every
// `megalift exec`, against 17-20 ms for exec's alone.
import type { CliCommand } from "./command.js";

export interface CommandEntry {
  readonly name: string;
  /** One line for the top-level help. */
  readonly summary: string;
  load(): Promise<CliCommand>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: "scan",
    summary: "list every ELF and #! script in an image with its BLAKE3 hash",
    load: async () => (await import("./commands/scan.js")).scanCommand,
  },
  {
    name: "transform",
    summary: "turn an image into a signed megabinary image",
    load: async () => (await import("./commands/transform.js")).transformCommand,
  },
  {
    name: "run",
    summary: "run a command inside an image in the vkernel",
    load: async () => (await import("./commands/run.js")).runCommand,
  },
  {
    name: "proxy",
    summary: "run the OCI registry pull-through proxy",
    load: async () => (await import("./commands/proxy.js")).proxyCommand,
  },
  {
    name: "verify",
    summary: "check a transformed image's signature, megabinary and mapping",
    load: async () => (await import("./commands/verify.js")).verifyCommand,
  },
  {
    name: "generate-key-pair",
    summary: "write an ECDSA P-256 key pair for signing transformed images",
    load: async () => (await import("./commands/generate-key-pair.js")).generateKeyPairCommand,
  },
  {
    name: "lift",
    summary: "lift a static x86-64 ELF to WebAssembly and print a coverage report",
    load: async () => (await import("./commands/lift.js")).liftCommand,
  },
  {
    name: "exec",
    summary: "lift a static program (cached) and run it in the vkernel",
    load: async () => (await import("./commands/exec.js")).execCommand,
  },
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
