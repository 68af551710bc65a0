// The image Vfs: image files read lazily and cached, writes copied up into
// the in-memory upper layer without touching the image, whiteouts for
// deletes, merged and sorted directory listings, open(2) flags, and stat
// values taken from the image entries.
import { describe, expect, it } from "vitest";
import { EEXIST, EISDIR, ENOENT, ENOTDIR, ENOTEMPTY } from "../../../src/vkernel/errno.js";
import { O_APPEND, O_EXCL, O_NOFOLLOW, typeOfMode } from "../../../src/vkernel/vfs/constants.js";
import {
  O_CREAT,
  O_RDWR,
  O_TRUNC,
  O_WRONLY,
  imageVfs,
  listNames,
  mustOpen,
  readAll,
  text,
} from "./image-fixture.js";

describe("image Vfs: reading", () => {
  it("reads an image file through the view's content, caching it after the first read", async () => {
    const { vfs, content } = await imageVfs();
    expect(readAll(vfs, "/etc/hostname")).toBe("image\n");
    expect(readAll(vfs, "/etc/hostname")).toBe("image\n");
    expect(content.sourceReads).toBe(1);
    const file = mustOpen(vfs, "/etc/hostname", 0);
    const two = new Uint8Array(2);
    expect(file.pread(two, 3)).toBe(2);
    expect(Buffer.from(two).toString()).toBe("ge");
    expect(file.pread(two, 6)).toBe(0);
  });

  it("stats image entries with their mode, owner, size, mtime and a stable inode", async () => {
    const { vfs } = await imageVfs();
    const st = vfs.stat("/usr/bin/env", false);
    if (typeof st === "number") throw new Error(`stat: ${st}`);
    expect(st.mode).toBe(0o100755);
    expect([st.uid, st.gid, st.size, st.nlink]).toEqual([1000, 1000, 5, 1]);
    const shadow = vfs.stat("/etc/shadow", false);
    expect(typeof shadow === "number" ? shadow : [shadow.mode, shadow.gid]).toEqual([0o100640, 42]);
    const link = vfs.stat("/bin/sh", true);
    expect(typeof link === "number" ? link : [link.mode, link.size]).toEqual([0o120777, 7]);
    const again = vfs.stat("/usr/bin/env", false);
    expect(typeof again === "number" ? again : again.ino).toBe(st.ino);
    const other = vfs.stat("/etc/hostname", false);
    expect(typeof other === "number" ? other : other.ino).not.toBe(st.ino);
    // A directory links to itself, its parent and each subdirectory's "..".
    const usr = vfs.stat("/usr", false);
    expect(typeof usr === "number" ? usr : [usr.mode, usr.nlink]).toEqual([0o40755, 4]);
  });
});

describe("image Vfs: writing", () => {
  it("copies an image file up on write and leaves the view unchanged", async () => {
    const { vfs, view } = await imageVfs();
    const file = mustOpen(vfs, "/etc/hostname", O_RDWR);
    expect(file.write(text("guest"))).toBe(5);
    file.release();
    expect(readAll(vfs, "/etc/hostname")).toBe("guest\n");
    const entry = view.lstat("/etc/hostname");
    if (entry === undefined) throw new Error("entry gone from the view");
    expect((await view.readFile(entry)).toString()).toBe("image\n");
    // The copy keeps the image entry's mode and owner.
    const st = vfs.stat("/etc/shadow", false);
    mustOpen(vfs, "/etc/shadow", O_WRONLY).release();
    const after = vfs.stat("/etc/shadow", false);
    expect(typeof after === "number" ? after : [after.mode, after.gid, after.ino]).toEqual(
      typeof st === "number" ? st : [st.mode, st.gid, st.ino],
    );
  });

  it("honours O_TRUNC, O_APPEND, O_CREAT and O_EXCL", async () => {
    const { vfs } = await imageVfs();
    mustOpen(vfs, "/var/log/app.log", O_WRONLY | O_TRUNC).release();
    expect(readAll(vfs, "/var/log/app.log")).toBe("");
    const log = mustOpen(vfs, "/var/log/app.log", O_WRONLY | O_APPEND);
    log.write(text("a\n"));
    log.seek(0, 0);
    log.write(text("b\n"));
    expect(readAll(vfs, "/var/log/app.log")).toBe("a\nb\n");
    expect(vfs.open("/etc/new", O_WRONLY, 0o600)).toBe(-ENOENT);
    const created = mustOpen(vfs, "/etc/new", O_WRONLY | O_CREAT | O_EXCL, 0o600);
    created.write(text("fresh"));
    const st = created.stat();
    expect(typeof st === "number" ? st : [st.mode, st.size]).toEqual([0o100600, 5]);
    expect(vfs.open("/etc/new", O_WRONLY | O_CREAT | O_EXCL, 0o600)).toBe(-EEXIST);
    expect(vfs.open("/etc/hostname", O_RDWR | O_CREAT | O_EXCL, 0o600)).toBe(-EEXIST);
    // O_EXCL does not follow a final symlink: the link itself exists.
    expect(vfs.open("/bin/sh", O_RDWR | O_CREAT | O_EXCL, 0o600)).toBe(-EEXIST);
    expect(vfs.open("/bin/sh", O_NOFOLLOW, 0)).toBe(-40);
    expect(vfs.open("/etc", O_WRONLY, 0)).toBe(-EISDIR);
    expect(vfs.open("/etc/hostname", 0o200000, 0)).toBe(-ENOTDIR);
    expect(readAll(vfs, "/etc/new")).toBe("fresh");
  });

  it("writes past the end leave a zero-filled hole, and truncate resizes", async () => {
    const { vfs } = await imageVfs();
    const file = mustOpen(vfs, "/tmpfile", O_RDWR | O_CREAT);
    expect(file.pwrite(text("x"), 3)).toBe(1);
    expect(readAll(vfs, "/tmpfile")).toBe("\0\0\0x");
    expect(vfs.truncate("/etc/hostname", 2)).toBe(0);
    expect(readAll(vfs, "/etc/hostname")).toBe("im");
  });
});

