// Path resolution inside the image root (path_resolution(7)): absolute and
// relative symlinks, ".." clamped at the root, ELOOP after 40 links,
// ENOTDIR and ENOENT where Linux gives them, trailing slashes.
import { describe, expect, it } from "vitest";
import { createMemoryRootfs } from "../../helpers/memory-rootfs.js";
import { ELOOP, ENOENT, ENOTDIR } from "../../../src/vkernel/errno.js";
import { typeOfMode } from "../../../src/vkernel/vfs/constants.js";
import type { VfsStat } from "../../../src/vkernel/vfs/types.js";
import { imageVfs, readAll } from "./image-fixture.js";

const kind = (st: VfsStat | number): string | number =>
  typeof st === "number" ? st : typeOfMode(st.mode);

describe("image Vfs path resolution", () => {
  it("follows relative and absolute symlinks, in the middle and at the end", async () => {
    const { vfs } = await imageVfs();
    expect(readAll(vfs, "/etc/os-release")).toBe("ID=test\n");
    expect(readAll(vfs, "/lib/os-release")).toBe("ID=test\n");
    expect(readAll(vfs, "/bin/sh")).toBe("\x7fELF");
    expect(vfs.directory("/lib")).toBe("/usr/lib");
  });

  it("resolves relative paths from the base directory", async () => {
    const { vfs } = await imageVfs();
    const st = vfs.stat("os-release", false, "/etc");
    expect(typeof st === "number" ? st : st.size).toBe(8);
    expect(kind(vfs.stat("../usr/bin/env", false, "/etc"))).toBe("file");
  });

  it("keeps '..' and symlinks with too many '..' inside the root", async () => {
    const { vfs } = await imageVfs();
    expect(readAll(vfs, "/../../../etc/hostname")).toBe("image\n");
    expect(kind(vfs.stat("../../../..", false, "/usr/lib"))).toBe("directory");
    expect(vfs.directory("../../..", "/usr/lib")).toBe("/");
    // /escape -> ../../../etc lands on the image's /etc, never the host's.
    expect(readAll(vfs, "/escape/hostname")).toBe("image\n");
    expect(vfs.directory("/escape")).toBe("/etc");
  });

  it("reports ELOOP for a symlink cycle and for more than 40 links", async () => {
    const { vfs } = await imageVfs();
    expect(vfs.stat("/loop/a", false)).toBe(-ELOOP);
    expect(kind(vfs.stat("/loop/a", true))).toBe("symlink");
    const chain = Array.from({ length: 42 }, (_, i) => ({
      path: `/c/l${i}`,
      linkTarget: i === 41 ? "/target" : `l${i + 1}`,
    }));
    const deep = await imageVfs(
      createMemoryRootfs([...chain, { path: "/target", content: "end" }]),
    );
    // l2 reaches /target through 40 links; l1 needs 41 (symlink(7): MAXSYMLINKS is 40).
    expect(readAll(deep.vfs, "/c/l2")).toBe("end");
    expect(deep.vfs.stat("/c/l1", false)).toBe(-ELOOP);
    expect(deep.vfs.open("/c/l1", 0, 0)).toBe(-ELOOP);
  });

  it("gives ENOENT for missing components and ENOTDIR for files used as directories", async () => {
    const { vfs } = await imageVfs();
    expect(vfs.stat("/nope/hostname", false)).toBe(-ENOENT);
    expect(vfs.stat("/etc/nope", false)).toBe(-ENOENT);
    expect(vfs.stat("/etc/hostname/x", false)).toBe(-ENOTDIR);
    expect(vfs.stat("/etc/hostname/", false)).toBe(-ENOTDIR);
    expect(vfs.stat("", false)).toBe(-ENOENT);
    expect(kind(vfs.stat("/lib/", true))).toBe("directory");
  });
});
