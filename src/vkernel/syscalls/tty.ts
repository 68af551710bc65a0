// ioctl(2) on the guest's terminal (ioctl_tty(2)): when a descriptor is the
// host's stdin, stdout or stderr and that is a terminal, TCGETS/TCSETS*
// read and set its termios (vfs/host-terminal.ts), TIOCGWINSZ gives its
// size, TIOCGPGRP/TIOCSPGRP its foreground process group (tcgetpgrp(3),
// tcsetpgrp(3); the host's Ctrl-C goes to that group, process/system.ts),
// TIOCGSID its session and FIONREAD what stdin holds. Every other
// descriptor is not a terminal: ENOTTY, so isatty(3) is false.
import { EBADF, EFAULT, EINVAL, ENOTTY, EPERM } from "../errno.js";
import type { Kernel } from "../kernel.js";
import { hostTerminal, KERNEL_TERMIOS_SIZE, type HostTerminal } from "../vfs/host-terminal.js";
import { StdioNode } from "../vfs/stdio-node.js";
import { num, type SyscallArgs } from "./types.js";

const TCGETS = 0x5401;
const TCSETS = 0x5402;
const TCSETSW = 0x5403;
const TCSETSF = 0x5404;
const TIOCSCTTY = 0x540e;
const TIOCGPGRP = 0x540f;
const TIOCSPGRP = 0x5410;
const TIOCGWINSZ = 0x5413;
const FIONREAD = 0x541b;
const TIOCNOTTY = 0x5422;
const TIOCGSID = 0x5429;

/** The host terminal behind `fd`, or undefined when `fd` is not one. */
function terminalOf(k: Kernel, fd: number): HostTerminal | undefined {
  const node = k.files.get(fd)?.file.node;
  return node instanceof StdioNode ? hostTerminal(node.hostFd) : undefined;
}

export function ioctl(k: Kernel, a: SyscallArgs): number {
  const fd = Number(BigInt.asIntN(32, a[0]));
  if (!k.files.has(fd)) return -EBADF;
  const terminal = terminalOf(k, fd);
  if (terminal === undefined) return -ENOTTY;
  const request = Number(a[1] & 0xffffffffn);
  const arg = num(a[2]);
  const v = k.view();
  const writable = (length: number): boolean => k.valid(arg, length);
  switch (request) {
    case TCGETS: {
      const t = terminal.get();
      if (t === undefined) return -ENOTTY;
      if (!writable(KERNEL_TERMIOS_SIZE)) return -EFAULT;
      v.setUint32(arg, t.iflag, true);
      v.setUint32(arg + 4, t.oflag, true);
      v.setUint32(arg + 8, t.cflag, true);
      v.setUint32(arg + 12, t.lflag, true);
      v.setUint8(arg + 16, t.line);
      k.bytes().set(t.cc, arg + 17);
      return 0;
    }
    case TCSETS:
    case TCSETSW:
    case TCSETSF: {
      if (!writable(KERNEL_TERMIOS_SIZE)) return -EFAULT;
      const settings = {
        iflag: v.getUint32(arg, true),
        oflag: v.getUint32(arg + 4, true),
        cflag: v.getUint32(arg + 8, true),
        lflag: v.getUint32(arg + 12, true),
        line: v.getUint8(arg + 16),
        cc: k.bytes().slice(arg + 17, arg + 36),
      };
      return terminal.set(settings) ? 0 : -EINVAL;
    }
    case TIOCGWINSZ: {
      if (!writable(8)) return -EFAULT;
      const { rows, columns } = terminal.size();
      v.setUint16(arg, rows, true);
      v.setUint16(arg + 2, columns, true);
      v.setUint32(arg + 4, 0, true);
      return 0;
    }
    case TIOCGPGRP: {
      if (!writable(4)) return -EFAULT;
      v.setInt32(arg, k.system?.foreground ?? k.pgid, true);
      return 0;
    }
    case TIOCSPGRP: {
      if (!writable(4)) return -EFAULT;
      const group = v.getInt32(arg, true);
      if (group <= 0) return -EINVAL;
      const system = k.system;
      if (system === undefined) return 0;
      // The group must exist in the caller's session (tcsetpgrp(3) EPERM).
      const members = [...system.processes.values()].filter((p) => p.pgid === group && !p.ended);
      if (members.length === 0 || members.some((p) => p.sid !== k.sid)) return -EPERM;
      system.foreground = group;
      return 0;
    }
    case TIOCGSID: {
      if (!writable(4)) return -EFAULT;
      v.setInt32(arg, k.sid, true);
      return 0;
    }
    case FIONREAD: {
      if (!writable(4)) return -EFAULT;
      const node = k.files.get(fd)?.file.node;
      const waiting = node instanceof StdioNode ? (node.input?.buffered ?? 0) : 0;
      v.setInt32(arg, waiting, true);
      return 0;
    }
    case TIOCSCTTY:
    case TIOCNOTTY:
      return 0;
    default:
      return -ENOTTY;
  }
}
