// The dispatch pushes are sent through: the same retry, auth and redirect
// layers as the pull client (client.ts), over a base that also sends POST and
// PUT with a body. A body is a function that opens it afresh, because the
// layers may send one request several times: after a 5xx (retry), after a 401
// (auth answers the challenge and resends) and after a 307/308 (redirect).
import { Readable } from "node:stream";
import { request, type Dispatcher } from "undici";
import { TOOL_VERSION } from "../version.js";
import { authLayer } from "./auth.js";
import {
  composeLayers,
  readBody,
  undiciDispatch,
  type Dispatch,
  type UpstreamRequest,
  type UpstreamResponse,
} from "./dispatch.js";
import { redirectLayer } from "./redirect.js";
import {
  DEFAULT_RETRY_POLICY,
  retryLayer,
  systemClock,
  type Clock,
  type RetryPolicy,
} from "./retry.js";
import type { CredentialsProvider, RegistryEndpoint } from "./types.js";

export type PushMethod = "GET" | "HEAD" | "POST" | "PUT";

export interface PushRequest extends Omit<UpstreamRequest, "method"> {
  readonly method: PushMethod;
  /** Opens the request body; called once per attempt. Sent with the Content-Length in `headers`. */
  readonly body?: () => Promise<Uint8Array | Readable>;
}

export type PushDispatch = (request: PushRequest) => Promise<UpstreamResponse>;

export interface PushDispatchOptions {
  readonly endpoint: RegistryEndpoint;
  readonly credentials?: CredentialsProvider;
  readonly retry?: Partial<RetryPolicy>;
  readonly dispatcher?: Dispatcher;
  readonly clock?: Clock;
}

/** docker token auth "Token Scope Documentation": what a push to `repository` needs. */
export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

export const USER_AGENT = `megalift/${TOOL_VERSION}`;

/** The base: one request through undici, with a body when the request has one. */
function undiciPushDispatch(dispatcher: Dispatcher | undefined): PushDispatch {
  const withoutBody = undiciDispatch(dispatcher);
  return async (req) => {
    if (req.method === "GET" || req.method === "HEAD")
      return withoutBody({ ...req, method: req.method });
    const body = req.body ? await req.body() : undefined;
    const response = await request(req.url, {
      method: req.method,
      headers: Object.fromEntries(
        Object.entries(req.headers).map(([name, value]) => [
          name,
          typeof value === "string" ? value : [...value],
        ]),
      ),
      ...(body !== undefined ? { body } : {}),
      ...(dispatcher !== undefined ? { dispatcher } : {}),
      ...(req.signal !== undefined ? { signal: req.signal } : {}),
    });
    const result: UpstreamResponse = {
      status: response.statusCode,
      headers: response.headers,
      url: req.url,
      body: response.body,
    };
    if (req.bufferBody === undefined || response.statusCode < 200 || response.statusCode >= 300) {
      return result;
    }
    return {
      ...result,
      body: Readable.from([Buffer.from(await readBody(result, req.bufferBody, req.what))]),
    };
  };
}

/**
 * A PushDispatch with retries (outermost), auth and redirects, composed as
 * client.ts composes them. The layers are typed for pull requests (GET/HEAD)
 * but pass any request on by spreading it (`{ ...req, headers }`), so the
 * method and body reach the base intact; the casts below only widen the
 * request type across them. Token requests of the auth layer are GETs.
 */
export function createPushDispatch(options: PushDispatchOptions): PushDispatch {
  const clock = options.clock ?? systemClock;
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const base = undiciPushDispatch(options.dispatcher);
  const send: Dispatch = base;
  const retry = retryLayer(policy, clock);
  const redirect = redirectLayer();
  const auth = authLayer({
    host: options.endpoint.host,
    tokenDispatch: composeLayers(send, retry, redirect),
    now: () => clock.now(),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const layered = composeLayers(send, retry, auth, redirect);
  return (req) => layered(req as unknown as UpstreamRequest);
}
