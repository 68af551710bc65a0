// `#!` lines, parsed the way Linux's binfmt_script does (fs/binfmt_script.c,
// load_script(), Linux ≥ 5.1), so scan reports the interpreter and argument
// the kernel would actually run:
//
// - The kernel sees only the first BINPRM_BUF_SIZE (256) bytes of the file;
//   a shorter file is padded with NUL bytes.
// - The line ends at the first '\n' among those bytes (the search stops at
//   a NUL). With no newline, the line runs to the last byte of the buffer
//   — but only if a space, tab or NUL follows the interpreter name inside
//   the buffer; otherwise the name may be cut off and exec fails (ENOEXEC).
//   A truncated *argument* is accepted.
// - Trailing spaces and tabs are removed — only those: a '\r' of a CRLF file
//   stays, which is why such scripts fail with "/bin/sh^M: bad interpreter".
// - Spaces and tabs after "#!" are skipped; the interpreter runs up to the
//   next space, tab or NUL. An empty interpreter is not a script (ENOEXEC).
// - Everything after the spaces/tabs that follow the interpreter, to the end
//   of the line, is ONE argument (inner spaces kept), up to any NUL.

/** BINPRM_BUF_SIZE in include/linux/binfmts.h. */
export const BINPRM_BUF_SIZE = 256;

export interface Shebang {
  readonly interpreter: string;
  /** The single optional argument, inner whitespace kept. */
  readonly argument?: string;
}

export type ShebangParse =
  | { readonly ok: true; readonly shebang: Shebang }
  | {
      readonly ok: false;
      /** no-shebang: not "#!"; no-interpreter: nothing after "#!"; truncated: interpreter cut off by the 256-byte limit. */
      readonly reason: "no-shebang" | "no-interpreter" | "truncated";
    };

const SPACE = 0x20;
const TAB = 0x09;
const NEWLINE = 0x0a;
const NUL = 0x00;

const isSpaceTab = (c: number): boolean => c === SPACE || c === TAB;

/** Parses the start of a file (at least its first 256 bytes, if it has them). */
export function parseShebang(head: Uint8Array): ShebangParse {
  if (head[0] !== 0x23 || head[1] !== 0x21) return { ok: false, reason: "no-shebang" };
  // The kernel's buffer: the first 256 bytes, NUL-padded.
  const buf = new Uint8Array(BINPRM_BUF_SIZE);
  buf.set(head.subarray(0, BINPRM_BUF_SIZE));
  const last = BINPRM_BUF_SIZE - 1;

  let lineEnd = findNewline(buf);
  if (lineEnd < 0) {
    const nameStart = indexFrom(buf, 2, last, (c) => !isSpaceTab(c));
    if (nameStart < 0) return { ok: false, reason: "no-interpreter" };
    if (indexFrom(buf, nameStart, last, (c) => isSpaceTab(c) || c === NUL) < 0) {
      return { ok: false, reason: "truncated" };
    }
    lineEnd = last; // the last byte is overwritten by the terminating NUL
  }
  while (lineEnd > 2 && isSpaceTab(buf[lineEnd - 1] ?? NUL)) lineEnd--;
  buf[lineEnd] = NUL;

  let nameStart = 2;
  while (isSpaceTab(buf[nameStart] ?? NUL)) nameStart++;
  if (buf[nameStart] === NUL) return { ok: false, reason: "no-interpreter" };
  const nameEnd = indexFrom(buf, nameStart, lineEnd, (c) => isSpaceTab(c) || c === NUL);
  const interpreter = decode(buf, nameStart, nameEnd);
  if (buf[nameEnd] === NUL) return { ok: true, shebang: { interpreter } };
  const argStart = indexFrom(buf, nameEnd, lineEnd, (c) => !isSpaceTab(c));
  const argEnd = buf.indexOf(NUL, argStart); // the argument is a C string
  return { ok: true, shebang: { interpreter, argument: decode(buf, argStart, argEnd) } };
}

/** The first '\n' of the buffer, looking no further than a NUL (the kernel's strnchr). */
function findNewline(buf: Uint8Array): number {
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === NUL) return -1;
    if (buf[i] === NEWLINE) return i;
  }
  return -1;
}

/** The first index in [from, to] whose byte satisfies `test`, or -1. */
function indexFrom(
  buf: Uint8Array,
  from: number,
  to: number,
  test: (c: number) => boolean,
): number {
  for (let i = from; i <= to; i++) if (test(buf[i] ?? NUL)) return i;
  return -1;
}

function decode(buf: Uint8Array, start: number, end: number): string {
  return new TextDecoder("utf-8").decode(buf.subarray(start, end));
}
