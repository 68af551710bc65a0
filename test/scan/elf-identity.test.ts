// elfIdentity on the fixtures: what `file` says about each of them (static
// or dynamic, PIE or shared object, interpreter, stripped or not).
import { describe, expect, it } from "vitest";
import { parseElf } from "../../src/elf/index.js";
import { elfIdentity, elfRole, type Elf64Identity } from "../../src/scan/elf-identity.js";
import { FIXTURE_PROGRAMS, readFixture } from "../elf/fixtures.js";

const identityOf = (relative: string): Elf64Identity => {
  const identity = elfIdentity(parseElf(readFixture(relative)));
  if (identity.elfClass !== 64) throw new Error(`${relative} is not ELF64`);
  return identity;
};

describe("elfIdentity", () => {
  it("static glibc and musl executables: EXEC, static, not stripped", () => {
    for (const program of FIXTURE_PROGRAMS) {
      for (const libc of ["glibc", "musl"]) {
        const id = identityOf(`${libc}/${program}`);
        expect(id, `${libc}/${program}`).toMatchObject({
          elfClass: 64,
          endian: "little",
          machine: "x86-64",
          type: "EXEC",
          pie: false,
          sharedLibrary: false,
          needed: [],
          linkage: "static",
          stripped: false,
        });
        expect(id.interpreter).toBeUndefined();
        expect(elfRole(id)).toBe("executable");
      }
    }
  });

  it("the dynamic PIE", () => {
    const id = identityOf("dynamic/greet");
    expect(id).toEqual({
      elfClass: 64,
      endian: "little",
      machine: "x86-64",
      type: "DYN",
      pie: true,
      sharedLibrary: false,
      interpreter: "/lib64/ld-linux-x86-64.so.2",
      needed: ["libgreet.so.1", "libc.so.6"],
      runpath: "$ORIGIN",
      linkage: "dynamic",
      stripped: false,
      entry: id.entry,
    });
    expect(id.entry).toMatch(/^0x[0-9a-f]+$/);
    expect(elfRole(id)).toBe("executable");
  });

  it("the shared library", () => {
    const id = identityOf("dynamic/libgreet.so.1");
    expect(id).toMatchObject({
      type: "DYN",
      pie: false,
      sharedLibrary: true,
      soname: "libgreet.so.1",
      needed: ["libc.so.6"],
      linkage: "dynamic",
    });
    expect(id.interpreter).toBeUndefined();
    expect(elfRole(id)).toBe("shared-library");
  });

  it("a static PIE: DYN with DF_1_PIE and PT_DYNAMIC, but static", () => {
    const id = identityOf("static-pie/hello-nolibc");
    expect(id).toMatchObject({
      type: "DYN",
      pie: true,
      sharedLibrary: false,
      needed: [],
      linkage: "static",
    });
    expect(id.interpreter).toBeUndefined();
    expect(elfRole(id)).toBe("executable");
  });

  it("the stripped copy", () => {
    expect(identityOf("stripped/hello")).toMatchObject({ type: "EXEC", stripped: true });
    expect(identityOf("glibc/hello").stripped).toBe(false);
  });

  it("an ELFCLASS32 file: class, machine and type only", () => {
    const bytes = new Uint8Array(52);
    bytes.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
    bytes[16] = 3; // ET_DYN
    bytes[18] = 40; // EM_ARM
    const id = elfIdentity(parseElf(bytes));
    expect(id).toEqual({ elfClass: 32, endian: "little", machine: "arm", type: "DYN" });
    expect(elfRole(id)).toBe("other");
  });
});