describe("image Vfs: deleting and directories", () => {
  it("unlinks an image file with a whiteout, then ENOENT, and it can be made again", async () => {
    const { vfs, view } = await imageVfs();
    expect(vfs.unlink("/etc/hostname")).toBe(0);
    expect(vfs.stat("/etc/hostname", false)).toBe(-ENOENT);
    expect(readAll(vfs, "/etc/hostname")).toBe(-ENOENT);
    expect(vfs.unlink("/etc/hostname")).toBe(-ENOENT);
    expect(listNames(vfs, "/etc")).toEqual([".", "..", "os-release", "shadow"]);
    expect(view.lstat("/etc/hostname")).toBeDefined();
    mustOpen(vfs, "/etc/hostname", O_WRONLY | O_CREAT).release();
    expect(readAll(vfs, "/etc/hostname")).toBe("");
  });

  it("merges image and upper entries in sorted order", async () => {
    const { vfs } = await imageVfs();
    expect(vfs.mkdir("/etc/conf.d", 0o755)).toBe(0);
    mustOpen(vfs, "/etc/aaa", O_WRONLY | O_CREAT).release();
    expect(vfs.symlink("hostname", "/etc/zz")).toBe(0);
    expect(listNames(vfs, "/etc")).toEqual([
      ".",
      "..",
      "aaa",
      "conf.d",
      "hostname",
      "os-release",
      "shadow",
      "zz",
    ]);
    expect(readAll(vfs, "/etc/zz")).toBe("image\n");
    expect(vfs.mkdir("/etc/conf.d", 0o755)).toBe(-EEXIST);
    expect(vfs.mkdir("/etc/conf.d/a/b", 0o755)).toBe(-ENOENT);
    expect(vfs.mkdir("/etc/hostname/x", 0o755)).toBe(-ENOTDIR);
  });

  it("rmdir needs an empty directory; a directory remade there does not show old entries", async () => {
    const { vfs } = await imageVfs();
    expect(vfs.rmdir("/var/log")).toBe(-ENOTEMPTY);
    expect(vfs.rmdir("/etc/hostname")).toBe(-ENOTDIR);
    expect(vfs.unlink("/var/log/app.log")).toBe(0);
    expect(vfs.rmdir("/var/log")).toBe(0);
    expect(listNames(vfs, "/var")).toEqual([".", "..", "empty"]);
    expect(vfs.mkdir("/var/log", 0o700)).toBe(0);
    expect(listNames(vfs, "/var/log")).toEqual([".", ".."]);
    expect(vfs.stat("/var/log/app.log", false)).toBe(-ENOENT);
    const st = vfs.stat("/var/log", false);
    expect(typeof st === "number" ? st : typeOfMode(st.mode)).toBe("directory");
  });

  it("renames image files (copied up) and upper directories, keeping the inode", async () => {
    const { vfs } = await imageVfs();
    const before = vfs.stat("/etc/shadow", false);
    expect(vfs.rename("/etc/shadow", "/etc/gshadow")).toBe(0);
    expect(vfs.stat("/etc/shadow", false)).toBe(-ENOENT);
    expect(readAll(vfs, "/etc/gshadow")).toBe("root:*:\n");
    const after = vfs.stat("/etc/gshadow", false);
    expect(typeof after === "number" ? after : after.ino).toBe(
      typeof before === "number" ? before : before.ino,
    );
    vfs.mkdir("/work", 0o755);
    mustOpen(vfs, "/work/f", O_WRONLY | O_CREAT).write(text("w"));
    expect(vfs.rename("/work", "/done")).toBe(0);
    expect(readAll(vfs, "/done/f")).toBe("w");
    expect(vfs.stat("/work", false)).toBe(-ENOENT);
    // overlayfs without redirect_dir: an image directory cannot be renamed.
    expect(vfs.rename("/usr/lib", "/usr/lib64")).toBe(-18);
    expect(vfs.rename("/etc", "/etc/sub")).toBe(-22);
  });
});
