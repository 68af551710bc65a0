// Source reference parsing and formatting (skopeo transport syntax).
import { describe, expect, it } from "vitest";
import { Digest } from "../../src/oci/digest.js";
import {
  formatReference,
  normaliseDockerTag,
  parseSourceReference,
} from "../../src/oci/reference.js";

const DIGEST = Digest.of("manifest").toString();

describe("oci: references", () => {
  it.each([
    ["oci:/tmp/layout", { transport: "oci", dir: "/tmp/layout" }],
    ["oci:layout:latest", { transport: "oci", dir: "layout", tag: "latest" }],
    ["oci:./a/b:v1.2_rc-3", { transport: "oci", dir: "./a/b", tag: "v1.2_rc-3" }],
    [`oci:layout@${DIGEST}`, { transport: "oci", dir: "layout", digest: DIGEST }],
    // directories may hold ':' — only a valid tag without '/' after the last ':' is split off
    ["oci:/data/2024:01/layout", { transport: "oci", dir: "/data/2024:01/layout" }],
    ["oci:/data/x:y:tag", { transport: "oci", dir: "/data/x:y", tag: "tag" }],
    ["oci:/data/x:bad~tag", { transport: "oci", dir: "/data/x:bad~tag" }],
    [`oci:/data/a@b:t`, { transport: "oci", dir: "/data/a@b", tag: "t" }],
  ])("parses %s", (text, expected) => {
    expect(parseSourceReference(text)).toEqual(expected);
  });

  it.each(["oci:", "oci::tag", `oci:@${DIGEST}`, "oci:dir:"])("rejects %s", (text) => {
    expect(() => parseSourceReference(text)).toThrow(
      expect.objectContaining({ code: "REFERENCE_INVALID" }),
    );
  });
});

describe("docker-archive: references", () => {
  it.each([
    ["docker-archive:img.tar", { transport: "docker-archive", file: "img.tar" }],
    [
      "docker-archive:/x/img.tar:busybox:latest",
      { transport: "docker-archive", file: "/x/img.tar", ref: "busybox:latest" },
    ],
    [
      "docker-archive:img.tar:localhost:5000/team/app:v1",
      { transport: "docker-archive", file: "img.tar", ref: "localhost:5000/team/app:v1" },
    ],
    ["docker-archive:img.tar:@1", { transport: "docker-archive", file: "img.tar", ref: "@1" }],
  ])("parses %s", (text, expected) => {
    expect(parseSourceReference(text)).toEqual(expected);
  });

  it.each([
    "docker-archive:",
    "docker-archive:img.tar:busybox",
    "docker-archive:img.tar:Busybox:1",
    `docker-archive:a.tar:b@${DIGEST}`,
  ])("rejects %s", (text) => {
    expect(() => parseSourceReference(text)).toThrow(
      expect.objectContaining({ code: "REFERENCE_INVALID" }),
    );
  });
});

describe("docker:// references", () => {
  it.each([
    [
      "docker://busybox",
      { transport: "docker", registry: "docker.io", repository: "library/busybox", tag: "latest" },
    ],
    [
      "docker://user/app:1.0",
      { transport: "docker", registry: "docker.io", repository: "user/app", tag: "1.0" },
    ],
    [
      "docker://index.docker.io/alpine:3.19",
      { transport: "docker", registry: "docker.io", repository: "library/alpine", tag: "3.19" },
    ],
    [
      "docker://ghcr.io/org/tool/sub:v2",
      { transport: "docker", registry: "ghcr.io", repository: "org/tool/sub", tag: "v2" },
    ],
    [
      "docker://localhost:5000/app",
      { transport: "docker", registry: "localhost:5000", repository: "app", tag: "latest" },
    ],
    [
      "docker://localhost/app:x",
      { transport: "docker", registry: "localhost", repository: "app", tag: "x" },
    ],
    [
      `docker://quay.io/a/b@${DIGEST}`,
      { transport: "docker", registry: "quay.io", repository: "a/b", digest: DIGEST },
    ],
    [
      `docker://alpine:3@${DIGEST}`,
      {
        transport: "docker",
        registry: "docker.io",
        repository: "library/alpine",
        tag: "3",
        digest: DIGEST,
      },
    ],
    [
      "docker://[::1]:5000/app:t",
      { transport: "docker", registry: "[::1]:5000", repository: "app", tag: "t" },
    ],
  ])("parses %s", (text, expected) => {
    expect(parseSourceReference(text)).toEqual(expected);
  });

  it.each([
    "docker://",
    "docker://Busybox",
    "docker://busybox:",
    "docker://busybox@sha256:abc",
    "docker://a//b",
    "docker://-bad/x",
    `docker://${"a".repeat(256)}`,
  ])("rejects %s", (text) => {
    expect(() => parseSourceReference(text)).toThrow(
      expect.objectContaining({ code: "REFERENCE_INVALID" }),
    );
  });
});

describe("errors and formatting", () => {
  it("shows the accepted forms when the transport is missing or unknown", () => {
    for (const text of ["busybox", "/tmp/layout", "dir:/x", "docker:busybox"]) {
      expect(() => parseSourceReference(text)).toThrow(
        /accepted forms: oci:DIR\[:TAG\|@DIGEST\], docker-archive:FILE/,
      );
    }
    expect(() => parseSourceReference("dir:/x")).toThrow(/unknown transport "dir"/);
    expect(() => parseSourceReference("docker:busybox")).toThrow(/docker:\/\//);
  });

  it.each([
    "oci:/tmp/layout",
    "oci:layout:v1",
    `oci:layout@${DIGEST}`,
    "docker-archive:img.tar",
    "docker-archive:img.tar:busybox:latest",
    "docker://docker.io/library/busybox:latest",
    `docker://ghcr.io/a/b:t@${DIGEST}`,
  ])("formats %s back to itself", (text) => {
    expect(formatReference(parseSourceReference(text))).toBe(text);
  });

  it("normalises Docker tags the way docker does", () => {
    expect(normaliseDockerTag("busybox")).toBe("docker.io/library/busybox:latest");
    expect(normaliseDockerTag("docker.io/library/busybox:1")).toBe(normaliseDockerTag("busybox:1"));
    expect(normaliseDockerTag("localhost:5000/app")).toBe("localhost:5000/app:latest");
    expect(normaliseDockerTag("NotValid")).toBeUndefined();
  });
});
