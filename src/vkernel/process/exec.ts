// execve(2) by hash (ARCHITECTURE.md "vkernel"; issue: "execve by hash"):
// the kernel opens the file at the path inside the process's root, follows
// `#!` interpreter lines as binfmt_script does (the interpreter — itself found
// by hash — gets the script path as an argument), hashes the ELF file it ends
// at (BLAKE3, cached per file version) and asks the run's ProgramSource for
// the program with that hash. A file whose hash the source does not know never
// runs: execve fails with ENOEXEC and one line on stderr names path and hash.
// Once accepted, the new image replaces the process after the code unwinds.
import { posix } from "node:path";
import { blake3Hex } from "../../hash/blake3.js";
import { BINPRM_BUF_SIZE, parseShebang } from "../../scan/shebang.js";
import { E2BIG, EACCES, EFAULT, ENOEXEC, ELOOP } from "../errno.js";
import { FileDescriptor, Kernel } from "../kernel.js";
import { loadImage, setupStack } from "../loader.js";
import { typeOfMode } from "../vfs/constants.js";
import { isDirectoryStat } from "../vfs/open-file.js";
import { nameGeneration } from "../vfs/mount-vfs.js";
import { writeCount } from "../vfs/write-log.js";
import type { VfsNode, VfsStat } from "../vfs/types.js";
import { returnVforkMemory } from "./fork.js";
import { ExecRefused, type ExecFile, type Program } from "./program.js";
import { poolFor, releaseProcess, scrubSlot, usedRanges } from "./pool.js";
import { bindSlot, type InstanceSlot } from "./runtime.js";

/** execve(2) follows at most this many interpreters (BINPRM_MAX_RECURSION). */
const MAX_INTERPRETER_DEPTH = 4;
/** MAX_ARG_STRLEN-ish bound on what argv and envp may hold in all. */
const MAX_ARGUMENT_BYTES = 2 << 20;
const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
const O_RDONLY = 0;

export interface ExecRequest {
  readonly program: Program | Promise<Program>;
  readonly argv: readonly string[];
  readonly env: readonly string[];
  /** The path execve was called with (AT_EXECFN, comm). */
  readonly path: string;
  /** The canonical path of the ELF file it ran, symlinks followed (/proc/self/exe). */
  readonly exe?: string;
}

/** A NULL-terminated array of string pointers in guest memory, or -errno. */
export function readStringArray(k: Kernel, address: number): string[] | number {
  const out: string[] = [];
  if (address === 0) return out;
  let bytes = 0;
  for (let i = 0; ; i++) {
    const slot = address + i * 8;
    if (!k.valid(slot, 8)) return -EFAULT;
    const pointer = Number(k.view().getBigUint64(slot, true));
    if (pointer === 0) return out;
    if (!k.valid(pointer, 1)) return -EFAULT;
    const s = k.readString(pointer, 131072);
    bytes += s.length + 1;
    if (bytes > MAX_ARGUMENT_BYTES) return -E2BIG;
    out.push(s);
  }
}

/** A file execve(2) looked at before, by the path and cwd it was asked with. */
export interface KnownExecutable {
  /** The root tree's nameGeneration when the lookup was made. */
  readonly generation: number;
  /** Canonical path in the root tree. */
  readonly path: string;
  readonly version: string;
  readonly head: Uint8Array;
}

/**
 * The file version hashes and heads are cached by: inode, size, mtime, and
 * the writes made through the vkernel (a same-size rewrite within one clock
 * tick keeps size and mtime).
 */
function versionOf(st: VfsStat): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${writeCount(st.dev, st.ino)}`;
}

/** -EACCES unless `st` is a regular file with an execute bit. */
function executable(st: VfsStat): number {
  if (isDirectoryStat(st) || typeOfMode(st.mode) !== "file") return -EACCES;
  return (st.mode & 0o111) === 0 ? -EACCES : 0;
}

/** The first `length` bytes of a file (fewer if it is shorter), or -errno. */
function readHead(node: VfsNode, length: number): Uint8Array | number {
  const bytes = new Uint8Array(length);
  let done = 0;
  while (done < bytes.length) {
    const n = node.pread(bytes.subarray(done), done);
    if (n < 0) return n;
    if (n === 0) break;
    done += n;
  }
  return done === bytes.length ? bytes : bytes.subarray(0, done);
}

/** The first `length` bytes of the root tree's file at canonical `path`. */
function readRootFile(k: Kernel, path: string, length: number): Uint8Array | number {
  const node = k.root.open(path, { write: false, truncate: false });
  if (typeof node === "number") return node;
  try {
    return readHead(node, length);
  } finally {
    node.close();
  }
}

/**
 * The file at `path` if the process may execute it: its first bytes (enough
 * for the ELF magic or a `#!` line), its version key and a reader for the
 * whole file — only needed when its hash is not known. A shell spawns the
 * same few programs again and again, so a lookup that depended on the root
 * tree alone is kept until the tree's names change; the file itself is
 * still stat'ed each time, so new content or a lost execute bit is seen.
 */
