// /proc over fake ProcessViews: /proc/self as a symlink to /proc/<pid>,
// a directory per process of the run (zombies included, reaped ones gone),
// exe, cwd and fd/N as symlinks, cmdline, environ, status and maps in
// proc(5)'s formats, read-only, and mounted by mountProcessVfs next to /dev.
import { describe, expect, it } from "vitest";
import { EACCES, ENOENT } from "../../../src/vkernel/errno.js";
import { O_CREAT, O_DIRECTORY, typeOfMode } from "../../../src/vkernel/vfs/constants.js";
import {
  imageRoot,
  mountProcessVfs,
  preloadContent,
  ProcBackend,
} from "../../../src/vkernel/vfs/index.js";
import { listNames, readAll, sampleView } from "./image-fixture.js";
import { fakeRun, type FakeRun } from "./proc-fixture.js";

/** A run of pid 1 (init), 7 (the reader) and 9 (its child, asleep). */
function threeProcesses(): FakeRun {
  const run = fakeRun();
  run.add(1, { ppid: 0, argv: ["/bin/sh"], comm: "sh", cwd: "/" });
  run.add(7);
  run.add(9, {
    ppid: 7,
    state: "S",
    argv: ["sleep", "10"],
    comm: "sleep",
    environ: ["A=1"],
    cwd: "/tmp",
  });
  return run;
}

async function procVfs(run = threeProcesses(), reader = 7) {
  const sample = sampleView();
  const root = imageRoot(sample, await preloadContent(sample));
  const view = run.get(reader);
  return { vfs: mountProcessVfs(root, () => undefined, view), view, run };
}

const PROCESS_NAMES = [
  ".",
  "..",
  "cmdline",
  "comm",
  "cwd",
  "environ",
  "exe",
  "fd",
  "maps",
  "mounts",
  "root",
  "stat",
  "statm",
  "status",
];

