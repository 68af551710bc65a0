// Parses and formats source references in skopeo's transport syntax:
//   oci:DIR[:TAG|@DIGEST]  docker-archive:FILE[:REF]  docker://HOST/NAME[:TAG|@DIGEST]
// Parsing only: nothing here touches the filesystem or the network.
import { MegaliftError } from "../errors.js";
import { Digest } from "./digest.js";
import type { SourceReference } from "./source.js";

const ACCEPTED_FORMS =
  "oci:DIR[:TAG|@DIGEST], docker-archive:FILE[:REF], docker://[HOST/]NAME[:TAG|@DIGEST]";

/** Docker Hub, as named in normalised references (distribution/reference). */
export const DOCKER_HUB_REGISTRY = "docker.io";
const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

// distribution-spec "Pulling manifests": a tag is [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
// distribution-spec: repository path components [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* joined by '/'.
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
// A registry host: DNS labels or an IPv6 literal in brackets, with an optional port.
const HOST_RE =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?$/;
const MAX_REPOSITORY_LENGTH = 255;

function invalid(text: string, reason: string): MegaliftError {
  return new MegaliftError(
    "REFERENCE_INVALID",
    `invalid reference "${text}": ${reason} (accepted forms: ${ACCEPTED_FORMS})`,
  );
}

/** True when `tag` is a valid tag (distribution-spec tag grammar). */
export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/** Parses `text` as a source or destination reference; REFERENCE_INVALID otherwise. */
export function parseSourceReference(text: string): SourceReference {
  if (text.startsWith("docker://"))
    return parseDockerReference(text, text.slice("docker://".length));
  if (text.startsWith("oci:")) return parseOciReference(text, text.slice("oci:".length));
  if (text.startsWith("docker-archive:")) {
    return parseDockerArchiveReference(text, text.slice("docker-archive:".length));
  }
  if (text.startsWith("docker:"))
    throw invalid(text, 'the docker transport is written "docker://"');
  const colon = text.indexOf(":");
  if (colon > 0 && /^[a-z-]+$/.test(text.slice(0, colon))) {
    throw invalid(text, `unknown transport "${text.slice(0, colon)}"`);
  }
  throw invalid(text, "no transport given");
}

/**
 * oci:DIR[:TAG|@DIGEST]. As skopeo does, the text after the last ':' is a tag
 * only if it is a valid tag and holds no '/', so directories may contain ':'.
 */
function parseOciReference(text: string, rest: string): SourceReference {
  const at = rest.lastIndexOf("@");
  if (at >= 0 && Digest.isValid(rest.slice(at + 1))) {
    const dir = rest.slice(0, at);
    if (dir === "") throw invalid(text, "the directory is empty");
    return { transport: "oci", dir, digest: rest.slice(at + 1) };
  }
  const colon = rest.lastIndexOf(":");
  if (colon >= 0) {
    const tag = rest.slice(colon + 1);
    if (!tag.includes("/") && isValidTag(tag)) {
      const dir = rest.slice(0, colon);
      if (dir === "") throw invalid(text, "the directory is empty");
      return { transport: "oci", dir, tag };
    }
    if (tag === "") throw invalid(text, "the tag after ':' is empty");
  }
  if (rest === "") throw invalid(text, "the directory is empty");
  return { transport: "oci", dir: rest };
}

/**
 * docker-archive:FILE[:REF]. As skopeo does, FILE ends at the first ':'; REF is
 * a RepoTag of the archive (NAME:TAG) or @N, the N-th image (from 0).
 */
function parseDockerArchiveReference(text: string, rest: string): SourceReference {
  const colon = rest.indexOf(":");
  const file = colon >= 0 ? rest.slice(0, colon) : rest;
  if (file === "") throw invalid(text, "the archive file is empty");
  if (colon < 0) return { transport: "docker-archive", file };
  const ref = rest.slice(colon + 1);
  if (/^@[0-9]+$/.test(ref)) return { transport: "docker-archive", file, ref };
  const named = splitNameTagDigest(ref);
  if (!named || named.tag === undefined || named.digest !== undefined) {
    throw invalid(text, `"${ref}" is not NAME:TAG or @INDEX`);
  }
  const reason = checkName(named.name);
  if (reason) throw invalid(text, reason);
  return { transport: "docker-archive", file, ref };
}

