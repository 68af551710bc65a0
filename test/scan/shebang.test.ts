// `#!` parsing against Linux's binfmt_script rules (fs/binfmt_script.c): one
// interpreter, at most one argument with inner spaces kept, the 256-byte
// buffer, CRLF left in place, and the cases where exec fails with ENOEXEC.
import { describe, expect, it } from "vitest";
import { BINPRM_BUF_SIZE, parseShebang, type ShebangParse } from "../../src/scan/shebang.js";

const parse = (text: string | Uint8Array): ShebangParse =>
  parseShebang(typeof text === "string" ? Buffer.from(text, "latin1") : text);
const script = (interpreter: string, argument?: string): ShebangParse => ({
  ok: true,
  shebang: argument === undefined ? { interpreter } : { interpreter, argument },
});

describe("parseShebang", () => {
  it("reads a plain interpreter", () => {
    expect(parse("#!/bin/sh\necho hi\n")).toEqual(script("/bin/sh"));
  });

  it("skips spaces and tabs after #!", () => {
    expect(parse("#! /bin/sh\n")).toEqual(script("/bin/sh"));
    expect(parse("#!\t \t/usr/bin/env\tpython3\n")).toEqual(script("/usr/bin/env", "python3"));
  });

  it("keeps an argument with inner spaces as one argument", () => {
    expect(parse("#!/usr/bin/env -S python3 -u\n")).toEqual(
      script("/usr/bin/env", "-S python3 -u"),
    );
    expect(parse("#!/bin/echo\t  a  b \t\n")).toEqual(script("/bin/echo", "a  b"));
  });

  it("removes trailing spaces and tabs but keeps a CR from a CRLF file", () => {
    expect(parse("#!/bin/sh   \t\n")).toEqual(script("/bin/sh"));
    expect(parse("#!/bin/sh\r\n")).toEqual(script("/bin/sh\r"));
    expect(parse("#!/usr/bin/perl -w\r\n")).toEqual(script("/usr/bin/perl", "-w\r"));
  });

  it("accepts a file with no newline at all", () => {
    expect(parse("#!/bin/sh")).toEqual(script("/bin/sh"));
    expect(parse("#!/bin/sh -e")).toEqual(script("/bin/sh", "-e"));
    // The NUL padding follows the space: the kernel passes an empty argument.
    expect(parse("#!/bin/echo ")).toEqual(script("/bin/echo", ""));
  });

  it("stops at a NUL byte", () => {
    expect(parse("#!/bin/sh\0 ignored\n")).toEqual(script("/bin/sh"));
    expect(parse("#!/bin/sh -e\0x\n")).toEqual(script("/bin/sh", "-e"));
  });

  it("is not a script without an interpreter", () => {
    expect(parse("#!")).toEqual({ ok: false, reason: "no-interpreter" });
    expect(parse("#!\n/bin/sh\n")).toEqual({ ok: false, reason: "no-interpreter" });
    expect(parse("#!   \t \n")).toEqual({ ok: false, reason: "no-interpreter" });
    expect(parse(`#!${" ".repeat(300)}`)).toEqual({ ok: false, reason: "no-interpreter" });
  });

  it("is not a script without #!", () => {
    expect(parse("# !/bin/sh\n")).toEqual({ ok: false, reason: "no-shebang" });
    expect(parse("#")).toEqual({ ok: false, reason: "no-shebang" });
    expect(parse("")).toEqual({ ok: false, reason: "no-shebang" });
    expect(parse("\x7fELF")).toEqual({ ok: false, reason: "no-shebang" });
  });

  it("truncates an over-long argument at the 256-byte buffer", () => {
    const text = `#!/bin/echo ${"y".repeat(300)}\n`;
    // Bytes 0..254 are the line; byte 255 becomes the terminating NUL.
    expect(parse(text)).toEqual(script("/bin/echo", "y".repeat(BINPRM_BUF_SIZE - 1 - 12)));
  });

  it("rejects an interpreter cut off by the 256-byte buffer", () => {
    expect(parse(`#!/bin/${"e".repeat(300)}\n`)).toEqual({ ok: false, reason: "truncated" });
    // 255 bytes: the NUL padding in the last buffer byte ends the name.
    expect(parse(`#!/${"x".repeat(252)}`)).toEqual(script(`/${"x".repeat(252)}`));
    // 256 bytes and no space, tab or NUL: the name may go on, so exec fails.
    expect(parse(`#!/${"x".repeat(253)}`)).toEqual({ ok: false, reason: "truncated" });
  });

  it("finds a newline at the very end of the buffer", () => {
    const name = `/${"p".repeat(252)}`; // "#!" + 253 bytes + "\n" = 256 bytes
    expect(parse(`#!${name}\nrest`)).toEqual(script(name));
  });

  it("reads only the first 256 bytes", () => {
    const head = `#!/bin/sh -x${" ".repeat(250)}`;
    expect(parse(`${head}tail after the buffer\n`)).toEqual(script("/bin/sh", "-x"));
  });
});
