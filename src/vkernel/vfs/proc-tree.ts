// The names under /proc and what each one is (proc(5)): /proc/self, a
// symlink to the reader's own /proc/<pid>; a directory per process of the
// run, zombies included, until its parent reaps it; the run-wide uptime,
// loadavg and mounts. proc-backend.ts serves these entries as an FsBackend.
import {
  commOf,
  renderCmdline,
  renderEnviron,
  renderMaps,
  renderStatus,
  type ProcessView,
} from "./proc-content.js";
import { renderLoadavg, renderStat, renderStatm, renderUptime } from "./proc-stat.js";
import type { DirEntry } from "./types.js";

interface EntryBase {
  readonly ino: number;
  readonly permissions: number;
  /** Owner of the entry: the process a /proc/<pid> entry describes, else root. */
  readonly uid: number;
  readonly gid: number;
}

/** What a path inside the mount names. */
export type ProcEntry =
  | (EntryBase & { readonly type: "directory"; list(): DirEntry[] })
  /** target() is undefined when the link leads nowhere (a zombie's exe and cwd): ENOENT. */
  | (EntryBase & { readonly type: "symlink"; target(): string | undefined })
  | (EntryBase & { readonly type: "file"; render(): string });

/** The names in /proc/<pid>, in proc(5)'s (alphabetical) order. */
const PROCESS_ENTRIES = [
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
] as const;

/** The names in /proc besides the pid directories. */
const RUN_ENTRIES = ["loadavg", "mounts", "self", "uptime"] as const;

/**
 * The mounts every process sees (vfs/index.ts mountProcessVfs: the root
 * with /dev and /proc over it), in /proc/<pid>/mounts' fstab format.
 */
const MOUNTS = [
  "overlay / overlay rw,relatime 0 0",
  "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0",
  "tmpfs /dev tmpfs rw,nosuid,mode=755 0 0",
  "",
].join("\n");

/** Inode numbers: the run-wide entries first, then a block per pid (its files, then fd/N). */
const PID_INO_BLOCK = 0x10_0000;
const FD_INO_OFFSET = 0x1000;

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** The entry at an inner path ("/", "/self", "/<pid>/fd/3") as `reader` sees it, or undefined. */
export function procEntry(reader: ProcessView, path: string): ProcEntry | undefined {
  const parts = path.split("/").filter((p) => p !== "");
  const [first, name, fd] = parts;
  if (first === undefined) return rootDirectory(reader);
  if (!DECIMAL.test(first)) return parts.length === 1 ? runEntry(reader, first) : undefined;
  const view = reader.process(Number(first));
  if (view === undefined) return undefined;
  if (name === undefined) return processDirectory(view);
  if (fd === undefined) return processEntry(view, name);
  if (parts.length === 3 && name === "fd" && DECIMAL.test(fd)) return fdEntry(view, Number(fd));
  return undefined;
}

function rootDirectory(reader: ProcessView): ProcEntry {
  return {
    type: "directory",
    ino: 1,
    permissions: 0o555,
    uid: 0,
    gid: 0,
    list: () => [
      ...RUN_ENTRIES.map((name) => {
        const e = runEntry(reader, name) as ProcEntry;
        return { name, ino: e.ino, type: e.type };
      }),
      ...[...reader.pids()]
        .sort((a, b) => a - b)
        .map((pid) => ({
          name: String(pid),
          ino: pid * PID_INO_BLOCK,
          type: "directory" as const,
        })),
    ],
  };
}

function runEntry(reader: ProcessView, name: string): ProcEntry | undefined {
  const ino = 2 + RUN_ENTRIES.indexOf(name as (typeof RUN_ENTRIES)[number]);
  const owner = { ino, uid: 0, gid: 0 };
  switch (name) {
    case "self":
      return { type: "symlink", ...owner, permissions: 0o777, target: () => String(reader.pid) };
    case "mounts":
      return { type: "symlink", ...owner, permissions: 0o777, target: () => "self/mounts" };
    case "uptime":
      return { type: "file", ...owner, permissions: 0o444, render: () => renderUptime(reader) };
    case "loadavg":
      return { type: "file", ...owner, permissions: 0o444, render: () => renderLoadavg(reader) };
    default:
      return undefined;
  }
}

function processDirectory(view: ProcessView): ProcEntry {
  return {
    type: "directory",
    ino: view.pid * PID_INO_BLOCK,
    permissions: 0o555,
    uid: view.uid,
    gid: view.gid,
    list: () =>
      PROCESS_ENTRIES.map((name) => {
        const e = processEntry(view, name) as ProcEntry;
        return { name, ino: e.ino, type: e.type };
      }),
  };
}

/**
 * A file of /proc/<pid>. Every process's files are open to every reader:
 * the run's processes all have uid 0, which ptrace_may_access lets through.
 * A zombie's exe and cwd lead nowhere; its memory files are empty.
 */
function processEntry(view: ProcessView, name: string): ProcEntry | undefined {
  const index = PROCESS_ENTRIES.indexOf(name as (typeof PROCESS_ENTRIES)[number]);
  const owner = { ino: view.pid * PID_INO_BLOCK + 1 + index, uid: view.uid, gid: view.gid };
  const file = (permissions: number, render: () => string): ProcEntry => ({
    type: "file",
    ...owner,
    permissions,
    render,
  });
  const link = (target: () => string | undefined): ProcEntry => ({
    type: "symlink",
    ...owner,
    permissions: 0o777,
    target,
  });
  const alive = (value: string): string | undefined => (view.state === "Z" ? undefined : value);
  switch (name) {
    case "cmdline":
      return file(0o444, () => renderCmdline(view));
    case "comm":
      return file(0o644, () => `${commOf(view)}\n`);
    case "environ":
      return file(0o400, () => renderEnviron(view));
    case "maps":
      return file(0o444, () => renderMaps(view));
    case "mounts":
      return file(0o444, () => MOUNTS);
    case "stat":
      return file(0o444, () => renderStat(view));
    case "statm":
      return file(0o444, () => renderStatm(view));
    case "status":
      return file(0o444, () => renderStatus(view));
    case "cwd":
      return link(() => alive(view.cwd));
    case "exe":
      return link(() => alive(view.exe));
    case "root":
      return link(() => alive("/"));
    case "fd":
      return {
        type: "directory",
        ...owner,
        permissions: 0o500,
        list: () =>
          [...view.fds().keys()]
            .sort((a, b) => a - b)
            .map((fd) => ({ name: String(fd), ino: fdIno(view, fd), type: "symlink" as const })),
      };
    default:
      return undefined;
  }
}

function fdEntry(view: ProcessView, fd: number): ProcEntry | undefined {
  const target = view.fds().get(fd);
  if (target === undefined) return undefined;
  return {
    type: "symlink",
    ino: fdIno(view, fd),
    permissions: 0o700,
    uid: view.uid,
    gid: view.gid,
    target: () => target,
  };
}

const fdIno = (view: ProcessView, fd: number): number =>
  view.pid * PID_INO_BLOCK + FD_INO_OFFSET + fd;
