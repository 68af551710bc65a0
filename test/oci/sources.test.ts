// openSource: the transport registry and its behaviour for each transport.
import { rm } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { openSource, registerTransport } from "../../src/oci/sources.js";
import type { ImageSource } from "../../src/oci/source.js";
import { makeImage, makeLayer, SAMPLE_ENTRIES, tempDir, writeRawLayout } from "./build-image.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("openSource", () => {
  it("opens an oci: layout from text and keeps the text for messages", async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const built = makeImage([await makeLayer(SAMPLE_ENTRIES)]);
    await writeRawLayout(dir, [{ descriptor: built.descriptor, tag: "v1" }], built.blobs);
    const source = await openSource(`oci:${dir}:v1`);
    expect(source.display).toBe(`oci:${dir}:v1`);
    expect(source.reference).toEqual({ transport: "oci", dir, tag: "v1" });
    expect((await source.image()).digest.toString()).toBe(built.descriptor.digest);
    const parsed = await openSource({ transport: "oci", dir, tag: "v1" });
    expect(parsed.display).toBe(`oci:${dir}:v1`);
  });

  it("rejects bad references with REFERENCE_INVALID", async () => {
    await expect(openSource("busybox")).rejects.toMatchObject({ code: "REFERENCE_INVALID" });
  });

  it("opens docker:// through the registry client's transport, and lets a transport be replaced", async () => {
    const real = await openSource("docker://busybox");
    expect(real.reference).toEqual({
      transport: "docker",
      registry: "docker.io",
      repository: "library/busybox",
      tag: "latest",
    });
    await real.close();
    const opened: string[] = [];
    registerTransport("docker", async (reference, display) => {
      opened.push(display);
      return { reference, display } as unknown as ImageSource;
    });
    const source = await openSource("docker://busybox");
    expect(source.reference).toEqual({
      transport: "docker",
      registry: "docker.io",
      repository: "library/busybox",
      tag: "latest",
    });
    expect(opened).toEqual(["docker://busybox"]);
  });
});
