// The attribute and status syscalls through handleSyscall on a Kernel over
// the image Vfs: chmod/fchmodat/fchownat/utimensat as stat reports them,
// statx's and statfs's struct layouts, linkat and creat, the old getdents
// record, and fcntl's F_GETFL/F_DUPFD edge cases.
import { describe, expect, it } from "vitest";
import { Kernel } from "../../../src/vkernel/kernel.js";
import { handleSyscall } from "../../../src/vkernel/syscalls/index.js";
import { imageRoot, preloadContent } from "../../../src/vkernel/vfs/index.js";
import { sampleView } from "./image-fixture.js";

const NR = {
  fstat: 5,
  fcntl: 72,
  getdents: 78,
  creat: 85,
  chmod: 90,
  fchmod: 91,
  statfs: 137,
  fchownat: 260,
  newfstatat: 262,
  linkat: 265,
  fchmodat: 268,
  utimensat: 280,
  openat: 257,
  statx: 332,
} as const;
const AT_FDCWD = -100n;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_SYMLINK_FOLLOW = 0x400;
const PATH = 0x4000;
const PATH2 = 0x4800;
const BUF = 0x5000;
const STAT = 0x6000;
const UTIME_OMIT = (1 << 30) - 2;

async function kernel(): Promise<Kernel> {
  const view = sampleView();
  return new Kernel(new WebAssembly.Memory({ initial: 2 }), {
    vfs: imageRoot(view, await preloadContent(view), { now: () => 1_700_000_000_000 }),
    argv: [],
    env: [],
  });
}

/** Runs syscall `nr`; the first string argument goes at PATH, the second at PATH2. */
function sys(k: Kernel, nr: number, ...args: (number | bigint | string)[]): number {
  const regs = [7, 6, 2, 10, 8, 9];
  let strings = 0;
  args.forEach((arg, i) => {
    let value: bigint;
    if (typeof arg === "string") {
      const at = strings++ === 0 ? PATH : PATH2;
      k.bytes().set(new TextEncoder().encode(`${arg}\0`), at);
      value = BigInt(at);
    } else value = BigInt(arg);
    k.setGpr(regs[i] as number, value);
  });
  k.setGpr(0, BigInt(nr));
  handleSyscall(k);
  return Number(BigInt.asIntN(64, k.gpr(0)));
}

/** struct stat fields (asm/stat.h offsets). */
function statFields(k: Kernel): { mode: number; nlink: number; uid: number; gid: number } {
  const v = k.view();
  return {
    nlink: Number(v.getBigUint64(STAT + 16, true)),
    mode: v.getUint32(STAT + 24, true),
    uid: v.getUint32(STAT + 28, true),
    gid: v.getUint32(STAT + 32, true),
  };
}