describe("ProcBackend", () => {
  it("makes /proc/self a symlink to the reader's own directory, and lists the run's pids", async () => {
    const { vfs } = await procVfs();
    expect(vfs.readlink("/proc/self")).toBe("7");
    expect(listNames(vfs, "/proc")).toEqual([
      ".",
      "..",
      "loadavg",
      "mounts",
      "self",
      "uptime",
      "1",
      "7",
      "9",
    ]);
    expect(listNames(vfs, "/proc/self")).toEqual(PROCESS_NAMES);
    expect(listNames(vfs, "/proc/9")).toEqual(PROCESS_NAMES);
    expect(vfs.stat("/proc/8", false)).toBe(-ENOENT);
    expect(vfs.stat("/proc/07", false)).toBe(-ENOENT);
    expect(vfs.stat("/proc/self/nothing", false)).toBe(-ENOENT);
  });

  it("links exe to the program and cwd to the working directory, as they are now", async () => {
    const { vfs, view } = await procVfs();
    expect(vfs.readlink("/proc/self/exe")).toBe("/bin/busybox");
    expect(vfs.readlink("/proc/7/cwd")).toBe("/var");
    expect(vfs.readlink("/proc/7/root")).toBe("/");
    view.cwd = "/etc";
    expect(vfs.readlink("/proc/self/cwd")).toBe("/etc");
    // Following the links reaches the files themselves.
    expect(readAll(vfs, "/proc/self/cwd/hostname")).toBe("image\n");
    const exe = vfs.stat("/proc/self/exe", false);
    expect(typeof exe !== "number" && typeOfMode(exe.mode)).toBe("file");
  });

  it("lists a symlink per open descriptor, of other processes too (all run as root)", async () => {
    const { vfs, view, run } = await procVfs();
    expect(listNames(vfs, "/proc/self/fd")).toEqual([".", "..", "0", "1", "2", "3"]);
    expect(vfs.readlink("/proc/self/fd/3")).toBe("/etc/hostname");
    expect(readAll(vfs, "/proc/self/fd/3")).toBe("image\n");
    view.open.delete(3);
    expect(vfs.readlink("/proc/self/fd/3")).toBe(-ENOENT);
    expect(vfs.stat("/proc/self/fd/03", true)).toBe(-ENOENT);
    run.get(9).open.set(5, "/etc/os-release");
    expect(vfs.readlink("/proc/9/fd/5")).toBe("/etc/os-release");
  });

  it("renders cmdline and environ with NULs, comm, and status with the lines glibc and shells read", async () => {
    const { vfs } = await procVfs();
    expect(readAll(vfs, "/proc/self/cmdline")).toBe("/bin/busybox\0sh\0-c\0echo hi\0");
    expect(readAll(vfs, "/proc/self/environ")).toBe("PATH=/usr/bin:/bin\0HOME=/root\0");
    expect(readAll(vfs, "/proc/self/comm")).toBe("sh\n");
    const status = readAll(vfs, "/proc/self/status");
    expect(status).toContain("Name:\tsh\n");
    expect(status).toContain("State:\tR (running)\n");
    expect(status).toContain("Pid:\t7\n");
    expect(status).toContain("PPid:\t1\n");
    expect(status).toContain("Uid:\t0\t0\t0\t0\n");
    expect(status).toContain("Gid:\t0\t0\t0\t0\n");
    expect(status).toContain("VmRSS:\t    3072 kB\n");
    expect(status).toContain("NSpgid:\t7\n");
  });

  it("describes another process of the run from its own view", async () => {
    const { vfs } = await procVfs();
    expect(readAll(vfs, "/proc/9/cmdline")).toBe("sleep\x0010\0");
    expect(readAll(vfs, "/proc/9/environ")).toBe("A=1\0");
    expect(readAll(vfs, "/proc/9/comm")).toBe("sleep\n");
    expect(vfs.readlink("/proc/9/cwd")).toBe("/tmp");
    expect(readAll(vfs, "/proc/9/status")).toContain("State:\tS (sleeping)\nTgid:\t9\n");
    expect((readAll(vfs, "/proc/9/stat") as string).split(" ").slice(0, 6)).toEqual([
      "9",
      "(sleep)",
      "S",
      "7",
      "9",
      "1",
    ]);
  });

  it("shows a zombie as Z with no memory, exe or cwd, and forgets a reaped pid", async () => {
    const { vfs, run } = await procVfs();
    const child = run.get(9);
    child.state = "Z";
    child.waitStatus = 3 << 8;
    child.open.clear();
    const stat = (readAll(vfs, "/proc/9/stat") as string).trim().split(" ");
    expect(stat.slice(0, 4)).toEqual(["9", "(sleep)", "Z", "7"]);
    expect([stat[22], stat[23], stat[51]]).toEqual(["0", "0", String(3 << 8)]);
    expect(readAll(vfs, "/proc/9/status")).toContain("State:\tZ (zombie)\n");
    expect(readAll(vfs, "/proc/9/status")).not.toContain("VmRSS");
    expect(readAll(vfs, "/proc/9/cmdline")).toBe("");
    expect(readAll(vfs, "/proc/9/environ")).toBe("");
    expect(readAll(vfs, "/proc/9/maps")).toBe("");
    expect(vfs.readlink("/proc/9/exe")).toBe(-ENOENT);
    expect(vfs.readlink("/proc/9/cwd")).toBe(-ENOENT);
    expect(listNames(vfs, "/proc/9/fd")).toEqual([".", ".."]);
    run.processes.delete(9);
    expect(vfs.stat("/proc/9", false)).toBe(-ENOENT);
    expect(readAll(vfs, "/proc/9/stat")).toBe(-ENOENT);
    expect(listNames(vfs, "/proc")).not.toContain("9");
  });

  it("renders maps sorted, names padded to column 73 as Linux does", async () => {
    const { vfs } = await procVfs();
    const lines = (readAll(vfs, "/proc/self/maps") as string).split("\n");
    expect(lines[0]).toBe(`00400000-00401000 r--p 00000000 00:00 0${" ".repeat(34)}/bin/busybox`);
    expect(lines[0]?.indexOf("/bin")).toBe(73);
    expect(lines[1]?.startsWith("00401000-00402000 r-xp 00001000 00:00 0 ")).toBe(true);
    expect(lines[2]).toBe("7f0000000000-7f0000001000 rw-p 00000000 00:00 0 ");
  });

  it("has the run-wide uptime, loadavg and mounts", async () => {
    const { vfs } = await procVfs();
    // 12.345 s up; 3 × 1.234 s of CPU time were not idle.
    expect(readAll(vfs, "/proc/uptime")).toBe("12.35 8.64\n");
    expect(readAll(vfs, "/proc/loadavg")).toBe("0.00 0.00 0.00 2/3 9\n");
    expect(vfs.readlink("/proc/mounts")).toBe("self/mounts");
    const mounts = readAll(vfs, "/proc/mounts") as string;
    expect(mounts.split("\n").map((line) => line.split(" ")[1] ?? "")).toEqual([
      "/",
      "/proc",
      "/dev",
      "",
    ]);
  });

  it("is read-only, with size-0 files as procfs reports, owned by the process described", async () => {
    const run = threeProcesses();
    run.add(9, { ppid: 7, uid: 1000, gid: 100 });
    const { vfs } = await procVfs(run);
    expect(vfs.open("/proc/self/status", 1, 0)).toBe(-EACCES);
    expect(vfs.open("/proc/self/new", O_CREAT | 1, 0o644)).toBe(-EACCES);
    expect(vfs.mkdir("/proc/self/dir", 0o755)).toBe(-EACCES);
    const st = vfs.stat("/proc/self/status", false);
    expect(typeof st !== "number" && [st.size, st.mode & 0o777]).toEqual([0, 0o444]);
    const environ = vfs.stat("/proc/self/environ", false);
    expect(typeof environ !== "number" && environ.mode & 0o777).toBe(0o400);
    const other = vfs.stat("/proc/9", false);
    expect(typeof other !== "number" && [other.uid, other.gid]).toEqual([1000, 100]);
    expect(typeof vfs.open("/proc/self/fd", O_DIRECTORY, 0)).toBe("object");
    const fs = vfs.statfs("/proc");
    expect(typeof fs !== "number" && fs.type).toBe(0x9fa0);
  });

  it("gives each entry its own inode number", async () => {
    const { vfs } = await procVfs();
    const inos = new Set<number>();
    const paths = ["/proc", "/proc/self", "/proc/uptime", "/proc/1", "/proc/7", "/proc/9"];
    for (const name of PROCESS_NAMES.slice(2)) paths.push(`/proc/7/${name}`, `/proc/9/${name}`);
    paths.push("/proc/7/fd/0", "/proc/9/fd/0", "/proc/7/fd/3");
    for (const path of paths) {
      const st = vfs.stat(path, true);
      if (typeof st === "number") throw new Error(`${path}: ${st}`);
      inos.add(st.ino);
    }
    expect(inos.size).toBe(paths.length);
  });

  it("is an FsBackend on its own", () => {
    const proc = new ProcBackend(threeProcesses().get(7));
    expect(proc.readlink("/self")).toBe("7");
    expect(proc.lstat("/2")).toBe(-ENOENT);
    expect(proc.readdir("/7/fd")).toHaveLength(4);
  });
});
