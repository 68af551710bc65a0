// The image Vfs's upper layer beyond reading and writing: hard links as one
// shared node, chmod/chown/utimensat recorded on copied-up inodes, mkdir and
// create modes, set-group-ID inheritance, statfs, and the open(2) flag
// checks that sit in front of every backend.
import { describe, expect, it } from "vitest";
import { EEXIST, EINVAL, EISDIR, ELOOP, ENOENT, EPERM } from "../../../src/vkernel/errno.js";
import {
  EOPNOTSUPP,
  EXDEV,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_PATH,
  O_TRUNC,
  typeOfMode,
} from "../../../src/vkernel/vfs/constants.js";
import { imageVfs, listNames, mustOpen, O_CREAT, O_RDWR, readAll, text } from "./image-fixture.js";
import type { Vfs, VfsStat } from "../../../src/vkernel/vfs/index.js";

function statOf(vfs: Vfs, path: string, noFollow = false): VfsStat {
  const st = vfs.stat(path, noFollow);
  if (typeof st === "number") throw new Error(`stat ${path}: errno ${-st}`);
  return st;
}

const permissions = (st: VfsStat): number => st.mode & 0o7777;

describe("image upper layer: hard links", () => {
  it("links an image file: one copied-up inode at two paths, nlink counted", async () => {
    const { vfs } = await imageVfs();
    expect(vfs.link("/etc/hostname", "/etc/alias", false)).toBe(0);
    const a = statOf(vfs, "/etc/hostname");
    const b = statOf(vfs, "/etc/alias");
    expect(a.ino).toBe(b.ino);
    expect(a.nlink).toBe(2);
    const file = mustOpen(vfs, "/etc/alias", O_RDWR);
    expect(file.write(text("IMAGE"))).toBe(5);
    file.release();
    expect(readAll(vfs, "/etc/hostname")).toBe("IMAGE\n");
    expect(vfs.unlink("/etc/hostname")).toBe(0);
    expect(statOf(vfs, "/etc/alias").nlink).toBe(1);
    expect(readAll(vfs, "/etc/alias")).toBe("IMAGE\n");
  });

  it("refuses directories, existing targets and missing sources", async () => {
    const { vfs } = await imageVfs();
    expect(vfs.link("/var/empty", "/var/e2", false)).toBe(-EPERM);
    expect(vfs.link("/etc/hostname", "/etc/shadow", false)).toBe(-EEXIST);
    expect(vfs.link("/etc/nothing", "/etc/x", false)).toBe(-ENOENT);
    expect(vfs.link("/etc/hostname", "/dev/x", false)).toBe(-EXDEV);
  });

  it("links a symlink itself, or its target with AT_SYMLINK_FOLLOW", async () => {
    const { vfs } = await imageVfs();
    expect(vfs.link("/bin/sh", "/bin/sh2", false)).toBe(0);
    expect(typeOfMode(statOf(vfs, "/bin/sh2", true).mode)).toBe("symlink");
    expect(statOf(vfs, "/bin/sh", true).nlink).toBe(2);
    expect(vfs.link("/bin/sh", "/bin/bb", true)).toBe(0);
    expect(statOf(vfs, "/bin/bb", true).ino).toBe(statOf(vfs, "/bin/busybox").ino);
  });

  it("renaming one link over another of the same inode changes nothing", async () => {
    const { vfs } = await imageVfs();
    mustOpen(vfs, "/tmpfile", O_RDWR | O_CREAT).release();
    expect(vfs.link("/tmpfile", "/other", false)).toBe(0);
    expect(vfs.rename("/tmpfile", "/other")).toBe(0);
    expect(statOf(vfs, "/tmpfile").nlink).toBe(2);
    expect(statOf(vfs, "/other").nlink).toBe(2);
  });
});

