// Small header parsers and policies: Retry-After, backoff, Link rel="next", Content-Range, token expiry.
import { describe, expect, it } from "vitest";
import { parseContentRange } from "../../src/registry/blob-stream.js";
import { nextLink } from "../../src/registry/link-header.js";
import { backoffDelay, DEFAULT_RETRY_POLICY, parseRetryAfter } from "../../src/registry/retry.js";
import { TokenCache } from "../../src/registry/token-cache.js";

describe("parseRetryAfter", () => {
  const now = Date.parse("2024-01-01T00:00:00Z");
  it("reads delay-seconds and HTTP-dates (RFC 9110 §10.2.3)", () => {
    expect(parseRetryAfter({ "retry-after": "3" }, now)).toBe(3000);
    expect(parseRetryAfter({ "retry-after": "Mon, 01 Jan 2024 00:00:05 GMT" }, now)).toBe(5000);
    expect(parseRetryAfter({ "retry-after": "Sun, 31 Dec 2023 00:00:00 GMT" }, now)).toBe(0);
    expect(parseRetryAfter({ "retry-after": "soon" }, now)).toBeUndefined();
    expect(parseRetryAfter({}, now)).toBeUndefined();
  });
});

describe("backoffDelay", () => {
  it("grows exponentially up to the cap, with jitter in the upper half", () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(policy, 1, () => 0)).toBe(50);
    expect(backoffDelay(policy, 1, () => 1)).toBe(100);
    expect(backoffDelay(policy, 3, () => 1)).toBe(400);
    expect(backoffDelay(policy, 10, () => 1)).toBe(1000);
    expect(backoffDelay(policy, 10, () => 0)).toBe(500);
  });
});

describe("nextLink", () => {
  const base = new URL("http://r.example/v2/a/tags/list");
  it("finds rel=next, relative or absolute, among other links", () => {
    expect(nextLink({ link: '</v2/a/tags/list?n=2&last=b>; rel="next"' }, base)?.toString()).toBe(
      "http://r.example/v2/a/tags/list?n=2&last=b",
    );
    expect(
      nextLink(
        { link: ['<http://x/prev>; rel="prev"', '<http://r.example/next>; title="n"; rel=next'] },
        base,
      )?.toString(),
    ).toBe("http://r.example/next");
    expect(
      nextLink({ link: '<http://x/p>; rel="prev", <http://x/n>; rel="next last"' }, base)?.href,
    ).toBe("http://x/n");
    expect(nextLink({}, base)).toBeUndefined();
  });
});

describe("parseContentRange", () => {
  it("reads bytes first-last/complete", () => {
    expect(parseContentRange("bytes 10-19/20")).toEqual({ start: 10, end: 19, total: 20 });
    expect(parseContentRange("bytes 0-9/*")).toEqual({ start: 0, end: 9, total: undefined });
    expect(parseContentRange("bytes 10-5/20")).toBeUndefined();
    expect(parseContentRange("bytes 10-20/20")).toBeUndefined();
    expect(parseContentRange("bytes */20")).toBeUndefined();
    expect(parseContentRange(undefined)).toBeUndefined();
  });
});

describe("TokenCache", () => {
  it("keeps a token until expires_in minus a margin, 60 s by default", () => {
    let now = 0;
    const cache = new TokenCache(() => now);
    const key = TokenCache.key("https://auth/token", "svc", ["repository:a:pull"]);
    cache.set(key, "t1", 300);
    now = 289_000;
    expect(cache.get(key)).toBe("t1");
    now = 290_000;
    expect(cache.get(key)).toBeUndefined();
    cache.set(key, "t2", undefined);
    now += 49_000;
    expect(cache.get(key)).toBe("t2");
    now += 1_000;
    expect(cache.get(key)).toBeUndefined();
    // short-lived tokens keep half their life
    cache.set(key, "t3", 4);
    now += 1_999;
    expect(cache.get(key)).toBe("t3");
    now += 1;
    expect(cache.get(key)).toBeUndefined();
  });

  it("keys by realm, service and the sorted scopes", () => {
    expect(TokenCache.key("r", "s", ["b", "a"])).toBe(TokenCache.key("r", "s", ["a", "b"]));
    expect(TokenCache.key("r", "s", ["a"])).not.toBe(TokenCache.key("r", "s", ["b"]));
  });
});
