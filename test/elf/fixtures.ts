// Paths and bytes of the prebuilt fixture binaries (fixtures/bin, built by
// fixtures/build.sh and kept in the tree so tests need no C compiler).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const FIXTURE_PROGRAMS = [
  "hello",
  "printf",
  "sort-search",
  "jump-table",
  "setjmp",
  "deep-recursion",
  "malloc-stress",
  "string-unaligned",
  "math",
  "file-io",
  "argv-env",
] as const;

/** Absolute path of fixtures/bin/<relative>. */
export function fixturePath(relative: string): string {
  return fileURLToPath(new URL(`../../fixtures/bin/${relative}`, import.meta.url));
}

/** A fresh copy of the fixture's bytes (tests may mutate it). */
export function readFixture(relative: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(relative)));
}

/** Every ELF fixture, relative to fixtures/bin. */
export function allElfFixtures(): string[] {
  return [
    ...FIXTURE_PROGRAMS.flatMap((p) => [`glibc/${p}`, `musl/${p}`]),
    "dynamic/greet",
    "dynamic/libgreet.so.1",
    "relr/sort-search",
    "static-pie/hello-nolibc",
    "stripped/hello",
  ];
}

/** The host's glibc: present on every Debian machine, and a big real-world input. */
export const HOST_LIBC = "/lib/x86_64-linux-gnu/libc.so.6";

/** A copy of the file with its section header table gone (e_shoff, e_shnum, e_shstrndx = 0). */
export function withoutSectionHeaders(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  view.setBigUint64(40, 0n, true);
  view.setUint16(60, 0, true);
  view.setUint16(62, 0, true);
  return copy;
}
