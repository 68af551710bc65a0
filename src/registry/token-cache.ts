// Bearer tokens cached per (realm, service, scope) until they expire. Docker
// token auth spec "Token Response Fields": expires_in defaults to 60 seconds;
// a token is dropped a margin before then so that it does not expire in flight.

export const DEFAULT_TOKEN_LIFETIME_S = 60;
/** Tokens are considered expired this long before the registry would say so (at most half their life). */
export const TOKEN_EXPIRY_MARGIN_MS = 10_000;

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();

  constructor(private readonly now: () => number = Date.now) {}

  static key(realm: string, service: string | undefined, scopes: readonly string[]): string {
    return JSON.stringify([realm, service ?? "", [...scopes].sort()]);
  }

  get(key: string): string | undefined {
    const cached = this.tokens.get(key);
    if (!cached) return undefined;
    if (this.now() >= cached.expiresAt) {
      this.tokens.delete(key);
      return undefined;
    }
    return cached.token;
  }

  /**
   * Stores a token that lives `expiresInS` seconds from now. The response's
   * issued_at is ignored: it comes from the token server's clock, which may
   * disagree with ours, and the token was issued moments ago anyway.
   */
  set(key: string, token: string, expiresInS: number | undefined): void {
    const lifetimeMs = (expiresInS ?? DEFAULT_TOKEN_LIFETIME_S) * 1000;
    const margin = Math.min(TOKEN_EXPIRY_MARGIN_MS, lifetimeMs / 2);
    this.tokens.set(key, { token, expiresAt: this.now() + lifetimeMs - margin });
  }

  /** Forgets a token the registry rejected. */
  delete(key: string): void {
    this.tokens.delete(key);
  }
}
