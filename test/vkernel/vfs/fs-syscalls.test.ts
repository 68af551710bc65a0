// The file syscalls over the image Vfs, driven through handleSyscall on a
// Kernel with a small memory: the same entry the lifted code calls, with
// arguments in the state block's registers and the result in RAX.
import { describe, expect, it } from "vitest";
import { Kernel } from "../../../src/vkernel/kernel.js";
import { handleSyscall } from "../../../src/vkernel/syscalls/index.js";
import { imageRoot, preloadContent } from "../../../src/vkernel/vfs/index.js";
import { sampleView } from "./image-fixture.js";

const NR = {
  read: 0,
  write: 1,
  close: 3,
  fstat: 5,
  lseek: 8,
  dup: 32,
  fcntl: 72,
  getcwd: 79,
  chdir: 80,
  readlink: 89,
  getdents64: 217,
  openat: 257,
  mkdirat: 258,
  newfstatat: 262,
  unlinkat: 263,
} as const;
const AT_FDCWD = -100n;
const O_RDONLY = 0;
const O_WRONLY_CREAT_TRUNC = 0o1 | 0o100 | 0o1000;
const O_DIRECTORY = 0o200000;
/** Scratch guest addresses: paths, buffers, a struct stat. */
const PATH = 0x4000;
const BUF = 0x5000;
const STAT = 0x6000;

async function kernel(): Promise<{ k: Kernel; out: string[] }> {
  const view = sampleView();
  const out: string[] = [];
  const memory = new WebAssembly.Memory({ initial: 2 });
  const k = new Kernel(memory, {
    vfs: imageRoot(view, await preloadContent(view)),
    argv: [],
    env: [],
    stdout: (b) => out.push(Buffer.from(b).toString()),
  });
  return { k, out };
}

/** Runs syscall `nr`; string arguments are written at PATH (one per call). */
function sys(k: Kernel, nr: number, ...args: (number | bigint | string)[]): number {
  const regs = [7, 6, 2, 10, 8, 9];
  args.forEach((arg, i) => {
    let value: bigint;
    if (typeof arg === "string") {
      k.bytes().set(new TextEncoder().encode(`${arg}\0`), PATH);
      value = BigInt(PATH);
    } else value = BigInt(arg);
    k.setGpr(regs[i] as number, value);
  });
  k.setGpr(0, BigInt(nr));
  handleSyscall(k);
  return Number(BigInt.asIntN(64, k.gpr(0)));
}

const bufferText = (k: Kernel, n: number): string =>
  Buffer.from(k.bytes().subarray(BUF, BUF + n)).toString();

describe("file syscalls over the image Vfs", () => {
  it("opens, reads, seeks and closes an image file", async () => {
    const { k } = await kernel();
    const fd = sys(k, NR.openat, AT_FDCWD, "/etc/hostname", O_RDONLY, 0);
    expect(fd).toBe(3);
    expect(sys(k, NR.read, fd, BUF, 100)).toBe(6);
    expect(bufferText(k, 6)).toBe("image\n");
    expect(sys(k, NR.lseek, fd, 1, 0)).toBe(1);
    // dup shares the offset (one open file description).
    const copy = sys(k, NR.dup, fd);
    expect(sys(k, NR.read, copy, BUF, 2)).toBe(2);
    expect(sys(k, NR.read, fd, BUF, 100)).toBe(3);
    expect(bufferText(k, 3)).toBe("ge\n");
    expect(sys(k, NR.close, fd)).toBe(0);
    expect(sys(k, NR.close, fd)).toBe(-9);
    expect(sys(k, NR.read, copy, BUF, 1)).toBe(0);
  });

  it("stats with the image entry's mode and owner into struct stat", async () => {
    const { k } = await kernel();
    expect(sys(k, NR.newfstatat, AT_FDCWD, "/usr/bin/env", STAT, 0)).toBe(0);
    const v = k.view();
    expect(v.getUint32(STAT + 24, true)).toBe(0o100755);
    expect([v.getUint32(STAT + 28, true), v.getUint32(STAT + 32, true)]).toEqual([1000, 1000]);
    expect(Number(v.getBigInt64(STAT + 48, true))).toBe(5);
    expect(sys(k, NR.newfstatat, AT_FDCWD, "/bin/sh", STAT, 0x100)).toBe(0);
    expect(v.getUint32(STAT + 24, true) & 0o170000).toBe(0o120000);
    expect(sys(k, NR.newfstatat, AT_FDCWD, "/nope", STAT, 0)).toBe(-2);
  });

  it("creates, writes and lists through relative paths after chdir", async () => {
    const { k } = await kernel();
    expect(sys(k, NR.mkdirat, AT_FDCWD, "/work", 0o755)).toBe(0);
    expect(sys(k, NR.chdir, "/work")).toBe(0);
    expect(sys(k, NR.getcwd, BUF, 64)).toBe(6);
    const fd = sys(k, NR.openat, AT_FDCWD, "note", O_WRONLY_CREAT_TRUNC, 0o666);
    k.bytes().set(new TextEncoder().encode("hello"), BUF);
    expect(sys(k, NR.write, fd, BUF, 5)).toBe(5);
    expect(sys(k, NR.fstat, fd, STAT)).toBe(0);
    // The umask (022) applies to the mode given to open(2).
    expect(k.view().getUint32(STAT + 24, true)).toBe(0o100644);
    expect(sys(k, NR.read, fd, BUF, 5)).toBe(-9);
    const dir = sys(k, NR.openat, AT_FDCWD, ".", O_DIRECTORY, 0);
    const used = sys(k, NR.getdents64, dir, BUF, 4096);
    const names: string[] = [];
    for (let at = BUF; at < BUF + used;) {
      const reclen = k.view().getUint16(at + 16, true);
      names.push(k.readString(at + 19));
      at += reclen;
    }
    expect(names).toEqual([".", "..", "note"]);
    expect(sys(k, NR.getdents64, dir, BUF, 4096)).toBe(0);
    expect(sys(k, NR.unlinkat, dir, "note", 0)).toBe(0);
    expect(sys(k, NR.openat, AT_FDCWD, "/work/note", O_RDONLY, 0)).toBe(-2);
  });

  it("serves /dev/null, /dev/zero and /dev/stdout over the image", async () => {
    const { k, out } = await kernel();
    const zero = sys(k, NR.openat, AT_FDCWD, "/dev/zero", O_RDONLY, 0);
    k.bytes().fill(7, BUF, BUF + 8);
    expect(sys(k, NR.read, zero, BUF, 8)).toBe(8);
    expect([...k.bytes().subarray(BUF, BUF + 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const nul = sys(k, NR.openat, AT_FDCWD, "/dev/null", 2, 0);
    expect(sys(k, NR.write, nul, BUF, 8)).toBe(8);
    expect(sys(k, NR.read, nul, BUF, 8)).toBe(0);
    const stdout = sys(k, NR.openat, AT_FDCWD, "/dev/stdout", 1, 0);
    k.bytes().set(new TextEncoder().encode("via dev"), BUF);
    expect(sys(k, NR.write, stdout, BUF, 7)).toBe(7);
    expect(out.join("")).toBe("via dev");
    expect(sys(k, NR.readlink, "/dev/null", BUF, 64)).toBe(-22);
    // F_GETFL: O_WRONLY, and O_LARGEFILE, which a 64-bit kernel sets on every file.
    expect(sys(k, NR.fcntl, stdout, 3)).toBe(0o100001);
  });
});