describe("image upper layer: attributes", () => {
  it("chmods and chowns an image file, which stat then reports", async () => {
    const { vfs } = await imageVfs();
    expect(vfs.setAttributes("/etc/shadow", { mode: 0o600 }, false)).toBe(0);
    expect(vfs.setAttributes("/etc/shadow", { uid: 1234 }, false)).toBe(0);
    const st = statOf(vfs, "/etc/shadow");
    expect(permissions(st)).toBe(0o600);
    expect([st.uid, st.gid]).toEqual([1234, 42]);
    expect(readAll(vfs, "/etc/shadow")).toBe("root:*:\n");
  });

  it("copies an image directory up without hiding its image children", async () => {
    const { vfs } = await imageVfs();
    expect(vfs.setAttributes("/var/log", { mode: 0o700, gid: 4 }, false)).toBe(0);
    const st = statOf(vfs, "/var/log");
    expect([permissions(st), st.gid]).toEqual([0o700, 4]);
    expect(listNames(vfs, "/var/log")).toEqual([".", "..", "app.log"]);
    expect(readAll(vfs, "/var/log/app.log")).toBe("one\n");
    // Its image children cannot move with it (overlayfs without redirect_dir).
    expect(vfs.rename("/var/log", "/var/logs")).toBe(-EXDEV);
  });

  it("follows a symlink unless told not to, and never chmods the link itself", async () => {
    const { vfs } = await imageVfs();
    expect(vfs.setAttributes("/bin/sh", { mode: 0o700 }, false)).toBe(0);
    expect(permissions(statOf(vfs, "/bin/busybox"))).toBe(0o700);
    expect(vfs.setAttributes("/bin/sh", { mode: 0o700 }, true)).toBe(-EOPNOTSUPP);
    expect(vfs.setAttributes("/bin/sh", { uid: 7, gid: 8 }, true)).toBe(0);
    const link = statOf(vfs, "/bin/sh", true);
    expect([link.uid, link.gid]).toEqual([7, 8]);
    expect(statOf(vfs, "/bin/busybox").uid).toBe(0);
    expect(vfs.setAttributes("/nothing", { mode: 0o700 }, false)).toBe(-ENOENT);
  });

  it("clears set-user-ID (and set-group-ID with group execute) on chown, not on directories", async () => {
    const { vfs } = await imageVfs();
    vfs.setAttributes("/bin/busybox", { mode: 0o6755 }, false);
    vfs.setAttributes("/bin/busybox", { uid: 0, gid: 0 }, false);
    expect(permissions(statOf(vfs, "/bin/busybox"))).toBe(0o755);
    vfs.setAttributes("/usr/bin/env", { mode: 0o2745 }, false);
    vfs.setAttributes("/usr/bin/env", { uid: 1 }, false);
    expect(permissions(statOf(vfs, "/usr/bin/env"))).toBe(0o2745);
    vfs.setAttributes("/var/empty", { mode: 0o2775 }, false);
    vfs.setAttributes("/var/empty", { gid: 50 }, false);
    expect(permissions(statOf(vfs, "/var/empty"))).toBe(0o2775);
  });

  it("sets times, and ctime moves to the backend's clock", async () => {
    const { vfs } = await imageVfs();
    expect(vfs.setAttributes("/etc/hostname", { atimeMs: 1500, mtimeMs: 2_000_000 }, false)).toBe(
      0,
    );
    const st = statOf(vfs, "/etc/hostname");
    expect([st.atimeMs, st.mtimeMs, st.ctimeMs]).toEqual([1500, 2_000_000, 1_700_000_000_000]);
    expect(vfs.setAttributes("/etc/hostname", { mtimeMs: 3000 }, false)).toBe(0);
    expect(statOf(vfs, "/etc/hostname").atimeMs).toBe(1500);
  });

  it("changes an open file through its descriptor, even once unlinked", async () => {
    const { vfs } = await imageVfs();
    const file = mustOpen(vfs, "/scratch", O_RDWR | O_CREAT, 0o644);
    expect(vfs.unlink("/scratch")).toBe(0);
    expect(file.node.setAttributes?.({ mode: 0o400, uid: 5 })).toBe(0);
    const st = file.stat();
    if (typeof st === "number") throw new Error("fstat");
    expect([permissions(st), st.uid, st.nlink]).toEqual([0o400, 5, 0]);
    file.release();
  });
});

describe("image upper layer: modes and open flags", () => {
  it("keeps mkdir's permission and sticky bits only, and passes set-group-ID on", async () => {
    const { vfs } = await imageVfs();
    expect(vfs.mkdir("/sticky", 0o7777)).toBe(0);
    expect(permissions(statOf(vfs, "/sticky"))).toBe(0o1777);
    vfs.setAttributes("/var/empty", { mode: 0o2775, gid: 50 }, false);
    expect(vfs.mkdir("/var/empty/sub", 0o755)).toBe(0);
    const sub = statOf(vfs, "/var/empty/sub");
    expect([permissions(sub), sub.gid]).toEqual([0o2755, 50]);
    mustOpen(vfs, "/var/empty/file", O_RDWR | O_CREAT, 0o640).release();
    const file = statOf(vfs, "/var/empty/file");
    expect([permissions(file), file.gid]).toEqual([0o640, 50]);
  });

  it("truncates with O_TRUNC even when opened read-only, but not a directory", async () => {
    const { vfs } = await imageVfs();
    const file = mustOpen(vfs, "/etc/hostname", O_TRUNC);
    expect(statOf(vfs, "/etc/hostname").size).toBe(0);
    file.release();
    expect(vfs.open("/var", O_TRUNC, 0)).toBe(-EISDIR);
  });

  it("opens a symlink itself with O_PATH | O_NOFOLLOW, and ELOOP otherwise", async () => {
    const { vfs } = await imageVfs();
    expect(vfs.open("/bin/sh", O_NOFOLLOW, 0)).toBe(-ELOOP);
    const link = mustOpen(vfs, "/bin/sh", O_PATH | O_NOFOLLOW);
    const st = link.stat();
    expect(typeof st !== "number" && typeOfMode(st.mode)).toBe("symlink");
    expect(link.read(new Uint8Array(4))).toBeLessThan(0);
    link.release();
  });

  it("refuses O_CREAT | O_DIRECTORY (Linux 6.4) and O_TMPFILE", async () => {
    const { vfs } = await imageVfs();
    expect(vfs.open("/new", O_CREAT | O_DIRECTORY | O_RDWR, 0o600)).toBe(-EINVAL);
    expect(vfs.open("/tmp", 0o20000000 | O_DIRECTORY | O_RDWR, 0o600)).toBe(-EOPNOTSUPP);
  });

  it("reports overlayfs in statfs, with the upper layer's bytes used", async () => {
    const { vfs } = await imageVfs();
    const before = vfs.statfs("/");
    const file = mustOpen(vfs, "/big", O_RDWR | O_CREAT);
    file.write(new Uint8Array(8192));
    file.release();
    const after = vfs.statfs("/etc");
    if (typeof before === "number" || typeof after === "number") throw new Error("statfs");
    expect(after.type).toBe(0x794c7630);
    expect(before.bfree - after.bfree).toBe(2);
    expect(vfs.statfs("/nothing")).toBe(-ENOENT);
  });
});
