// A lifted program (fixtures/src/file-io.c, static musl) run over an image
// rootfs instead of a host directory: its creates, writes, seeks, renames
// and unlinks all happen in the in-memory upper layer.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createMemoryRootfs } from "../../helpers/memory-rootfs.js";
import { liftElf } from "../../../src/lift/lift-elf.js";
import { runLifted } from "../../../src/vkernel/run.js";
import { imageRoot, preloadContent } from "../../../src/vkernel/vfs/index.js";

describe("a lifted program over the image Vfs", () => {
  it("runs file-io in the image's /tmp", async () => {
    const elf = new Uint8Array(readFileSync("fixtures/bin/musl/file-io"));
    const { wasm } = liftElf("file-io", elf, { optimize: 0 });
    const view = createMemoryRootfs([{ path: "/tmp", type: "directory", mode: 0o1777 }]);
    const out: Buffer[] = [];
    const status = await runLifted({
      module: await WebAssembly.compile(wasm),
      elfBytes: elf,
      vfs: imageRoot(view, await preloadContent(view)),
      argv: ["file-io", "/tmp"],
      env: [],
      stdout: (b) => out.push(Buffer.from(b)),
      stderr: (b) => out.push(Buffer.from(b)),
    });
    expect(Buffer.concat(out).toString()).toContain("renamed, unlinked: ok");
    expect(status).toBe(0);
    expect([...view.entries()].map((e) => e.path)).toEqual(["/", "/tmp"]);
  }, 120_000);
});
