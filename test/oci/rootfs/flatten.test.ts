// Flattening layers: replacement rules, implied parents, every entry type,
// hardlinks, entries placed through symlinks, and the errors for hostile or
// broken layers (each naming the layer digest and the entry).
import { createGunzip } from "node:zlib";
import { describe, expect, test } from "vitest";
import { isMegaliftError } from "../../../src/errors.js";
import { Digest } from "../../../src/oci/digest.js";
import type { Layer } from "../../../src/oci/image.js";
import { MediaType } from "../../../src/oci/media-types.js";
import { buildRootfs, type RootfsProgress } from "../../../src/oci/rootfs/flatten.js";
import { memoryLayer } from "../../helpers/memory-layer.js";
import { buildTar, buildTarGz, type TarEntrySpec } from "../../helpers/tar.js";
import { entryAt, flatten, paths, tempStore, textAt } from "./rootfs-test-kit.js";

async function flattenError(
  layers: readonly (readonly TarEntrySpec[] | Uint8Array)[],
): Promise<Error> {
  try {
    await flatten(layers);
  } catch (err) {
    if (err instanceof Error) return err;
  }
  throw new Error("expected flattening to fail");
}

describe("buildRootfs", () => {
  test("creates implied parent directories as root-owned 0755", async () => {
    const view = await flatten([[{ name: "usr/local/bin/tool", content: "t", uid: 1000 }]]);
    expect(paths(view)).toEqual([
      "/",
      "/usr",
      "/usr/local",
      "/usr/local/bin",
      "/usr/local/bin/tool",
    ]);
    expect(entryAt(view, "/usr/local")).toMatchObject({
      type: "directory",
      mode: 0o755,
      uid: 0,
      gid: 0,
      layer: 0,
    });
    expect(entryAt(view, "/usr/local/bin/tool").uid).toBe(1000);
  });

  test("a directory header after its children still sets the directory's metadata", async () => {
    const view = await flatten([
      [
        { name: "srv/data/file", content: "x" },
        { name: "srv/data/", type: "directory", mode: 0o750, uid: 33, gid: 33 },
      ],
    ]);
    expect(entryAt(view, "/srv/data")).toMatchObject({ mode: 0o750, uid: 33, gid: 33 });
    expect(await textAt(view, "/srv/data/file")).toBe("x");
  });

  test("a later layer's file replaces an earlier file", async () => {
    const view = await flatten([
      [{ name: "etc/motd", content: "old" }],
      [{ name: "etc/motd", content: "new", mode: 0o600 }],
    ]);
    expect(await textAt(view, "/etc/motd")).toBe("new");
    expect(entryAt(view, "/etc/motd")).toMatchObject({ mode: 0o600, layer: 1, size: 3 });
  });

  test("a directory over a directory merges: children kept, metadata from the later layer", async () => {
    const view = await flatten([
      [
        { name: "opt/", type: "directory", mode: 0o755 },
        { name: "opt/a", content: "a" },
      ],
      [
        { name: "opt/", type: "directory", mode: 0o700 },
        { name: "opt/b", content: "b" },
      ],
    ]);
    expect(paths(view)).toEqual(["/", "/opt", "/opt/a", "/opt/b"]);
    expect(entryAt(view, "/opt")).toMatchObject({ mode: 0o700, layer: 1 });
  });

  test("a file over a directory removes the whole subtree", async () => {
    const view = await flatten([
      [
        { name: "opt/app/", type: "directory" },
        { name: "opt/app/lib/x.so", content: "so" },
      ],
      [{ name: "opt/app", content: "now a file" }],
    ]);
    expect(paths(view)).toEqual(["/", "/opt", "/opt/app"]);
    expect(await textAt(view, "/opt/app")).toBe("now a file");
  });

  test("a directory over a file replaces the file", async () => {
    const view = await flatten([
      [{ name: "opt/app", content: "a file" }],
      [
        { name: "opt/app/", type: "directory" },
        { name: "opt/app/run", content: "r" },
      ],
    ]);
    expect(entryAt(view, "/opt/app").type).toBe("directory");
    expect(entryAt(view, "/opt/app").content).toBeUndefined();
    expect(await textAt(view, "/opt/app/run")).toBe("r");
  });

  test("symlinks, char and block devices and fifos keep their details", async () => {
    const view = await flatten([
      [
        { name: "bin/sh", type: "symlink", linkname: "dash" },
        { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 },
        { name: "dev/sda", type: "block-device", devmajor: 8, devminor: 0, mode: 0o660, gid: 6 },
        { name: "run/initctl", type: "fifo", mode: 0o600 },
      ],
    ]);
    expect(entryAt(view, "/bin/sh")).toMatchObject({
      type: "symlink",
      linkTarget: "dash",
      size: 0,
    });
    expect(entryAt(view, "/dev/null")).toMatchObject({
      type: "char",
      devMajor: 1,
      devMinor: 3,
      mode: 0o666,
    });
    expect(entryAt(view, "/dev/sda")).toMatchObject({
      type: "block",
      devMajor: 8,
      devMinor: 0,
      gid: 6,
    });
    expect(entryAt(view, "/run/initctl")).toMatchObject({ type: "fifo", mode: 0o600 });
    expect([...view.files()]).toEqual([]);
  });

  test("a hardlink gets its target's content and inode metadata, and outlives the target", async () => {
    const view = await flatten([
      [
        { name: "usr/bin/perl5.36", content: "#perl", mode: 0o755 },
        { name: "usr/bin/perl", type: "link", linkname: "usr/bin/perl5.36", mode: 0o644 },
      ],
      [{ name: "usr/bin/.wh.perl5.36", content: "" }],
    ]);
    const link = entryAt(view, "/usr/bin/perl");
    expect(link).toMatchObject({
      type: "hardlink",
      linkTarget: "/usr/bin/perl5.36",
      mode: 0o755,
      size: 5,
    });
    expect(await view.readFile(link)).toEqual(Buffer.from("#perl"));
    expect(view.lstat("/usr/bin/perl5.36")).toBeUndefined();
    expect([...view.files()].map((e) => e.path)).toEqual(["/usr/bin/perl"]);
  });

  test("a hardlink may point into a lower layer", async () => {
    const view = await flatten([
      [{ name: "lib/libc.so.6", content: "ELF" }],
      [{ name: "lib/libc-2.36.so", type: "link", linkname: "lib/libc.so.6" }],
    ]);
    expect(await textAt(view, "/lib/libc-2.36.so")).toBe("ELF");
    expect(entryAt(view, "/lib/libc-2.36.so").layer).toBe(1);
  });

  test("a hardlink to a device is a copy of the device entry", async () => {
    const view = await flatten([
      [
        { name: "dev/zero", type: "character-device", devmajor: 1, devminor: 5 },
        { name: "dev/zero2", type: "link", linkname: "dev/zero" },
      ],
    ]);
    expect(entryAt(view, "/dev/zero2")).toMatchObject({ type: "char", devMajor: 1, devMinor: 5 });
  });

  test("a hardlink whose target does not exist is LAYER_CORRUPT naming the layer", async () => {
    const tar = await buildTar([{ name: "bin/ghost", type: "link", linkname: "bin/nowhere" }]);
    const err = await flattenError([tar]);
    expect(isMegaliftError(err, "LAYER_CORRUPT")).toBe(true);
    expect(err.message).toContain(`layer ${Digest.of(tar).toString()}`);
    expect(err.message).toContain('"bin/ghost"');
  });

  test("a hardlink to a directory is LAYER_CORRUPT", async () => {
    const err = await flattenError([
      [
        { name: "etc/", type: "directory" },
        { name: "etc2", type: "link", linkname: "etc" },
      ],
    ]);
    expect(isMegaliftError(err, "LAYER_CORRUPT")).toBe(true);
  });

  test("a hardlink target outside the root is PATH_ESCAPE", async () => {
    const err = await flattenError([[{ name: "x", type: "link", linkname: "../etc/passwd" }]]);
    expect(isMegaliftError(err, "PATH_ESCAPE")).toBe(true);
  });

  test("an entry below a symlink lands where the symlink leads (inside the root)", async () => {
    const view = await flatten([
      [
        { name: "usr/lib/", type: "directory" },
        { name: "lib", type: "symlink", linkname: "usr/lib" },
        { name: "abs", type: "symlink", linkname: "/usr/lib" },
      ],
      [
        { name: "lib/libz.so.1", content: "z" },
        { name: "abs/sub/libm.so.6", content: "m" },
      ],
    ]);
    expect(await textAt(view, "/usr/lib/libz.so.1")).toBe("z");
    expect(await textAt(view, "/usr/lib/sub/libm.so.6")).toBe("m");
    expect(entryAt(view, "/lib").type).toBe("symlink");
    expect(view.lstat("/lib/libz.so.1")).toBeUndefined();
    expect(view.resolve("/lib/libz.so.1")?.path).toBe("/usr/lib/libz.so.1");
  });

  test("an entry below a dangling symlink creates the link's target directories", async () => {
    const view = await flatten([
      [
        { name: "data", type: "symlink", linkname: "/srv/data" },
        { name: "data/f", content: "f" },
      ],
    ]);
    expect(entryAt(view, "/srv/data").type).toBe("directory");
    expect(await textAt(view, "/srv/data/f")).toBe("f");
  });

  test("a symlink's own entry is replaced, not followed", async () => {
    const view = await flatten([
      [
        { name: "etc/", type: "directory" },
        { name: "etc/resolv.conf", type: "symlink", linkname: "/run/resolv" },
      ],
      [{ name: "etc/resolv.conf", content: "nameserver 1.1.1.1" }],
    ]);
    expect(entryAt(view, "/etc/resolv.conf").type).toBe("file");
    expect(view.lstat("/run")).toBeUndefined();
  });

  test("an entry through a symlink that climbs above the root is PATH_ESCAPE", async () => {
    const tar = await buildTar([
      { name: "up", type: "symlink", linkname: "../../.." },
      { name: "up/etc/cron.d/evil", content: "* * * * * root sh" },
    ]);
    const err = await flattenError([tar]);
    expect(isMegaliftError(err, "PATH_ESCAPE")).toBe(true);
    expect(err.message).toContain(`layer ${Digest.of(tar).toString()}`);
    expect(err.message).toContain('"up/etc/cron.d/evil"');
    expect(err.message).not.toContain("\n");
  });

  test("a symlink from a lower layer that climbs out is PATH_ESCAPE when an upper entry uses it", async () => {
    const err = await flattenError([
      [
        { name: "var/", type: "directory" },
        { name: "var/tmp", type: "symlink", linkname: "../../tmp" },
      ],
      [{ name: "var/tmp/x", content: "x" }],
    ]);
    expect(isMegaliftError(err, "PATH_ESCAPE")).toBe(true);
  });

  test("an escaping symlink nobody goes through is kept as it is", async () => {
    const view = await flatten([[{ name: "weird", type: "symlink", linkname: "../../../etc" }]]);
    expect(entryAt(view, "/weird").linkTarget).toBe("../../../etc");
  });

  test("a file where a directory is needed is LAYER_CORRUPT", async () => {
    const err = await flattenError([
      [
        { name: "a", content: "file" },
        { name: "a/b", content: "b" },
      ],
    ]);
    expect(isMegaliftError(err, "LAYER_CORRUPT")).toBe(true);
    expect(err.message).toContain("not a directory");
  });

  test("a truncated layer is LAYER_CORRUPT naming the layer digest", async () => {
    const full = await buildTar([{ name: "big", content: "q".repeat(10_000) }]);
    const cut = full.subarray(0, 4000);
    const err = await flattenError([[{ name: "ok", content: "ok" }], cut]);
    expect(isMegaliftError(err, "LAYER_CORRUPT")).toBe(true);
    expect(err.message).toContain(Digest.of(cut).toString());
  });

  test("reports progress per layer", async () => {
    const layers = await Promise.all([
      buildTar([{ name: "a", content: "12345" }]),
      buildTar([
        { name: "b", content: "123" },
        { name: "c/", type: "directory" },
      ]),
    ]);
    const events: RootfsProgress[] = [];
    await buildRootfs(
      layers.map((t) => memoryLayer(t)),
      {
        store: await tempStore(),
        onProgress: (p) => events.push(p),
      },
    );
    expect(events.map((e) => [e.layer, e.phase, e.entries, e.bytes])).toEqual([
      [0, "start", 0, 0],
      [0, "done", 1, 5],
      [1, "start", 0, 0],
      [1, "done", 2, 3],
    ]);
    expect(events[3]?.digest.equals(Digest.of(layers[1] as Buffer))).toBe(true);
  });

  test("reads whatever Layer.uncompressed() yields, so compressed layers work too", async () => {
    const gz = await buildTarGz([{ name: "etc/os-release", content: "ID=test" }]);
    const plain = memoryLayer(gz);
    const gzipLayer: Layer = {
      ...plain,
      mediaType: MediaType.OciLayerGzip,
      compression: "gzip",
      uncompressed: async () => (await plain.compressed()).pipe(createGunzip()),
    };
    const view = await buildRootfs([gzipLayer], { store: await tempStore() });
    expect(await textAt(view, "/etc/os-release")).toBe("ID=test");
  });

  test("no layers give an empty root", async () => {
    const view = await flatten([]);
    expect(paths(view)).toEqual(["/"]);
    expect(view.fileCount).toBe(0);
  });
});
