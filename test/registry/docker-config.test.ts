// Credentials from a docker config.json: auth and username/password entries,
// URL-shaped keys, Docker Hub's key, the default path, credential helpers.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chainCredentials, staticCredentials } from "../../src/registry/credentials.js";
import {
  credentialsFromDockerConfig,
  defaultDockerConfigPath,
  dockerConfigCredentials,
} from "../../src/registry/docker-config.js";

const b64 = (text: string): string => Buffer.from(text).toString("base64");

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "megalift-docker-config-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("credentialsFromDockerConfig", () => {
  const config = {
    auths: {
      "registry.example.com:5000": { auth: b64("alice:pa:ss") },
      "https://other.example.com/v2/": { username: "bob", password: "hunter2" },
      "https://index.docker.io/v1/": { auth: b64("hubuser:hubpass") },
      "empty.example.com": {},
    },
  };

  it("decodes auth (user:password, split at the first colon)", () => {
    expect(credentialsFromDockerConfig(config, "registry.example.com:5000", "c")).toEqual({
      username: "alice",
      password: "pa:ss",
    });
  });

  it("reads username/password fields and matches URL-shaped keys by host", () => {
    expect(credentialsFromDockerConfig(config, "other.example.com", "c")).toEqual({
      username: "bob",
      password: "hunter2",
    });
  });

  it("finds Docker Hub under https://index.docker.io/v1/", () => {
    for (const host of ["docker.io", "index.docker.io", "registry-1.docker.io"]) {
      expect(credentialsFromDockerConfig(config, host, "c")).toEqual({
        username: "hubuser",
        password: "hubpass",
      });
    }
  });

  it("has nothing for unknown hosts or empty entries", () => {
    expect(credentialsFromDockerConfig(config, "unknown.example.com", "c")).toBeUndefined();
    expect(credentialsFromDockerConfig(config, "registry.example.com", "c")).toBeUndefined();
    expect(credentialsFromDockerConfig(config, "empty.example.com", "c")).toBeUndefined();
    expect(credentialsFromDockerConfig({}, "docker.io", "c")).toBeUndefined();
  });

  it("reports credential helpers as unsupported with a clear message", () => {
    const store = { credsStore: "desktop", auths: { "https://index.docker.io/v1/": {} } };
    expect(() => credentialsFromDockerConfig(store, "docker.io", "/x/config.json")).toThrow(
      expect.objectContaining({
        code: "UNSUPPORTED",
        message: expect.stringMatching(
          /docker\.io .*credsStore names docker-credential-desktop, which megalift does not run/,
        ),
      }),
    );
    // no entry for the host: nothing was stored by docker login, so nothing to find
    expect(credentialsFromDockerConfig(store, "quay.io", "c")).toBeUndefined();
    const helpers = { credHelpers: { "123.dkr.ecr.us-east-1.amazonaws.com": "ecr-login" } };
    expect(() =>
      credentialsFromDockerConfig(helpers, "123.dkr.ecr.us-east-1.amazonaws.com", "c"),
    ).toThrow(expect.objectContaining({ code: "UNSUPPORTED" }));
  });

  it("rejects an auth that is not user:password", () => {
    expect(() =>
      credentialsFromDockerConfig({ auths: { h: { auth: b64("nocolon") } } }, "h", "c"),
    ).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
  });
});

describe("dockerConfigCredentials", () => {
  it("reads $DOCKER_CONFIG/config.json, else ~/.docker/config.json", () => {
    expect(defaultDockerConfigPath({ DOCKER_CONFIG: "/etc/dc", HOME: "/home/u" })).toBe(
      "/etc/dc/config.json",
    );
    expect(defaultDockerConfigPath({ HOME: "/home/u" })).toBe("/home/u/.docker/config.json");
  });

  it("provides credentials from the file, none when it is absent, CONFIG_INVALID when it is not JSON", async () => {
    await writeFile(
      join(dir, "config.json"),
      JSON.stringify({ auths: { "localhost:5000": { auth: b64("u:p") } } }),
    );
    const provider = dockerConfigCredentials({ env: { DOCKER_CONFIG: dir } });
    expect(await provider("localhost:5000")).toEqual({ username: "u", password: "p" });
    expect(await provider("localhost:5001")).toBeUndefined();

    const absent = dockerConfigCredentials({ path: join(dir, "nope.json") });
    expect(await absent("localhost:5000")).toBeUndefined();

    await writeFile(join(dir, "bad.json"), "{not json");
    await expect(
      dockerConfigCredentials({ path: join(dir, "bad.json") })("localhost:5000"),
    ).rejects.toMatchObject({ code: "CONFIG_INVALID" });
  });
});

describe("credential providers", () => {
  it("look up static credentials by host and chain providers in order", async () => {
    const fromConfig = staticCredentials({
      "Registry.Example.com": { username: "a", password: "1" },
    });
    const fallback = staticCredentials({
      "registry.example.com": { username: "b", password: "2" },
      other: { username: "c", password: "3" },
    });
    const chain = chainCredentials(fromConfig, fallback);
    expect(await chain("registry.example.com")).toEqual({ username: "a", password: "1" });
    expect(await chain("other")).toEqual({ username: "c", password: "3" });
    expect(await chain("none")).toBeUndefined();
  });
});
