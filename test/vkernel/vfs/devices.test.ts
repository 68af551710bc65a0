// The /dev tree mounted over a root: null(4), zero(4), urandom(4) with their
// device numbers, tty(4) as ENXIO, stdin/stdout/stderr as the process's
// own descriptors, and the mount staying read-only.
import { describe, expect, it } from "vitest";
import { createMemoryRootfs } from "../../helpers/memory-rootfs.js";
import { ENOENT } from "../../../src/vkernel/errno.js";
import { ENXIO, EROFS, O_CREAT, O_RDWR } from "../../../src/vkernel/vfs/constants.js";
import { MemoryBytes } from "../../../src/vkernel/vfs/memory-bytes.js";
import {
  imageRoot,
  mountProcessVfs,
  preloadContent,
  type VfsNode,
} from "../../../src/vkernel/vfs/index.js";
import { mustOpen } from "./image-fixture.js";

/** A stand-in for fd 1: a seekable node over memory. */
function captureNode(bytes: MemoryBytes): VfsNode {
  return {
    seekable: false,
    pread: () => 0,
    pwrite: (b) => bytes.write(b, bytes.size),
    stat: () => -ENOENT,
    truncate: () => 0,
    readdir: () => -20,
    close: () => {
      throw new Error("a borrowed stdio node must not be closed");
    },
  };
}

async function devices(): Promise<{ vfs: ReturnType<typeof mountProcessVfs>; out: MemoryBytes }> {
  // The image has its own /dev with a stale file: the mount hides it.
  const view = createMemoryRootfs([{ path: "/dev/old", content: "stale" }]);
  const out = new MemoryBytes();
  const stdout = captureNode(out);
  const vfs = mountProcessVfs(imageRoot(view, await preloadContent(view)), (fd) =>
    fd === 1 ? stdout : undefined,
  );
  return { vfs, out };
}

describe("the /dev mount", () => {
  it("reads nothing from /dev/null and swallows writes", async () => {
    const { vfs } = await devices();
    const nul = mustOpen(vfs, "/dev/null", O_RDWR);
    expect(nul.read(new Uint8Array(4))).toBe(0);
    expect(nul.write(new Uint8Array(4))).toBe(4);
    const st = nul.stat();
    expect(typeof st === "number" ? st : [st.mode, st.rdev]).toEqual([0o20666, (1 << 8) | 3]);
  });

  it("reads zeros from /dev/zero and random bytes from /dev/urandom", async () => {
    const { vfs } = await devices();
    const buffer = new Uint8Array(64).fill(9);
    expect(mustOpen(vfs, "/dev/zero", 0).read(buffer)).toBe(64);
    expect(buffer.every((b) => b === 0)).toBe(true);
    expect(mustOpen(vfs, "/dev/urandom", 0).read(buffer)).toBe(64);
    expect(buffer.some((b) => b !== 0)).toBe(true);
  });

  it("lists the devices, hides the image's /dev and refuses to create there", async () => {
    const { vfs } = await devices();
    expect(vfs.stat("/dev/old", false)).toBe(-ENOENT);
    const dir = mustOpen(vfs, "/dev", 0o200000);
    const entries = dir.entries();
    expect(typeof entries === "number" ? entries : entries.map((e) => e.name)).toEqual([
      ".",
      "..",
      "full",
      "null",
      "random",
      "stderr",
      "stdin",
      "stdout",
      "tty",
      "urandom",
      "zero",
    ]);
    expect(vfs.open("/dev/new", O_RDWR | O_CREAT, 0o644)).toBe(-EROFS);
    expect(vfs.open("/dev/tty", O_RDWR, 0)).toBe(-ENXIO);
    expect(vfs.rename("/dev/null", "/null")).toBe(-18);
  });

  it("opens /dev/stdout as the process's fd 1, and /dev/stdin as ENOENT when fd 0 is closed", async () => {
    const { vfs, out } = await devices();
    const stdout = mustOpen(vfs, "/dev/stdout", 1);
    expect(stdout.write(new TextEncoder().encode("hi"))).toBe(2);
    stdout.release();
    expect(Buffer.from(out.contents()).toString()).toBe("hi");
    expect(vfs.open("/dev/stdin", 0, 0)).toBe(-ENOENT);
  });
});
