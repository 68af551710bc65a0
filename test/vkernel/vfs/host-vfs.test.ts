// A host directory as the guest root: chroot(2) semantics (".." and
// absolute symlinks stay inside it), and the same open/readdir/unlink
// behaviour as the image Vfs, on real host files.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EEXIST, ENOENT } from "../../../src/vkernel/errno.js";
import { O_CREAT, O_EXCL, O_WRONLY } from "../../../src/vkernel/vfs/constants.js";
import { hostRoot, mountProcessVfs } from "../../../src/vkernel/vfs/index.js";
import { listNames, mustOpen, readAll, text } from "./image-fixture.js";

const root = mkdtempSync(join(tmpdir(), "megalift-hostvfs-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, "etc"));
writeFileSync(join(root, "etc", "hostname"), "guest\n");
symlinkSync("/etc", join(root, "absolute"));
symlinkSync("../../../../etc", join(root, "climbing"));
symlinkSync("/", join(root, "slash"));

describe("host directory Vfs", () => {
  const vfs = mountProcessVfs(hostRoot(root), () => undefined);

  it("resolves absolute and climbing symlinks inside the root, never the host's /", () => {
    expect(readAll(vfs, "/absolute/hostname")).toBe("guest\n");
    expect(readAll(vfs, "/climbing/hostname")).toBe("guest\n");
    expect(readAll(vfs, "/../../etc/hostname")).toBe("guest\n");
    expect(readAll(vfs, "/slash/etc/hostname")).toBe("guest\n");
    // The host's /etc/passwd is not reachable through any of them.
    expect(vfs.stat("/absolute/passwd", false)).toBe(-ENOENT);
    expect(vfs.stat("/slash/../etc/passwd", false)).toBe(-ENOENT);
  });

  it("creates, lists and removes real files under the root", () => {
    const file = mustOpen(vfs, "/etc/motd", O_WRONLY | O_CREAT | O_EXCL, 0o600);
    expect(file.write(text("hi"))).toBe(2);
    file.release();
    expect(readFileSync(join(root, "etc", "motd"), "utf8")).toBe("hi");
    expect(vfs.open("/etc/motd", O_WRONLY | O_CREAT | O_EXCL, 0o600)).toBe(-EEXIST);
    expect(listNames(vfs, "/etc")).toEqual([".", "..", "hostname", "motd"]);
    expect(vfs.unlink("/etc/motd")).toBe(0);
    expect(vfs.stat("/etc/motd", false)).toBe(-ENOENT);
  });
});
