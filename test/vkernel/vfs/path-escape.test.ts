// No new path syscall leaves the guest root: link, rename, mkdir, chmod and
// the rest resolve "../../.." and absolute symlinks inside it (resolve.ts),
// on a host directory — where an escape would touch real host files — and
// on the image Vfs. Also the host backend's own new calls: modes exact
// despite the host umask, hard links, attributes and statfs.
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EEXIST } from "../../../src/vkernel/errno.js";
import { hostRoot, mountProcessVfs, type Vfs } from "../../../src/vkernel/vfs/index.js";
import { imageVfs, mustOpen, O_CREAT, O_RDWR, readAll } from "./image-fixture.js";

// The host root sits two levels down, so an escape has somewhere to land.
const outer = mkdtempSync(join(tmpdir(), "megalift-escape-"));
const root = join(outer, "a", "root");
afterAll(() => rmSync(outer, { recursive: true, force: true }));
mkdirSync(join(root, "home"), { recursive: true });
writeFileSync(join(root, "home", "file"), "inside\n");
writeFileSync(join(outer, "a", "outside"), "outside\n");
symlinkSync("/", join(root, "home", "to-root"));
symlinkSync("../../../../..", join(root, "home", "climb"));

/** Every way of naming a place "above" the root, from the cwd /home. */
const ESCAPES = ["../../../..", "/home/to-root/..", "/home/climb", "climb/../.."];

function escapeChecks(vfs: Vfs, insideOnly: () => void): void {
  for (const [i, up] of ESCAPES.entries()) {
    expect(vfs.mkdir(`${up}/made${i}`, 0o755, "/home")).toBe(0);
    expect(vfs.link("/home/file", `${up}/linked${i}`, false, "/", "/home")).toBe(0);
    expect(vfs.rename(`/made${i}`, `${up}/moved${i}`, "/", "/home")).toBe(0);
    expect(vfs.setAttributes(`${up}/moved${i}`, { mode: 0o700 }, false, "/home")).toBe(0);
    // Each landed at the guest root, nowhere else.
    expect(readAll(vfs, `/linked${i}`)).toBe("inside\n");
    const st = vfs.stat(`/moved${i}`, false);
    expect(typeof st !== "number" && st.mode & 0o7777).toBe(0o700);
  }
  // "outside" exists one level above the host root; it is never reachable.
  expect(vfs.link(`../../outside`, "/stolen", false, "/", "/home")).toBeLessThan(0);
  expect(vfs.rename("/home/to-root/../outside", "/stolen")).toBeLessThan(0);
  insideOnly();
}

describe("paths never leave the root", () => {
  it("on a host directory: link, rename, mkdir and chmod stay under it", () => {
    const vfs = mountProcessVfs(hostRoot(root), () => undefined);
    escapeChecks(vfs, () => {
      for (let i = 0; i < ESCAPES.length; i++) {
        expect(existsSync(join(root, `linked${i}`))).toBe(true);
        expect(existsSync(join(root, `moved${i}`))).toBe(true);
        expect(existsSync(join(outer, `moved${i}`))).toBe(false);
        expect(existsSync(join(outer, "a", `linked${i}`))).toBe(false);
      }
      expect(existsSync(join(root, "stolen"))).toBe(false);
    });
  });

  it("on the image Vfs: the same calls land at the image root", async () => {
    const { vfs } = await imageVfs();
    vfs.mkdir("/home", 0o755);
    mustOpen(vfs, "/home/file", O_RDWR | O_CREAT).write(new TextEncoder().encode("inside\n"));
    vfs.symlink("/", "/home/to-root");
    vfs.symlink("../../../../..", "/home/climb");
    escapeChecks(vfs, () => undefined);
  });
});

describe("host backend: the new calls on real files", () => {
  const vfs = mountProcessVfs(hostRoot(root), () => undefined);

  it("creates with the exact mode asked, whatever the host umask", () => {
    const old = process.umask(0o077);
    try {
      expect(vfs.mkdir("/open-dir", 0o775)).toBe(0);
      mustOpen(vfs, "/open-file", O_RDWR | O_CREAT, 0o664).release();
    } finally {
      process.umask(old);
    }
    expect(statSync(join(root, "open-dir")).mode & 0o7777).toBe(0o775);
    expect(statSync(join(root, "open-file")).mode & 0o7777).toBe(0o664);
  });

  it("hard-links, chmods, sets times and reports them", () => {
    writeFileSync(join(root, "home", "own"), "own\n");
    expect(vfs.link("/home/own", "/home/hard", false)).toBe(0);
    expect(vfs.link("/home/own", "/home/hard", false)).toBe(-EEXIST);
    expect(lstatSync(join(root, "home", "hard")).nlink).toBe(2);
    expect(vfs.setAttributes("/home/hard", { mode: 0o640 }, false)).toBe(0);
    expect(statSync(join(root, "home", "own")).mode & 0o7777).toBe(0o640);
    expect(vfs.setAttributes("/home/own", { atimeMs: 1_000_500, mtimeMs: 2_000_250 }, false)).toBe(
      0,
    );
    const st = vfs.stat("/home/hard", false);
    expect(typeof st !== "number" && [st.atimeMs, st.mtimeMs]).toEqual([1_000_500, 2_000_250]);
    // A symlink's own times, not its target's.
    expect(vfs.setAttributes("/home/to-root", { mtimeMs: 5000 }, true)).toBe(0);
    expect(lstatSync(join(root, "home", "to-root")).mtimeMs).toBe(5000);
  });

  it("chowns, as root on the host or recorded for the guest otherwise", () => {
    expect(vfs.setAttributes("/home/file", { uid: 1234, gid: 5678 }, false)).toBe(0);
    const st = vfs.stat("/home/file", false);
    expect(typeof st !== "number" && [st.uid, st.gid]).toEqual([1234, 5678]);
  });

  it("answers statfs with the host filesystem's type", () => {
    const fs = vfs.statfs("/home");
    expect(typeof fs !== "number" && fs.namelen).toBe(255);
  });
});