describe("attribute syscalls over the image Vfs", () => {
  it("chmod, fchmodat and fchmod change the mode stat reports; a symlink's is EOPNOTSUPP", async () => {
    const k = await kernel();
    expect(sys(k, NR.chmod, "/etc/hostname", 0o4600)).toBe(0);
    expect(sys(k, NR.newfstatat, AT_FDCWD, "/etc/hostname", STAT, 0)).toBe(0);
    expect(statFields(k).mode).toBe(0o104600);
    expect(sys(k, NR.fchmodat, AT_FDCWD, "/bin/sh", 0o700)).toBe(0);
    expect(sys(k, NR.newfstatat, AT_FDCWD, "/bin/busybox", STAT, 0)).toBe(0);
    expect(statFields(k).mode & 0o7777).toBe(0o700);
    const fd = sys(k, NR.openat, AT_FDCWD, "/etc/shadow", 0, 0);
    expect(sys(k, NR.fchmod, fd, 0o400)).toBe(0);
    expect(sys(k, NR.fstat, fd, STAT)).toBe(0);
    expect(statFields(k).mode & 0o7777).toBe(0o400);
    // fchmodat2 with AT_SYMLINK_NOFOLLOW on a symlink.
    expect(sys(k, 452, AT_FDCWD, "/bin/sh", 0o700, AT_SYMLINK_NOFOLLOW)).toBe(-95);
  });

  it("fchownat records owners, -1 keeping one; NOFOLLOW changes the link", async () => {
    const k = await kernel();
    expect(sys(k, NR.fchownat, AT_FDCWD, "/etc/shadow", 1234, 0xffffffff, 0)).toBe(0);
    expect(sys(k, NR.newfstatat, AT_FDCWD, "/etc/shadow", STAT, 0)).toBe(0);
    expect([statFields(k).uid, statFields(k).gid]).toEqual([1234, 42]);
    expect(sys(k, NR.fchownat, AT_FDCWD, "/bin/sh", 7, 8, AT_SYMLINK_NOFOLLOW)).toBe(0);
    expect(sys(k, NR.newfstatat, AT_FDCWD, "/bin/sh", STAT, AT_SYMLINK_NOFOLLOW)).toBe(0);
    expect([statFields(k).uid, statFields(k).gid]).toEqual([7, 8]);
    expect(sys(k, NR.fchownat, AT_FDCWD, "/bin/sh", 7, 8, 0x1)).toBe(-22);
  });

  it("utimensat sets times to the nanosecond field, UTIME_OMIT keeping one", async () => {
    const k = await kernel();
    const v = k.view();
    v.setBigInt64(BUF, 1_000_000_000n, true);
    v.setBigInt64(BUF + 8, 500_000_000n, true);
    v.setBigInt64(BUF + 16, 0n, true);
    v.setBigInt64(BUF + 24, BigInt(UTIME_OMIT), true);
    expect(sys(k, NR.utimensat, AT_FDCWD, "/etc/hostname", BUF, 0)).toBe(0);
    expect(sys(k, NR.newfstatat, AT_FDCWD, "/etc/hostname", STAT, 0)).toBe(0);
    expect(v.getBigInt64(STAT + 72, true)).toBe(1_000_000_000n); // st_atime
    expect(v.getBigInt64(STAT + 80, true)).toBe(500_000_000n); // st_atime_nsec
    expect(v.getBigInt64(STAT + 88, true)).toBe(0n); // st_mtime: the image's, kept
    v.setBigInt64(BUF + 8, 1_000_000_000n, true);
    expect(sys(k, NR.utimensat, AT_FDCWD, "/etc/hostname", BUF, 0)).toBe(-22);
  });

  it("statx fills struct statx's basic fields and agrees with stat", async () => {
    const k = await kernel();
    expect(sys(k, NR.statx, AT_FDCWD, "/etc/shadow", 0, 0x7ff, BUF)).toBe(0);
    const v = k.view();
    expect(v.getUint32(BUF, true)).toBe(0x7ff); // stx_mask
    expect(v.getUint32(BUF + 16, true)).toBe(1); // stx_nlink
    expect(v.getUint32(BUF + 24, true)).toBe(42); // stx_gid
    expect(v.getUint16(BUF + 28, true)).toBe(0o100640); // stx_mode
    expect(v.getBigUint64(BUF + 40, true)).toBe(8n); // stx_size
    expect(sys(k, NR.newfstatat, AT_FDCWD, "/etc/shadow", STAT, 0)).toBe(0);
    expect(v.getBigUint64(BUF + 32, true)).toBe(v.getBigUint64(STAT + 8, true)); // ino
    expect(sys(k, NR.statx, AT_FDCWD, "/etc/none", 0, 0x7ff, BUF)).toBe(-2);
    expect(sys(k, NR.statx, AT_FDCWD, "/etc/shadow", 0, 0x80000000, BUF)).toBe(-22);
  });

  it("statfs reports overlayfs with 4 KiB blocks", async () => {
    const k = await kernel();
    expect(sys(k, NR.statfs, "/etc", BUF)).toBe(0);
    const v = k.view();
    expect(v.getBigUint64(BUF, true)).toBe(0x794c7630n);
    expect(v.getBigUint64(BUF + 8, true)).toBe(4096n);
    expect(v.getBigUint64(BUF + 64, true)).toBe(255n); // f_namelen
  });

  it("linkat follows with AT_SYMLINK_FOLLOW only; creat truncates", async () => {
    const k = await kernel();
    expect(sys(k, NR.linkat, AT_FDCWD, "/bin/sh", AT_FDCWD, "/bin/ash", AT_SYMLINK_FOLLOW)).toBe(0);
    expect(sys(k, NR.newfstatat, AT_FDCWD, "/bin/ash", STAT, AT_SYMLINK_NOFOLLOW)).toBe(0);
    expect(statFields(k)).toMatchObject({ mode: 0o100755, nlink: 2 });
    expect(sys(k, NR.linkat, AT_FDCWD, "/bin/sh", AT_FDCWD, "/bin/sh2", 0)).toBe(0);
    expect(sys(k, NR.newfstatat, AT_FDCWD, "/bin/sh2", STAT, AT_SYMLINK_NOFOLLOW)).toBe(0);
    expect(statFields(k).mode).toBe(0o120777);
    const fd = sys(k, NR.creat, "/etc/hostname", 0o644);
    expect(sys(k, NR.fstat, fd, STAT)).toBe(0);
    expect(k.view().getBigUint64(STAT + 48, true)).toBe(0n);
    expect(sys(k, NR.fcntl, fd, 3)).toBe(0o100001); // O_WRONLY | O_LARGEFILE
  });

  it("getdents writes the old record with d_type in its last byte", async () => {
    const k = await kernel();
    const fd = sys(k, NR.openat, AT_FDCWD, "/etc", 0o200000, 0);
    const n = sys(k, NR.getdents, fd, BUF, 1024);
    const v = k.view();
    const names: string[] = [];
    for (let off = 0; off < n;) {
      const reclen = v.getUint16(BUF + off + 16, true);
      const bytes = k.bytes().subarray(BUF + off + 18, BUF + off + reclen);
      names.push(
        `${Buffer.from(bytes.subarray(0, bytes.indexOf(0))).toString()}:${bytes[reclen - 19]}`,
      );
      off += reclen;
    }
    expect(names).toEqual([".:4", "..:4", "hostname:8", "os-release:10", "shadow:8"]);
  });

  it("fcntl F_DUPFD refuses a negative or too large minimum", async () => {
    const k = await kernel();
    expect(sys(k, NR.fcntl, 1, 0, -1)).toBe(-22);
    expect(sys(k, NR.fcntl, 1, 0, 1 << 20)).toBe(-22);
    expect(sys(k, NR.fcntl, 1, 1030, 50)).toBe(50);
    expect(sys(k, NR.fcntl, 50, 1)).toBe(1);
  });
});
