// A tiny Docker registry token server (the Bearer flow's realm) for a
// distribution upstream configured with `auth: token`: it checks Basic
// credentials and issues ES256 JWTs whose header carries the signing
// certificate in `x5c`, which distribution 2.8 verifies against its
// `rootcertbundle` (docs: distribution's "Token Authentication
// Specification" and "Token Authentication Implementation").
import { createServer, type Server } from "node:http";
import { createPrivateKey, randomUUID, sign, X509Certificate, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runOk } from "./run.js";
import type { Teardown } from "./teardown.js";

export interface TokenServer {
  /** The realm URL distribution sends clients to. */
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  /** PEM certificate of the signing key, for distribution's rootcertbundle. */
  readonly certificateFile: string;
  /** Token requests answered so far, with the scopes asked and whether credentials were valid. */
  requests(): readonly TokenRequest[];
}

export interface TokenRequest {
  readonly scopes: readonly string[];
  readonly authorized: boolean;
}

export interface TokenServerOptions {
  readonly username: string;
  readonly password: string;
}

interface Access {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

const base64url = (data: string | Buffer): string => Buffer.from(data).toString("base64url");

/** `repository:library/x:pull,push` → the access entry (the one user may pull and push). */
function grantedAccess(scope: string): Access | undefined {
  const first = scope.indexOf(":");
  const last = scope.lastIndexOf(":");
  if (first < 0 || last <= first) return undefined;
  const actions = scope
    .slice(last + 1)
    .split(",")
    .filter((a) => a === "pull" || a === "push");
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions };
}

function issueToken(
  key: KeyObject,
  certificateDer: Buffer,
  claims: { issuer: string; service: string; subject: string; access: readonly Access[] },
): string {
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: "JWT", alg: "ES256", x5c: [certificateDer.toString("base64")] };
  const payload = {
    iss: claims.issuer,
    sub: claims.subject,
    aud: claims.service,
    exp: now + 300,
    nbf: now - 10,
    iat: now,
    jti: randomUUID(),
    access: claims.access,
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  // JWS ES256 signatures are r||s (RFC 7518 §3.4), not DER.
  const signature = sign("sha256", Buffer.from(signingInput), { key, dsaEncoding: "ieee-p1363" });
  return `${signingInput}.${base64url(signature)}`;
}

export async function startTokenServer(
  options: TokenServerOptions,
  teardown: Teardown,
): Promise<TokenServer> {
  const dir = teardown.tempDir("token");
  const keyFile = join(dir, "key.pem");
  const certificateFile = join(dir, "cert.pem");
  await runOk("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    certificateFile,
    "-days",
    "2",
    "-subj",
    "/CN=megalift-e2e-token-issuer",
  ]);
  const key = createPrivateKey(readFileSync(keyFile));
  const certificateDer = new X509Certificate(readFileSync(certificateFile)).raw;
  const service = "megalift-e2e-registry";
  const issuer = "megalift-e2e-issuer";
  const expected =
    "Basic " + Buffer.from(`${options.username}:${options.password}`).toString("base64");
  const log: TokenRequest[] = [];

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://token.invalid");
    // Several scopes may come as repeated parameters or space-separated (the spec allows both).
    const scopes = url.searchParams.getAll("scope").flatMap((s) => s.split(" ").filter(Boolean));
    const authorized = req.headers.authorization === expected;
    log.push({ scopes, authorized });
    if (url.pathname !== "/token" || url.searchParams.get("service") !== service || !authorized) {
      res.writeHead(401, {
        "content-type": "application/json",
        "www-authenticate": 'Basic realm="megalift-e2e-token"',
      });
      res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] }));
      return;
    }
    const access = scopes.map(grantedAccess).filter((a): a is Access => a !== undefined);
    const token = issueToken(key, certificateDer, {
      issuer,
      service,
      subject: options.username,
      access,
    });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        token,
        access_token: token,
        expires_in: 300,
        issued_at: new Date().toISOString(),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  teardown.defer("stop token server", () => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certificateFile,
    requests: () => log,
  };
}
