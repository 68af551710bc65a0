// The auth layer: anonymous until the registry answers 401, then what its
// WWW-Authenticate challenge asks for (RFC 7235 §3.1): Basic (RFC 7617) with
// the registry's credentials, or a Bearer token from the realm (docker token
// auth spec, "How to authenticate" and "Requesting a Token"), cached per
// scope. Once a registry has challenged us, later requests authenticate up
// front. A 401 is answered by re-authenticating once; a second 401 is
// UNAUTHORIZED.
import { MegaliftError } from "../errors.js";
import {
  discardBody,
  headerValues,
  readBody,
  readErrorBody,
  type Dispatch,
  type DispatchLayer,
  type UpstreamRequest,
} from "./dispatch.js";
import { TokenCache } from "./token-cache.js";
import type { Credentials, CredentialsProvider } from "./types.js";
import { parseWwwAuthenticate, type Challenge } from "./www-authenticate.js";

export interface AuthOptions {
  /** The registry host as images name it, for the credentials lookup and messages. */
  readonly host: string;
  readonly credentials?: CredentialsProvider;
  /** How token requests are sent: with retries and redirects, without this layer. */
  readonly tokenDispatch: Dispatch;
  readonly now?: () => number;
}

/** The scope a pull of `repository` needs (docker token auth spec "Token Scope Documentation"). */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;

interface Authorization {
  readonly header: string;
  /** The token cache entry the header came from, to forget it if the registry rejects it. */
  readonly tokenKey?: string;
}

export function authLayer(options: AuthOptions): DispatchLayer {
  const auth = new Authenticator(options);
  return (next) => async (req) => {
    const before = await auth.authorizeKnown(req);
    const response = await next(withAuthorization(req, before?.header));
    if (response.status !== 401) return response;
    const challenges = parseWwwAuthenticate(headerValues(response.headers, "www-authenticate"));
    await discardBody(response);
    if (before?.tokenKey !== undefined) auth.tokens.delete(before.tokenKey);
    const challenge = auth.learn(challenges, req);
    const fresh = await auth.authorize(challenge, req);
    if (before !== undefined && fresh.header === before.header) {
      throw auth.rejected(req, challenge);
    }
    const retried = await next(withAuthorization(req, fresh.header));
    if (retried.status !== 401) return retried;
    await discardBody(retried);
    if (fresh.tokenKey !== undefined) auth.tokens.delete(fresh.tokenKey);
    throw auth.rejected(req, challenge);
  };
}

function withAuthorization(req: UpstreamRequest, header: string | undefined): UpstreamRequest {
  return header === undefined
    ? req
    : { ...req, headers: { ...req.headers, authorization: header } };
}

