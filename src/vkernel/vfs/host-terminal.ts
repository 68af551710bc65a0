// The host's terminal as the guest's controlling terminal: when megalift's
// stdin, stdout or stderr is a terminal, the guest's fds 0–2 on it answer
// the termios ioctls (tty(4), termios(3)). Node has no tcgetattr(3), so the
// settings are read and set through stty(1) on that fd: `stty -g` prints
// c_iflag, c_oflag, c_cflag, c_lflag and the 32 c_cc bytes of glibc's
// struct termios in hex, and `stty` takes the same string back. A guest that
// turns off ICANON and ECHO for line editing (an interactive shell) gets
// exactly that on the host terminal; the first settings come back when the
// run ends.
import { spawnSync } from "node:child_process";
import * as tty from "node:tty";

/** The kernel's struct termios (TCGETS): four flag words, c_line, c_cc[19]. */
export const KERNEL_TERMIOS_SIZE = 36;
const KERNEL_NCCS = 19;

export interface Termios {
  readonly iflag: number;
  readonly oflag: number;
  readonly cflag: number;
  readonly lflag: number;
  readonly line: number;
  /** c_cc as the kernel has it (19 bytes). */
  readonly cc: Uint8Array;
}

/** Reads and sets one host terminal through stty(1) on its fd. */
export class HostTerminal {
  /** `stty -g` at first use: what the run gives back at its end. */
  private original: string | undefined;
  /** The settings as the guest last set them (or the host's). */
  private current: Termios | undefined;

  constructor(readonly hostFd: number) {}

  /** The settings (TCGETS), or undefined when stty cannot read the terminal. */
  get(): Termios | undefined {
    if (this.current !== undefined) return this.current;
    const saved = this.stty(["-g"]);
    if (saved === undefined) return undefined;
    this.original ??= saved;
    this.current = parseStty(saved);
    return this.current;
  }

  /** TCSETS: applies `settings` to the host terminal; false when stty refused. */
  set(settings: Termios): boolean {
    const base = this.original ?? this.stty(["-g"]);
    if (base === undefined) return false;
    this.original ??= base;
    if (this.stty([formatStty(settings, base)]) === undefined) return false;
    this.current = settings;
    return true;
  }

  /** Rows and columns (TIOCGWINSZ). */
  size(): { rows: number; columns: number } {
    const out = this.stty(["size"]);
    const [rows, columns] = (out ?? "0 0").split(" ").map(Number);
    return { rows: rows ?? 0, columns: columns ?? 0 };
  }

  /** The run ends: the terminal gets back the settings it had. */
  restore(): void {
    if (this.original !== undefined && this.current !== undefined) this.stty([this.original]);
    this.current = undefined;
  }

  private stty(args: string[]): string | undefined {
    const r = spawnSync("stty", args, {
      stdio: [this.hostFd, "pipe", "pipe"],
      encoding: "utf8",
    });
    return r.status === 0 ? r.stdout.trim() : undefined;
  }
}

function parseStty(saved: string): Termios {
  const fields = saved.split(":").map((f) => parseInt(f, 16));
  const cc = new Uint8Array(KERNEL_NCCS);
  for (let i = 0; i < KERNEL_NCCS; i++) cc[i] = fields[4 + i] ?? 0;
  return {
    iflag: fields[0] ?? 0,
    oflag: fields[1] ?? 0,
    cflag: fields[2] ?? 0,
    lflag: fields[3] ?? 0,
    line: 0,
    cc,
  };
}

/** `settings` in stty -g form; c_cc entries past the kernel's 19 come from `base`. */
function formatStty(settings: Termios, base: string): string {
  const baseFields = base.split(":");
  const flags = [settings.iflag, settings.oflag, settings.cflag, settings.lflag];
  const cc = baseFields
    .slice(4)
    .map((f, i) => (i < KERNEL_NCCS ? (settings.cc[i] ?? 0) : parseInt(f, 16)));
  return [...flags, ...cc].map((n) => (n >>> 0).toString(16)).join(":");
}

const terminals = new Map<number, HostTerminal | null>();

/** The host terminal behind host fd 0, 1 or 2, or undefined when it is not a terminal. */
export function hostTerminal(hostFd: number): HostTerminal | undefined {
  let t = terminals.get(hostFd);
  if (t === undefined) {
    t = tty.isatty(hostFd) ? new HostTerminal(hostFd) : null;
    terminals.set(hostFd, t);
  }
  return t ?? undefined;
}

/** Gives every terminal a run changed its first settings back. */
export function restoreTerminals(): void {
  for (const t of terminals.values()) t?.restore();
}
