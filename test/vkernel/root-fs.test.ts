// Guest paths stay inside the root directory: ".." stops at the root and a
// symlink that points outside is refused.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EACCES } from "../../src/vkernel/errno.js";
import { RootFs } from "../../src/vkernel/root-fs.js";

const root = mkdtempSync(join(tmpdir(), "megalift-rootfs-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, "etc"));
writeFileSync(join(root, "etc", "hostname"), "guest\n");
symlinkSync("/etc", join(root, "escape"));
symlinkSync("etc", join(root, "inside"));

describe("RootFs", () => {
  const fs = new RootFs(root);
  it("maps absolute and relative guest paths under the root", () => {
    expect(fs.hostPath("/etc/hostname")).toBe(join(fs.root, "etc", "hostname"));
    expect(fs.hostPath("etc/hostname", "/")).toBe(join(fs.root, "etc", "hostname"));
  });
  it("stops '..' at the root", () => {
    expect(fs.guestPath("/../../etc/hostname")).toBe("/etc/hostname");
    expect(fs.hostPath("../../../etc/hostname", "/etc")).toBe(join(fs.root, "etc", "hostname"));
  });
  it("refuses a symlink that leaves the root and follows one that stays", () => {
    expect(fs.hostPath("/escape/passwd")).toBe(-EACCES);
    expect(fs.hostPath("/inside/hostname")).toBe(join(fs.root, "inside", "hostname"));
  });
});