function basicHeader(credentials: Credentials): string {
  // RFC 7617 §2: base64 of user-id ":" password, UTF-8.
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, "utf8").toString("base64")}`;
}

class Authenticator {
  readonly tokens: TokenCache;
  private challenge: Challenge | undefined;
  private credentialsPromise: Promise<Credentials | undefined> | undefined;
  private readonly inFlight = new Map<string, Promise<Authorization>>();

  constructor(private readonly options: AuthOptions) {
    this.tokens = new TokenCache(options.now);
  }

  private credentials(): Promise<Credentials | undefined> {
    this.credentialsPromise ??= this.options.credentials
      ? this.options.credentials(this.options.host)
      : Promise.resolve(undefined);
    return this.credentialsPromise;
  }

  /** Up-front authorization from the challenge the registry gave before, if any. */
  async authorizeKnown(req: UpstreamRequest): Promise<Authorization | undefined> {
    if (this.challenge === undefined) return undefined;
    // Basic without credentials: try anonymously, this resource may not need them.
    if (this.challenge.scheme === "basic" && !(await this.credentials())) return undefined;
    return this.authorize(this.challenge, req, false);
  }

  /** Picks the challenge to answer (Bearer over Basic) and remembers it for later requests. */
  learn(challenges: readonly Challenge[], req: UpstreamRequest): Challenge {
    const chosen =
      challenges.find((c) => c.scheme === "bearer" && c.params.realm !== undefined) ??
      challenges.find((c) => c.scheme === "basic");
    if (!chosen) {
      const offered = challenges.map((c) => c.scheme).join(", ");
      throw new MegaliftError(
        "UNAUTHORIZED",
        `${req.what}: registry ${this.options.host} answered 401 ${offered ? `asking for unsupported auth (${offered})` : "without a WWW-Authenticate challenge"}`,
      );
    }
    this.challenge = chosen;
    return chosen;
  }

  /**
   * The Authorization header answering `challenge` for `req`. `fromChallenge`
   * says the challenge answered this very request, so its scope applies to it;
   * a challenge remembered from another request only tells where to get tokens.
   */
  async authorize(
    challenge: Challenge,
    req: UpstreamRequest,
    fromChallenge = true,
  ): Promise<Authorization> {
    const credentials = await this.credentials();
    if (challenge.scheme === "basic") {
      if (!credentials) {
        throw new MegaliftError(
          "UNAUTHORIZED",
          `${req.what}: registry ${this.options.host} requires credentials (Basic) and none are configured for it`,
        );
      }
      return { header: basicHeader(credentials) };
    }
    const realm = challenge.params.realm ?? "";
    const service = challenge.params.service;
    // The request's own scope, plus the challenge's when it names another
    // (docker token auth spec: the challenge's scope is what the resource needs).
    const challengeScope = fromChallenge ? challenge.params.scope : undefined;
    const scopes = [...new Set([req.scope, challengeScope].filter(isPresent))];
    const key = TokenCache.key(realm, service, req.scope !== undefined ? [req.scope] : scopes);
    const cached = this.tokens.get(key);
    if (cached !== undefined) return { header: `Bearer ${cached}`, tokenKey: key };
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.fetchToken(realm, service, scopes, credentials, req).then((t) => {
        this.tokens.set(key, t.token, t.expiresIn);
        return { header: `Bearer ${t.token}`, tokenKey: key };
      });
      this.inFlight.set(key, pending);
      const forget = (): void => void this.inFlight.delete(key);
      pending.then(forget, forget);
    }
    return pending;
  }

  /** docker token auth spec "Requesting a Token": GET realm?service=…&scope=…[&account=…]. */
  private async fetchToken(
    realm: string,
    service: string | undefined,
    scopes: readonly string[],
    credentials: Credentials | undefined,
    req: UpstreamRequest,
  ): Promise<{ token: string; expiresIn: number | undefined }> {
    let url: URL;
    try {
      url = new URL(realm);
    } catch (err) {
      throw new MegaliftError(
        "UNAUTHORIZED",
        `${req.what}: registry ${this.options.host} named an invalid token realm "${realm}"`,
        { cause: err },
      );
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new MegaliftError(
        "UNAUTHORIZED",
        `${req.what}: registry ${this.options.host} named a token realm that is not http(s): ${realm}`,
      );
    }
    if (service !== undefined) url.searchParams.set("service", service);
    for (const scope of scopes) url.searchParams.append("scope", scope);
    if (credentials) url.searchParams.set("account", credentials.username);
    const what = `token for ${scopes.join(" ") || "registry access"} from ${url.host} (${req.what})`;
    const response = await this.options.tokenDispatch({
      method: "GET",
      url,
      headers: {
        ...pickUserAgent(req),
        accept: "application/json",
        ...(credentials ? { authorization: basicHeader(credentials) } : {}),
      },
      bufferBody: MAX_TOKEN_RESPONSE_BYTES,
      what,
      ...(req.signal ? { signal: req.signal } : {}),
    });
    if (response.status !== 200) {
      const detail = oneLine(await readErrorBody(response, 4096));
      const who = credentials
        ? `the credentials of ${credentials.username}`
        : "an anonymous request";
      throw new MegaliftError(
        response.status === 403 ? "DENIED" : "UNAUTHORIZED",
        `${what}: token server answered ${response.status} to ${who}${detail ? `: ${detail}` : ""}`,
      );
    }
    const body = await readBody(response, MAX_TOKEN_RESPONSE_BYTES, what);
    return parseTokenResponse(body, what);
  }

  rejected(req: UpstreamRequest, challenge: Challenge): MegaliftError {
    const how = challenge.scheme === "basic" ? "the Basic credentials" : "a fresh Bearer token";
    return new MegaliftError(
      "UNAUTHORIZED",
      `${req.what}: registry ${this.options.host} answered 401 again after authenticating with ${how}`,
    );
  }
}

function isPresent(value: string | undefined): value is string {
  return value !== undefined && value !== "";
}

function pickUserAgent(req: UpstreamRequest): Record<string, string | readonly string[]> {
  const agent = req.headers["user-agent"];
  return agent === undefined ? {} : { "user-agent": agent };
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, 200);
}

/** docker token auth spec "Token Response Fields": token (or OAuth2's access_token), expires_in. */
export function parseTokenResponse(
  body: Uint8Array,
  what: string,
): { token: string; expiresIn: number | undefined } {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch (err) {
    throw new MegaliftError("UNAUTHORIZED", `${what}: the token response is not JSON`, {
      cause: err,
    });
  }
  const fields = (typeof doc === "object" && doc !== null ? doc : {}) as Record<string, unknown>;
  const token = [fields.token, fields.access_token].find(
    (t): t is string => typeof t === "string" && t !== "",
  );
  if (token === undefined) {
    throw new MegaliftError("UNAUTHORIZED", `${what}: the token response holds no token`);
  }
  const expiresIn =
    typeof fields.expires_in === "number" && fields.expires_in > 0 ? fields.expires_in : undefined;
  return { token, expiresIn };
}