/** docker://[HOST/]NAME[:TAG][@DIGEST], normalised like `docker pull` does. */
function parseDockerReference(text: string, rest: string): SourceReference {
  const named = splitNameTagDigest(rest);
  if (!named) throw invalid(text, "the image name is empty");
  const reason = checkName(named.name);
  if (reason) throw invalid(text, reason);
  const { registry, repository } = normaliseName(named.name);
  const tag = named.tag ?? (named.digest === undefined ? "latest" : undefined);
  return {
    transport: "docker",
    registry,
    repository,
    ...(tag !== undefined ? { tag } : {}),
    ...(named.digest !== undefined ? { digest: named.digest } : {}),
  };
}

interface NameTagDigest {
  readonly name: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** Splits NAME[:TAG][@DIGEST]; undefined if a part is malformed or the name is empty. */
function splitNameTagDigest(text: string): NameTagDigest | undefined {
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    if (!Digest.isValid(digest)) return undefined;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon >= 0 && !rest.slice(colon + 1).includes("/")) {
    tag = rest.slice(colon + 1);
    if (!isValidTag(tag)) return undefined;
    rest = rest.slice(0, colon);
  }
  if (rest === "") return undefined;
  return { name: rest, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** Why `name` is not a valid image name, or undefined if it is. */
function checkName(name: string): string | undefined {
  const { host, path } = splitHost(name);
  if (host !== undefined && !HOST_RE.test(host)) return `"${host}" is not a valid registry host`;
  if (path.length > MAX_REPOSITORY_LENGTH)
    return `the repository name is longer than 255 characters`;
  for (const component of path.split("/")) {
    if (!PATH_COMPONENT_RE.test(component)) {
      return `"${component}" is not a valid repository name component (lowercase letters, digits, separators . _ __ -)`;
    }
  }
  return undefined;
}

/**
 * distribution/reference: the first component is a registry host when it
 * holds a '.' or a ':' or is "localhost"; otherwise the name is on Docker Hub.
 */
function splitHost(name: string): { host?: string; path: string } {
  const slash = name.indexOf("/");
  if (slash < 0) return { path: name };
  const first = name.slice(0, slash);
  if (
    first.includes(".") ||
    first.includes(":") ||
    first === "localhost" ||
    first.startsWith("[")
  ) {
    return { host: first, path: name.slice(slash + 1) };
  }
  return { path: name };
}

/** Docker Hub defaults: registry docker.io, and library/ for one-component names. */
function normaliseName(name: string): { registry: string; repository: string } {
  const { host, path } = splitHost(name);
  const registry = host === undefined || DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB_REGISTRY : host;
  const repository =
    registry === DOCKER_HUB_REGISTRY && !path.includes("/") ? `library/${path}` : path;
  return { registry, repository };
}

/**
 * The normalised form of a Docker image reference NAME[:TAG] as
 * registry/repository:tag (tag latest when absent), for comparing the
 * RepoTags of a docker-archive with what the user wrote. undefined if it
 * does not parse.
 */
export function normaliseDockerTag(text: string): string | undefined {
  const named = splitNameTagDigest(text);
  if (!named || named.digest !== undefined || checkName(named.name) !== undefined) return undefined;
  const { registry, repository } = normaliseName(named.name);
  return `${registry}/${repository}:${named.tag ?? "latest"}`;
}

/** The reference written back in transport syntax (parseSourceReference's inverse). */
export function formatReference(ref: SourceReference): string {
  switch (ref.transport) {
    case "oci":
      if (ref.digest !== undefined) return `oci:${ref.dir}@${ref.digest}`;
      return ref.tag !== undefined ? `oci:${ref.dir}:${ref.tag}` : `oci:${ref.dir}`;
    case "docker-archive":
      return ref.ref !== undefined
        ? `docker-archive:${ref.file}:${ref.ref}`
        : `docker-archive:${ref.file}`;
    case "docker": {
      const tag = ref.tag !== undefined ? `:${ref.tag}` : "";
      const digest = ref.digest !== undefined ? `@${ref.digest}` : "";
      return `docker://${ref.registry}/${ref.repository}${tag}${digest}`;
    }
  }
}
