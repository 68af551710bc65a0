// Resolving what `megalift run` starts: PATH search, symlinks inside the
// image, the #! interpreter chain (binfmt_script argv), the shell's 126/127
// statuses, and the hash-failure policy for a megabinary's mapping.
import { describe, expect, it } from "vitest";
import { blake3Hex } from "../../src/hash/blake3.js";
import { buildMapping } from "../../src/merge/mapping.js";
import { CommandError, mappedExport, resolveCommand } from "../../src/vkernel/image-command.js";
import { createMemoryRootfs } from "../helpers/memory-rootfs.js";

const ELF = "\x7fELF fake program";
const ELF_HASH = `blake3:${blake3Hex(Buffer.from(ELF))}`;
const view = createMemoryRootfs([
  { path: "/bin/prog", content: ELF, mode: 0o755 },
  { path: "/bin/sh", type: "symlink", linkTarget: "prog" },
  { path: "/usr/bin/env-link", type: "symlink", linkTarget: "/bin/prog" },
  { path: "/bin/script", content: "#!/bin/sh -e\necho hi\n", mode: 0o755 },
  { path: "/bin/chain", content: "#!/bin/script\n", mode: 0o755 },
  { path: "/bin/data", content: ELF, mode: 0o644 },
  { path: "/bin/broken", content: "#!/missing/interp\n", mode: 0o755 },
  { path: "/home/user/local", content: ELF, mode: 0o755 },
]);
const options = { path: "/usr/bin:/bin", cwd: "/home/user" };

async function failure(argv: string[]): Promise<CommandError> {
  try {
    await resolveCommand(view, argv, options);
  } catch (err) {
    if (err instanceof CommandError) return err;
    throw err;
  }
  throw new Error(`${argv.join(" ")} resolved`);
}

describe("resolveCommand", () => {
  it("searches PATH for a bare name and follows symlinks inside the image", async () => {
    const r = await resolveCommand(view, ["env-link", "x"], options);
    expect(r).toMatchObject({ path: "/usr/bin/env-link", hash: ELF_HASH, argv: ["env-link", "x"] });
    expect(r.entry.path).toBe("/bin/prog");
  });

  it("resolves a relative path against the working directory", async () => {
    const r = await resolveCommand(view, ["./local"], options);
    expect(r.path).toBe("/home/user/local");
  });

  it("runs a script's interpreter with the script path, as binfmt_script does", async () => {
    const r = await resolveCommand(view, ["script", "a", "b"], options);
    expect(r.hash).toBe(ELF_HASH);
    expect(r.argv).toEqual(["/bin/sh", "-e", "/bin/script", "a", "b"]);
  });

  it("follows an interpreter that is itself a script", async () => {
    const r = await resolveCommand(view, ["/bin/chain", "z"], options);
    expect(r.argv).toEqual(["/bin/sh", "-e", "/bin/script", "/bin/chain", "z"]);
  });

  it("gives the shell's statuses: 127 not found, 126 not executable or bad interpreter", async () => {
    expect(await failure(["nope"])).toMatchObject({
      status: 127,
      message: "nope: command not found",
    });
    expect(await failure(["/bin/nope"])).toMatchObject({ status: 127 });
    expect(await failure(["/bin/data"])).toMatchObject({ status: 126 });
    expect(await failure(["/bin"])).toMatchObject({ status: 126, message: "/bin: Is a directory" });
    expect((await failure(["broken"])).message).toBe(
      "/bin/broken: /missing/interp: bad interpreter",
    );
    expect(await failure([])).toMatchObject({ status: 127 });
  });
});

describe("mappedExport (the hash-failure policy)", () => {
  const mapping = buildMapping({
    toolchainVersion: "test",
    executables: [{ hash: ELF_HASH, kind: "elf", export: "elf_x", paths: ["/bin/prog"] }],
    omitted: [
      { hash: `blake3:${"0".repeat(64)}`, paths: ["/bin/other"], reason: "not lifted: test" },
    ],
  });

  it("names the export of a listed hash", async () => {
    expect(mappedExport(mapping, await resolveCommand(view, ["prog"], options))).toBe("elf_x");
  });

  it("refuses a hash the mapping does not list, naming path, hash and the omission reason", () => {
    const unknown = {
      path: "/bin/other",
      hash: `blake3:${"0".repeat(64)}`,
      argv: [],
      entry: view.resolve("/bin/prog")!,
    };
    expect(() => mappedExport(mapping, unknown)).toThrow(
      /^\/bin\/other: blake3:0{64} is not in the megabinary \(omitted: not lifted: test\); it is never executed$/,
    );
    const stray = { ...unknown, hash: `blake3:${"1".repeat(64)}` };
    expect(() => mappedExport(mapping, stray)).toThrow(CommandError);
  });
});
