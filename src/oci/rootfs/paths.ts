// Path strings of the rootfs view: turning tar entry names into absolute,
// normalised image paths, and splitting and joining those paths. Tar names
// are relative to the image root (OCI image-spec layer.md "Changesets");
// a name that is absolute or whose ".." climbs above the root is refused,
// the way containerd's applier refuses it, because it would write outside
// the root on extraction.
import { MegaliftError } from "../../errors.js";

/** The components of a path with "", "." removed; ".." kept for the caller. */
export function pathComponents(path: string): string[] {
  return path.split("/").filter((c) => c !== "" && c !== ".");
}

/** "/" + components joined: the absolute form of a component list. */
export function joinComponents(components: readonly string[]): string {
  return "/" + components.join("/");
}

/** Appends one name to an absolute directory path. */
export function childPath(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}

/** Splits an absolute normalised path into its parent and its last name ("/" has neither). */
export function splitParent(path: string): { parent: string; name: string } {
  const slash = path.lastIndexOf("/");
  return { parent: slash <= 0 ? "/" : path.slice(0, slash), name: path.slice(slash + 1) };
}

/**
 * Normalises a tar entry name (or a hardlink's link name) to an absolute
 * image path: strips "./", collapses "//" and ".", folds "a/.." lexically
 * (as filepath.Clean does in containerd), and throws PATH_ESCAPE for an
 * absolute name or one whose ".." climbs above the root. `what` names the
 * layer and entry for the message. An empty name is LAYER_CORRUPT.
 */
export function normalizeTarName(name: string, what: string): string {
  if (name === "") {
    throw new MegaliftError("LAYER_CORRUPT", `${what}: tar entry with an empty name`);
  }
  if (name.startsWith("/")) {
    throw new MegaliftError(
      "PATH_ESCAPE",
      `${what}: an absolute path would be written outside the image root`,
    );
  }
  const out: string[] = [];
  for (const c of pathComponents(name)) {
    if (c !== "..") {
      out.push(c);
    } else if (out.length > 0) {
      out.pop();
    } else {
      throw new MegaliftError("PATH_ESCAPE", `${what}: ".." climbs above the image root`);
    }
  }
  return joinComponents(out);
}

/**
 * Normalises a path given to the view (absolute or not) lexically, with
 * ".." at the root staying at the root as in a chroot (path_resolution(7)).
 */
export function normalizeViewPath(path: string): string {
  const out: string[] = [];
  for (const c of pathComponents(path)) {
    if (c === "..") out.pop();
    else out.push(c);
  }
  return joinComponents(out);
}

/** Compares two paths by the bytes of their UTF-8 encodings (the order of entries()). */
export function compareUtf8(a: string, b: string): number {
  // UTF-16 code unit order equals UTF-8 byte order except between surrogate
  // pairs (U+10000 and up) and U+E000..U+FFFF; only then fall back to bytes.
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) return Buffer.compare(Buffer.from(a), Buffer.from(b));
    return x - y;
  }
  return a.length - b.length;
}