function openExecutable(
  k: Kernel,
  path: string,
):
  { head: Uint8Array; version: string; path: string; readAll: () => Uint8Array | number } | number {
  const known = k.system?.executables;
  const key = path.startsWith("/") ? path : `${k.cwd}\0${path}`;
  const hit = known?.get(key);
  if (hit !== undefined && hit.generation === nameGeneration(k.root)) {
    const st = k.root.lstat(hit.path);
    if (typeof st !== "number" && versionOf(st) === hit.version && executable(st) === 0) {
      return {
        head: hit.head,
        version: hit.version,
        path: hit.path,
        readAll: () => readRootFile(k, hit.path, st.size),
      };
    }
  }
  const generation = nameGeneration(k.root);
  const found = k.vfs.lookup(path, k.cwd);
  if (typeof found === "number") return found;
  const { stat: st } = found;
  const refused = executable(st);
  if (refused !== 0) return refused;
  const read = (length: number): Uint8Array | number => {
    if (found.rootOnly) return readRootFile(k, found.path, length);
    const file = k.vfs.open(found.path, O_RDONLY, 0);
    if (typeof file === "number") return file;
    try {
      return readHead(file.node, length);
    } finally {
      file.release();
    }
  };
  const head = read(Math.min(st.size, BINPRM_BUF_SIZE));
  if (typeof head === "number") return head;
  const version = versionOf(st);
  if (found.rootOnly) known?.set(key, { generation, path: found.path, version, head });
  return { head, version, path: found.path, readAll: () => read(st.size) };
}

/** The ELF file execve of `path` with `argv` ends at, and the argv it gets; or -errno. */
export function resolveExec(
  k: Kernel,
  path: string,
  argv: readonly string[],
): { file: ExecFile; argv: string[]; exe: string } | number {
  let current = path;
  let args = [...argv];
  for (let depth = 0; ; depth++) {
    const opened = openExecutable(k, current);
    if (typeof opened === "number") return opened;
    const { head } = opened;
    if (ELF_MAGIC.every((b, i) => head[i] === b)) {
      // BLAKE3 per file version (exec.ts is asked for the same files again and
      // again); the whole file is read only when its hash or program is new.
      let bytes: Uint8Array | undefined;
      const readAll = (): Uint8Array => {
        if (bytes === undefined) {
          const all = opened.readAll();
          bytes = typeof all === "number" ? new Uint8Array(0) : all;
        }
        return bytes;
      };
      const hashes = k.system?.hashes;
      let hash = hashes?.get(opened.version);
      if (hash === undefined) {
        hash = `blake3:${blake3Hex(readAll())}`;
        hashes?.set(opened.version, hash);
      }
      return { file: { path: current, hash, bytes: readAll }, argv: args, exe: opened.path };
    }
    const shebang = parseShebang(head);
    if (!shebang.ok) return -ENOEXEC;
    if (depth >= MAX_INTERPRETER_DEPTH) return -ELOOP;
    const { interpreter, argument } = shebang.shebang;
    // binfmt_script: interpreter [argument] script-path original-args[1:]
    args = [interpreter, ...(argument !== undefined ? [argument] : []), current, ...args.slice(1)];
    current = interpreter;
  }
}

/**
 * execve(2)'s synchronous part: resolve, hash, ask the program source. On
 * success the request waits on the kernel and the handler returns 0 (the
 * lifted code then unwinds); a refused file is -ENOEXEC with its line.
 */
export function requestExec(
  k: Kernel,
  path: string,
  argv: readonly string[],
  env: readonly string[],
): number {
  const system = k.system;
  if (system === undefined) return -ENOEXEC;
  const resolved = resolveExec(k, path, argv);
  if (typeof resolved === "number") return resolved;
  let program: Program | Promise<Program>;
  try {
    program = system.programs.load(resolved.file);
  } catch (err) {
    if (!(err instanceof ExecRefused)) throw err;
    k.say(err.message);
    return -err.errno;
  }
  // The scheduler awaits it after the code unwinds; until then a refusal must
  // not count as an unhandled rejection.
  if (program instanceof Promise) program.catch(() => undefined);
  k.execRequest = { program, argv: resolved.argv, env, path, exe: resolved.exe };
  return 0;
}

/**
 * The process after execve: the new program loaded into clean memory with
 * its start-up stack, the same pid, parent, group, cwd and umask, the
 * descriptors without the close-on-exec ones, handlers reset to default.
 * A program of the module the process runs keeps its instance and memory
 * (ARCHITECTURE.md "vkernel": the megabinary holds every program): the
 * ranges the old image used are zeroed in place. Another module's program
 * takes a ready instance from that module's pool, and so does a vfork
 * child, whose instance and memory are its parent's.
 */
export function replaceImage(old: Kernel, program: Program, request: ExecRequest): Kernel {
  // A vfork child gives the parent its memory back and takes a clean one.
  returnVforkMemory(old);
  const previous = old.runtime;
  let slot: InstanceSlot | undefined;
  if (previous !== undefined && previous.slot.module === program.module) {
    if (previous.slot.current === previous && scrubSlot(previous.slot, usedRanges(old))) {
      slot = previous.slot;
      slot.current = undefined;
    }
    old.runtime = undefined;
  } else {
    releaseProcess(old);
  }
  slot ??= poolFor(program.module).take();
  const files = new Map<number, FileDescriptor>();
  for (const [fd, entry] of old.files) {
    if (entry.closeOnExec) entry.file.release();
    else files.set(fd, entry);
  }
  old.files.clear();
  const k = new Kernel(slot.memory, old.options, { files, signals: old.signals.exec() });
  k.argv = request.argv;
  k.env = request.env;
  k.inherit(old);
  k.pid = old.pid;
  k.ppid = old.ppid;
  // execve(2) keeps pending alarms and the CPU time used (RLIMIT_CPU).
  k.alarmAt = old.alarmAt;
  k.alarmIntervalMs = old.alarmIntervalMs;
  k.cpuMs = old.cpuMs;
  k.startedMs = old.startedMs;
  k.exePath = request.exe ?? program.image.name;
  k.comm = posix.basename(request.path).slice(0, 15);
  k.system = old.system;
  loadImage(k, program.image);
  setupStack(k, program.image, request.argv, request.env);
  k.runtime = bindSlot(slot, k, program);
  return k;
}
