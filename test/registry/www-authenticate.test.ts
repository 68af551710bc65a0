// WWW-Authenticate parsing (RFC 7235 §4.1): schemes, quoted values, several params and challenges.
import { describe, expect, it } from "vitest";
import { parseWwwAuthenticate } from "../../src/registry/www-authenticate.js";

describe("parseWwwAuthenticate", () => {
  it("parses a docker Bearer challenge with quoted params", () => {
    const [challenge, ...rest] = parseWwwAuthenticate([
      'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:library/debian:pull"',
    ]);
    expect(rest).toEqual([]);
    expect(challenge).toEqual({
      scheme: "bearer",
      params: {
        realm: "https://auth.example.com/token",
        service: "registry.example.com",
        scope: "repository:library/debian:pull",
      },
    });
  });

  it("accepts token values, spaces around '=' and ',', case-insensitive names and escapes", () => {
    const [challenge] = parseWwwAuthenticate([
      'BASIC Realm = "a \\"quoted\\" realm" , charset=UTF-8',
    ]);
    expect(challenge).toEqual({
      scheme: "basic",
      params: { realm: 'a "quoted" realm', charset: "UTF-8" },
    });
  });

  it("keeps commas inside quoted values (scope lists)", () => {
    const [challenge] = parseWwwAuthenticate([
      'Bearer realm="https://a/t",scope="repository:x:pull,push"',
    ]);
    expect(challenge?.params.scope).toBe("repository:x:pull,push");
  });

  it("splits several challenges on one line and across lines", () => {
    const challenges = parseWwwAuthenticate([
      'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
      'Bearer realm="https://t/token",service="s"',
    ]);
    expect(challenges.map((c) => c.scheme)).toEqual(["newauth", "basic", "bearer"]);
    expect(challenges[0]?.params).toEqual({ realm: "apps", type: "1", title: 'Login to "apps"' });
    expect(challenges[1]?.params).toEqual({ realm: "simple" });
    expect(challenges[2]?.params).toEqual({ realm: "https://t/token", service: "s" });
  });

  it("reads token68 and bare schemes", () => {
    const challenges = parseWwwAuthenticate(["Negotiate abc+/def==, Basic, Bearer realm=x"]);
    expect(challenges).toEqual([
      { scheme: "negotiate", params: {}, token68: "abc+/def==" },
      { scheme: "basic", params: {} },
      { scheme: "bearer", params: { realm: "x" } },
    ]);
  });

  it("returns nothing for empty or junk input", () => {
    expect(parseWwwAuthenticate([])).toEqual([]);
    expect(parseWwwAuthenticate(["", " , "])).toEqual([]);
    expect(parseWwwAuthenticate(['"junk", Basic realm="r"'])).toEqual([
      { scheme: "basic", params: { realm: "r" } },
    ]);
  });
});
