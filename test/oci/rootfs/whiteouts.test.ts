// Whiteouts across layers (OCI image-spec layer.md "Whiteouts"): file and
// directory whiteouts, opaque directories, same-layer entries, harmless
// whiteouts of nothing, and whiteout files never showing in the view.
import { describe, expect, test } from "vitest";
import { isMegaliftError } from "../../../src/errors.js";
import { classifyWhiteout } from "../../../src/oci/rootfs/whiteouts.js";
import { flatten, paths, textAt } from "./rootfs-test-kit.js";

const base = [
  { name: "etc/", type: "directory" as const },
  { name: "etc/passwd", content: "root:x:0:0" },
  { name: "etc/shadow", content: "root:*" },
  { name: "etc/ssl/", type: "directory" as const },
  { name: "etc/ssl/certs/", type: "directory" as const },
  { name: "etc/ssl/certs/ca.pem", content: "CA" },
  { name: "etc/ssl/openssl.cnf", content: "cnf" },
];

describe("whiteouts", () => {
  test(".wh.NAME removes a lower-layer file and is not itself in the view", async () => {
    const view = await flatten([base, [{ name: "etc/.wh.shadow", content: "" }]]);
    expect(view.lstat("/etc/shadow")).toBeUndefined();
    expect(view.lstat("/etc/.wh.shadow")).toBeUndefined();
    expect(await textAt(view, "/etc/passwd")).toBe("root:x:0:0");
  });

  test(".wh.DIR removes a lower-layer directory and its whole subtree", async () => {
    const view = await flatten([base, [{ name: "etc/.wh.ssl", content: "" }]]);
    expect(paths(view)).toEqual(["/", "/etc", "/etc/passwd", "/etc/shadow"]);
  });

  test("a whiteout then a new entry of the same name in the same layer: the new one stays", async () => {
    const view = await flatten([
      base,
      [
        { name: "etc/ssl/", type: "directory" },
        { name: "etc/ssl/new.pem", content: "NEW" },
        // Written after the replacement on purpose: position in the tar does not matter.
        { name: "etc/.wh.ssl", content: "" },
      ],
    ]);
    expect(paths(view).filter((p) => p.startsWith("/etc/ssl"))).toEqual([
      "/etc/ssl",
      "/etc/ssl/new.pem",
    ]);
  });

  test("an opaque directory hides lower children but keeps its own layer's", async () => {
    const view = await flatten([
      base,
      [
        { name: "etc/ssl/", type: "directory", mode: 0o700 },
        { name: "etc/ssl/mine.pem", content: "MINE" },
        { name: "etc/ssl/.wh..wh..opq", content: "" },
      ],
    ]);
    expect(paths(view).filter((p) => p.startsWith("/etc/ssl"))).toEqual([
      "/etc/ssl",
      "/etc/ssl/mine.pem",
    ]);
    expect(view.lstat("/etc/ssl")?.mode).toBe(0o700);
    expect(view.lstat("/etc/ssl")?.layer).toBe(1);
    expect(view.lstat("/etc/passwd")?.layer).toBe(0); // siblings of the opaque dir are untouched
  });

  test("an opaque marker only hides layers below: a later layer can add again", async () => {
    const view = await flatten([
      base,
      [{ name: "etc/.wh..wh..opq", content: "" }],
      [{ name: "etc/hostname", content: "box" }],
    ]);
    expect(paths(view)).toEqual(["/", "/etc", "/etc/hostname"]);
  });

  test("a whiteout of a path that never existed is harmless", async () => {
    const view = await flatten([
      base,
      [
        { name: "etc/.wh.nothing-here", content: "" },
        { name: "opt/missing/.wh.ghost", content: "" },
        { name: "var/.wh..wh..opq", content: "" },
      ],
    ]);
    expect(paths(view).filter((p) => p.includes(".wh."))).toEqual([]);
    expect(await textAt(view, "/etc/shadow")).toBe("root:*");
    // As docker and containerd do, a whiteout's missing parents are created
    // (implied directories), and nothing else changes.
    expect(paths(view)).toEqual([
      "/",
      "/etc",
      "/etc/passwd",
      "/etc/shadow",
      "/etc/ssl",
      "/etc/ssl/certs",
      "/etc/ssl/certs/ca.pem",
      "/etc/ssl/openssl.cnf",
      "/opt",
      "/opt/missing",
      "/var",
    ]);
    expect(view.lstat("/opt/missing")).toMatchObject({ type: "directory", mode: 0o755, layer: 1 });
  });

  test("whiteouts follow symlinked parent directories of lower layers", async () => {
    const view = await flatten([
      [...base, { name: "config", type: "symlink", linkname: "etc" }],
      [{ name: "config/.wh.passwd", content: "" }],
    ]);
    expect(view.lstat("/etc/passwd")).toBeUndefined();
    expect(view.lstat("/config")?.type).toBe("symlink");
  });

  test("a whiteout of a symlink removes the link, not what it points to", async () => {
    const view = await flatten([
      [...base, { name: "ssl", type: "symlink", linkname: "/etc/ssl" }],
      [{ name: ".wh.ssl", content: "" }],
    ]);
    expect(view.lstat("/ssl")).toBeUndefined();
    expect(view.lstat("/etc/ssl/certs/ca.pem")?.type).toBe("file");
  });

  test("aufs metadata (.wh..wh.plnk) never appears", async () => {
    const view = await flatten([
      [
        { name: ".wh..wh.plnk/", type: "directory" },
        { name: ".wh..wh.plnk/1234.5678", content: "aufs" },
        { name: "keep", content: "k" },
      ],
    ]);
    expect(paths(view)).toEqual(["/", "/keep"]);
  });

  test('a whiteout naming ".." is LAYER_CORRUPT', () => {
    let caught: unknown;
    try {
      classifyWhiteout("/etc/.wh...", "layer sha256:x entry etc/.wh...");
    } catch (err) {
      caught = err;
    }
    expect(isMegaliftError(caught, "LAYER_CORRUPT")).toBe(true);
  });
});
