// The flattened view: byte-ordered entries, lstat, chroot-style resolve()
// (path_resolution(7)), symlink loops, and reading file bytes from the store.
import { describe, expect, test } from "vitest";
import { isMegaliftError } from "../../../src/errors.js";
import { MAX_SYMLINKS } from "../../../src/oci/rootfs/path-walk.js";
import type { TarEntrySpec } from "../../helpers/tar.js";
import { entryAt, flatten, paths } from "./rootfs-test-kit.js";

const sym = (name: string, linkname: string): TarEntrySpec => ({ name, type: "symlink", linkname });

const image: TarEntrySpec[] = [
  { name: "usr/bin/dash", content: "#dash", mode: 0o755 },
  sym("usr/bin/sh", "dash"),
  sym("bin", "usr/bin"),
  sym("usr/local/bin/sh", "/bin/sh"),
  sym("usr/local/bin/up", "../../../../../../usr/bin/dash"),
  sym("etc/alternatives/awk", "/usr/bin/mawk"),
  { name: "etc/hosts", content: "0123456789" },
  sym("loop/a", "b"),
  sym("loop/b", "a"),
  sym("loop/self", "self"),
  sym("empty", ""),
];

describe("RootfsView", () => {
  test("entries() are sorted by byte order of the UTF-8 path", async () => {
    const view = await flatten([
      [
        { name: "a/b", content: "1" },
        { name: "a-b", content: "2" },
        { name: "a.b", content: "3" },
        { name: "\u00e9", content: "4" },
        { name: "\u{1f600}", content: "5" },
        { name: "\uff21", content: "6" },
        { name: "Z", content: "7" },
      ],
    ]);
    const got = paths(view);
    const expected = [...got].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(got).toEqual(expected);
    expect(got).toEqual([
      "/",
      "/Z",
      "/a",
      "/a-b",
      "/a.b",
      "/a/b",
      "/\u00e9",
      "/\uff21",
      "/\u{1f600}",
    ]);
  });

  test("lstat normalises its argument and follows nothing", async () => {
    const view = await flatten([image]);
    expect(view.lstat("bin")?.type).toBe("symlink");
    expect(view.lstat("//usr/./bin/")?.type).toBe("directory");
    expect(view.lstat("/bin/dash")).toBeUndefined(); // would need to follow /bin
    expect(view.lstat("/../../etc/hosts")?.path).toBe("/etc/hosts");
  });

  test("resolve follows relative and absolute symlinks in every component", async () => {
    const view = await flatten([image]);
    expect(view.resolve("/bin/sh")?.path).toBe("/usr/bin/dash");
    expect(view.resolve("/usr/local/bin/sh")?.path).toBe("/usr/bin/dash");
    expect(view.resolve("bin/../bin/dash")?.path).toBe("/usr/bin/dash");
    // ".." after a symlinked directory is taken from where the link led (/usr/bin/..).
    expect(view.resolve("/bin/../lib")).toBeUndefined();
    expect(view.resolve("/bin/..")?.path).toBe("/usr");
  });

  test("resolve with noFollow leaves a final symlink alone but follows parents", async () => {
    const view = await flatten([image]);
    expect(view.resolve("/bin/sh", { noFollow: true })).toMatchObject({
      path: "/usr/bin/sh",
      type: "symlink",
    });
  });

  test('".." at the root stays at the root, so links never leave the image', async () => {
    const view = await flatten([image]);
    expect(view.resolve("/../../../etc/hosts")?.path).toBe("/etc/hosts");
    expect(view.resolve("/usr/local/bin/up")?.path).toBe("/usr/bin/dash");
  });

  test("dangling links, missing paths, empty targets and files used as directories give undefined", async () => {
    const view = await flatten([image]);
    expect(view.resolve("/etc/alternatives/awk")).toBeUndefined();
    expect(view.resolve("/etc/alternatives/awk", { noFollow: true })?.type).toBe("symlink");
    expect(view.resolve("/nope/x")).toBeUndefined();
    expect(view.resolve("/empty")).toBeUndefined();
    expect(view.resolve("/etc/hosts/x")).toBeUndefined();
  });

  test("symlink loops are PATH_ESCAPE (ELOOP) with a one-line message", async () => {
    const view = await flatten([image]);
    for (const path of ["/loop/a", "/loop/self", "/loop/a/x"]) {
      let caught: unknown;
      try {
        view.resolve(path);
      } catch (err) {
        caught = err;
      }
      expect(isMegaliftError(caught, "PATH_ESCAPE")).toBe(true);
      expect((caught as Error).message).toContain("too many levels of symbolic links");
      expect((caught as Error).message).toContain(path);
      expect((caught as Error).message).not.toContain("\n");
    }
    expect(view.resolve("/loop/a", { noFollow: true })?.type).toBe("symlink");
  });

  test(`a chain of ${MAX_SYMLINKS} symlinks resolves; one more is ELOOP`, async () => {
    const chain = (n: number): TarEntrySpec[] => [
      { name: "end", content: "end" },
      ...Array.from({ length: n }, (_, i) => sym(`l${i}`, i === 0 ? "end" : `l${i - 1}`)),
    ];
    const ok = await flatten([chain(MAX_SYMLINKS)]);
    expect(ok.resolve(`/l${MAX_SYMLINKS - 1}`)?.path).toBe("/end");
    const tooLong = await flatten([chain(MAX_SYMLINKS + 1)]);
    expect(() => tooLong.resolve(`/l${MAX_SYMLINKS}`)).toThrow(/too many levels/);
  });

  test("readFile, readRange and createReadStream read bytes from the store", async () => {
    const view = await flatten([image]);
    const hosts = entryAt(view, "/etc/hosts");
    expect((await view.readFile(hosts)).toString()).toBe("0123456789");
    expect((await view.readRange(hosts, 2, 5)).toString()).toBe("234");
    expect((await view.readRange(hosts, 7)).toString()).toBe("789");
    expect((await view.readRange(hosts, 8, 100)).toString()).toBe("89");
    expect((await view.readRange(hosts, 20, 30)).length).toBe(0);
    const chunks: Buffer[] = [];
    for await (const chunk of view.createReadStream(hosts)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("0123456789");
  });

  test("reading a non-file is a clear IO error", async () => {
    const view = await flatten([image]);
    let caught: unknown;
    try {
      await view.readFile(entryAt(view, "/bin"));
    } catch (err) {
      caught = err;
    }
    expect(isMegaliftError(caught, "IO")).toBe(true);
    expect((caught as Error).message).toBe("/bin is a symlink, not a regular file");
  });

  test("fileCount and totalBytes count every path files() yields", async () => {
    const view = await flatten([
      [
        { name: "a", content: "aaaa" },
        { name: "b", content: "bb" },
        { name: "c", type: "link", linkname: "a" },
        sym("d", "a"),
      ],
    ]);
    expect([...view.files()].map((e) => e.path)).toEqual(["/a", "/b", "/c"]);
    expect(view.fileCount).toBe(3);
    expect(view.totalBytes).toBe(10);
  });

  test("entries are frozen", async () => {
    const view = await flatten([image]);
    expect(Object.isFrozen(entryAt(view, "/etc/hosts"))).toBe(true);
  });
});
