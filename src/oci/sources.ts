// Opens an image source from a reference: a small registry mapping each
// transport to the function that opens it; "docker" is the registry client's
// transport (src/registry/docker-transport.ts).
import { MegaliftError } from "../errors.js";
import { openDockerSource } from "../registry/docker-transport.js";
import { openDockerArchiveSource } from "./docker-archive.js";
import { openLayoutSource } from "./layout.js";
import { formatReference, parseSourceReference } from "./reference.js";
import type { ImageSource, SourceReference, TransportName } from "./source.js";

/** Opens a parsed reference of one transport; `display` is the reference as the user wrote it. */
export type TransportOpener = (reference: SourceReference, display: string) => Promise<ImageSource>;

const transports = new Map<TransportName, TransportOpener>();

/** Installs (or replaces) the opener for a transport. */
export function registerTransport(name: TransportName, opener: TransportOpener): void {
  transports.set(name, opener);
}

registerTransport("oci", (reference, display) => {
  if (reference.transport !== "oci") throw transportMismatch("oci", reference);
  return openLayoutSource(reference, display);
});

registerTransport("docker-archive", (reference, display) => {
  if (reference.transport !== "docker-archive")
    throw transportMismatch("docker-archive", reference);
  return openDockerArchiveSource(reference, display);
});

registerTransport("docker", (reference, display) => {
  if (reference.transport !== "docker") throw transportMismatch("docker", reference);
  return openDockerSource(reference, display);
});

function transportMismatch(name: TransportName, reference: SourceReference): MegaliftError {
  return new MegaliftError(
    "USAGE",
    `the ${name} transport was asked to open ${formatReference(reference)}`,
  );
}

/** Opens the source a reference names (text in transport syntax, or already parsed). */
export async function openSource(reference: string | SourceReference): Promise<ImageSource> {
  const parsed = typeof reference === "string" ? parseSourceReference(reference) : reference;
  const display = typeof reference === "string" ? reference : formatReference(parsed);
  const opener = transports.get(parsed.transport);
  if (!opener) {
    throw new MegaliftError(
      "USAGE",
      `no transport registered for ${parsed.transport}: (${display})`,
    );
  }
  return opener(parsed, display);
}
