// /proc over a fake ProcessView: /proc/self as a symlink to /proc/<pid>,
// exe, cwd and fd/N as symlinks, cmdline, status and maps in proc(5)'s
// formats, read-only, and mounted by mountProcessVfs next to /dev.
import { describe, expect, it } from "vitest";
import { EACCES, ENOENT } from "../../../src/vkernel/errno.js";
import { O_CREAT, O_DIRECTORY, typeOfMode } from "../../../src/vkernel/vfs/constants.js";
import {
  imageRoot,
  mountProcessVfs,
  preloadContent,
  ProcBackend,
  type ProcessView,
} from "../../../src/vkernel/vfs/index.js";
import { listNames, readAll, sampleView } from "./image-fixture.js";

function fakeProcess(): ProcessView & { cwdNow: string; open: Map<number, string> } {
  const open = new Map([
    [0, "/dev/stdin"],
    [1, "/dev/stdout"],
    [2, "/dev/stderr"],
    [3, "/etc/hostname"],
  ]);
  return {
    pid: 7,
    ppid: 1,
    uid: 0,
    gid: 0,
    argv: ["/bin/busybox", "sh", "-c", "echo hi"],
    exe: "/bin/busybox",
    cwdNow: "/var",
    open,
    get cwd() {
      return this.cwdNow;
    },
    fds: () => open,
    mappings: () => [
      { start: 0x401000, end: 0x402000, perms: "r-xp", offset: 0x1000, path: "/bin/busybox" },
      { start: 0x400000, end: 0x401000, perms: "r--p", offset: 0, path: "/bin/busybox" },
      { start: 0x7f0000000000, end: 0x7f0000001000, perms: "rw-p", offset: 0, path: "" },
    ],
    residentBytes: () => 3 * 1024 * 1024,
  } satisfies ProcessView & { cwdNow: string; open: Map<number, string> };
}

async function procVfs(view = fakeProcess()) {
  const sample = sampleView();
  const root = imageRoot(sample, await preloadContent(sample));
  return { vfs: mountProcessVfs(root, () => undefined, view), view };
}

describe("ProcBackend", () => {
  it("makes /proc/self a symlink to the process's own directory", async () => {
    const { vfs } = await procVfs();
    expect(vfs.readlink("/proc/self")).toBe("7");
    expect(listNames(vfs, "/proc")).toEqual([".", "..", "7", "self"]);
    expect(listNames(vfs, "/proc/self")).toEqual([
      ".",
      "..",
      "cmdline",
      "comm",
      "cwd",
      "exe",
      "fd",
      "maps",
      "status",
    ]);
    expect(vfs.stat("/proc/8", false)).toBe(-ENOENT);
  });

  it("links exe to the program and cwd to the working directory, as they are now", async () => {
    const { vfs, view } = await procVfs();
    expect(vfs.readlink("/proc/self/exe")).toBe("/bin/busybox");
    expect(vfs.readlink("/proc/7/cwd")).toBe("/var");
    view.cwdNow = "/etc";
    expect(vfs.readlink("/proc/self/cwd")).toBe("/etc");
    // Following the links reaches the files themselves.
    expect(readAll(vfs, "/proc/self/cwd/hostname")).toBe("image\n");
    const exe = vfs.stat("/proc/self/exe", false);
    expect(typeof exe !== "number" && typeOfMode(exe.mode)).toBe("file");
  });

  it("lists a symlink per open descriptor", async () => {
    const { vfs, view } = await procVfs();
    expect(listNames(vfs, "/proc/self/fd")).toEqual([".", "..", "0", "1", "2", "3"]);
    expect(vfs.readlink("/proc/self/fd/3")).toBe("/etc/hostname");
    expect(readAll(vfs, "/proc/self/fd/3")).toBe("image\n");
    view.open.delete(3);
    expect(vfs.readlink("/proc/self/fd/3")).toBe(-ENOENT);
    expect(vfs.stat("/proc/self/fd/03", true)).toBe(-ENOENT);
  });

  it("renders cmdline with NULs, comm, and status with the lines glibc and shells read", async () => {
    const { vfs } = await procVfs();
    expect(readAll(vfs, "/proc/self/cmdline")).toBe("/bin/busybox\0sh\0-c\0echo hi\0");
    expect(readAll(vfs, "/proc/self/comm")).toBe("busybox\n");
    const status = readAll(vfs, "/proc/self/status");
    expect(status).toContain("Name:\tbusybox\n");
    expect(status).toContain("Pid:\t7\n");
    expect(status).toContain("PPid:\t1\n");
    expect(status).toContain("Uid:\t0\t0\t0\t0\n");
    expect(status).toContain("Gid:\t0\t0\t0\t0\n");
    expect(status).toContain("VmRSS:\t    3072 kB\n");
  });

  it("renders maps sorted, names padded to column 73 as Linux does", async () => {
    const { vfs } = await procVfs();
    const lines = (readAll(vfs, "/proc/self/maps") as string).split("\n");
    expect(lines[0]).toBe(`00400000-00401000 r--p 00000000 00:00 0${" ".repeat(34)}/bin/busybox`);
    expect(lines[0]?.indexOf("/bin")).toBe(73);
    expect(lines[1]?.startsWith("00401000-00402000 r-xp 00001000 00:00 0 ")).toBe(true);
    expect(lines[2]).toBe("7f0000000000-7f0000001000 rw-p 00000000 00:00 0 ");
  });

  it("is read-only, with size-0 files as procfs reports", async () => {
    const { vfs } = await procVfs();
    expect(vfs.open("/proc/self/status", 1, 0)).toBe(-EACCES);
    expect(vfs.open("/proc/self/new", O_CREAT | 1, 0o644)).toBe(-EACCES);
    expect(vfs.mkdir("/proc/self/dir", 0o755)).toBe(-EACCES);
    const st = vfs.stat("/proc/self/status", false);
    expect(typeof st !== "number" && [st.size, st.mode & 0o777]).toEqual([0, 0o444]);
    expect(typeof vfs.open("/proc/self/fd", O_DIRECTORY, 0)).toBe("object");
    const fs = vfs.statfs("/proc");
    expect(typeof fs !== "number" && fs.type).toBe(0x9fa0);
  });

  it("answers for its own pid only, and is an FsBackend on its own", () => {
    const proc = new ProcBackend(fakeProcess());
    expect(proc.readlink("/self")).toBe("7");
    expect(proc.lstat("/1")).toBe(-ENOENT);
    expect(proc.readdir("/7/fd")).toHaveLength(4);
  });
});
