// The state one guest process's syscalls work on: its memory, registers in
// the state block, file descriptors, root filesystem, brk/mmap regions and
// exit status. Syscall groups (syscalls/*.ts) receive it; they return -errno
// and never throw into guest code.
import { closeSync, type Stats } from "node:fs";
import { STATE_FS_BASE, stateGpr } from "../lift/guest-layout.js";
import { RootFs } from "./root-fs.js";
import { AddressSpace } from "./address-space.js";

export interface OpenFile {
  /** Host file descriptor (0–2 are the host's stdio). */
  readonly hostFd: number;
  readonly path: string;
  /** Byte offset for seekable files; null for streams (stdio). */
  position: number | null;
  readonly append: boolean;
  readonly directory: boolean;
  /** getdents64 cursor: entries already returned. */
  dirCursor: number;
  closeOnExec: boolean;
  /** Keep the host fd open on close (shared stdio). */
  readonly shared: boolean;
}

export interface KernelOptions {
  readonly root: string;
  readonly argv: readonly string[];
  readonly env: readonly string[];
  /** Report each unimplemented syscall once on stderr. */
  readonly debug?: boolean;
  readonly stdout?: (bytes: Uint8Array) => void;
  readonly stderr?: (bytes: Uint8Array) => void;
}

export class Kernel {
  readonly fs: RootFs;
  readonly files = new Map<number, OpenFile>();
  readonly space: AddressSpace;
  exitStatus: number | undefined;
  readonly pid = 1;
  umask = 0o022;
  readonly reportedMissing = new Set<number>();

  constructor(
    readonly memory: WebAssembly.Memory,
    readonly options: KernelOptions,
  ) {
    this.fs = new RootFs(options.root);
    this.space = new AddressSpace(memory);
    for (const fd of [0, 1, 2]) {
      this.files.set(fd, {
        hostFd: fd,
        path: ["/dev/stdin", "/dev/stdout", "/dev/stderr"][fd] as string,
        position: null,
        append: false,
        directory: false,
        dirCursor: 0,
        closeOnExec: false,
        shared: true,
      });
    }
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  view(): DataView {
    return new DataView(this.memory.buffer);
  }

  gpr(index: number): bigint {
    return this.view().getBigUint64(stateGpr(index), true);
  }

  setGpr(index: number, value: bigint): void {
    this.view().setBigUint64(stateGpr(index), BigInt.asUintN(64, value), true);
  }

  setFsBase(value: bigint): void {
    this.view().setBigUint64(STATE_FS_BASE, value, true);
  }

  fsBase(): bigint {
    return this.view().getBigUint64(STATE_FS_BASE, true);
  }

  /** A NUL-terminated string at a guest address. */
  readString(address: number, max = 4096): string {
    const mem = this.bytes();
    let end = address;
    while (end < mem.length && end - address < max && mem[end] !== 0) end++;
    return new TextDecoder().decode(mem.subarray(address, end));
  }

  /** True when [address, address+length) lies in guest memory. */
  valid(address: number, length: number): boolean {
    return address >= 0x1000 && address + length <= this.memory.buffer.byteLength;
  }

  lowestFreeFd(from = 0): number {
    let fd = from;
    while (this.files.has(fd)) fd++;
    return fd;
  }

  closeAll(): void {
    for (const f of this.files.values()) {
      if (!f.shared) {
        try {
          closeSync(f.hostFd);
        } catch {
          // already gone
        }
      }
    }
    this.files.clear();
  }
}

/** struct stat for x86-64 (asm/stat.h), 144 bytes. */
export function writeStat(k: Kernel, address: number, st: Stats): void {
  const v = k.view();
  const u64 = (off: number, value: number | bigint): void =>
    v.setBigUint64(address + off, BigInt.asUintN(64, BigInt(Math.trunc(Number(value)))), true);
  k.bytes().fill(0, address, address + 144);
  u64(0, st.dev);
  u64(8, st.ino);
  u64(16, st.nlink);
  v.setUint32(address + 24, st.mode, true);
  v.setUint32(address + 28, 0, true);
  v.setUint32(address + 32, 0, true);
  u64(40, st.rdev);
  u64(48, st.size);
  u64(56, st.blksize || 4096);
  u64(64, st.blocks);
  const time = (off: number, ms: number): void => {
    u64(off, Math.floor(ms / 1000));
    u64(off + 8, Math.floor((ms % 1000) * 1e6));
  };
  time(72, st.atimeMs);
  time(88, st.mtimeMs);
  time(104, st.ctimeMs);
}
