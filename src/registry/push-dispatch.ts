// The dispatch pushes are sent through: the same retry, auth and redirect
// layers and undici base as the pull client (client.ts), with push scope.
// Request bodies open afresh per attempt (dispatch.ts UpstreamRequest.body).
import type { Dispatcher } from "undici";
import { TOOL_VERSION } from "../version.js";
import { authLayer } from "./auth.js";
import { composeLayers, undiciDispatch, type Dispatch, type UpstreamRequest } from "./dispatch.js";
import { redirectLayer } from "./redirect.js";
import {
  DEFAULT_RETRY_POLICY,
  retryLayer,
  systemClock,
  type Clock,
  type RetryPolicy,
} from "./retry.js";
import type { CredentialsProvider, RegistryEndpoint } from "./types.js";

/** A push request: the pull request shape with POST/PUT and a body (dispatch.ts). */
export type PushRequest = UpstreamRequest;
export type PushDispatch = Dispatch;

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

/**
 * A dispatch with retries (outermost), auth and redirects, composed as
 * client.ts composes them; the layers pass the method and body on unchanged.
 * Token requests of the auth layer are GETs.
 */
export function createPushDispatch(options: PushDispatchOptions): PushDispatch {
  const clock = options.clock ?? systemClock;
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const send = undiciDispatch(options.dispatcher);
  const retry = retryLayer(policy, clock);
  const redirect = redirectLayer();
  const auth = authLayer({
    host: options.endpoint.host,
    tokenDispatch: composeLayers(send, retry, redirect),
    now: () => clock.now(),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  return composeLayers(send, retry, auth, redirect);
}
