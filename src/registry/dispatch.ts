// The one dispatch function the registry client is built around, and the
// layer type that wraps it. Auth, retries and redirects are layers
// (`(next) => dispatch`), composed in client.ts; the base dispatch here only
// sends one request with undici and hands back the status, headers and body.
import { Readable } from "node:stream";
import { request, type Dispatcher } from "undici";
import { MegaliftError } from "../errors.js";

export type HttpHeaders = Readonly<Record<string, string | readonly string[]>>;
export type ResponseHeaders = Readonly<Record<string, string | string[] | undefined>>;

export interface UpstreamRequest {
  /** Pulls are GET/HEAD; pushes (push-dispatch.ts) also POST and PUT. */
  readonly method: "GET" | "HEAD" | "POST" | "PUT";
  readonly url: URL;
  /** Lower-case names; an array value is sent as repeated header lines. */
  readonly headers: HttpHeaders;
  /** The token scope this request needs (docker token auth "scope"): repository:NAME:pull. */
  readonly scope?: string;
  readonly signal?: AbortSignal;
  /**
   * Read a 2xx body fully (up to this many bytes) before answering, so a body
   * that breaks is retried like a request that failed. For small documents.
   */
  readonly bufferBody?: number;
  /** What is being fetched, for one-line error messages: "manifest localhost:5000/a/b:latest". */
  readonly what: string;
  /**
   * Opens the request body afresh for each attempt: the layers may send one
   * request several times (a 5xx retry, a 401 answered, a 307/308 followed).
   * Sent with the Content-Length in `headers`.
   */
  readonly body?: () => Promise<Uint8Array | Readable>;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: ResponseHeaders;
  /** The URL that answered (after redirects). */
  readonly url: URL;
  readonly body: Readable;
}

export type Dispatch = (request: UpstreamRequest) => Promise<UpstreamResponse>;
export type DispatchLayer = (next: Dispatch) => Dispatch;

/** Wraps `base` in `layers`, the first listed outermost. */
export function composeLayers(base: Dispatch, ...layers: readonly DispatchLayer[]): Dispatch {
  return layers.reduceRight<Dispatch>((next, layer) => layer(next), base);
}

/** The base dispatch: one HTTP request through undici, no redirects followed. */
export function undiciDispatch(dispatcher?: Dispatcher): Dispatch {
  return async (req) => {
    const body = req.body ? await req.body() : undefined;
    const response = await request(req.url, {
      method: req.method,
      headers: toUndiciHeaders(req.headers),
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
    const bytes = await readBody(result, req.bufferBody, req.what);
    return { ...result, body: Readable.from([Buffer.from(bytes)]) };
  };
}

function toUndiciHeaders(headers: HttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = typeof value === "string" ? value : [...value];
  }
  return out;
}

/** The first value of a response header (names are lower-case in undici). */
export function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Every value of a response header, whether sent as repeated lines or not. */
export function headerValues(headers: ResponseHeaders, name: string): string[] {
  const value = headers[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Reads a response body to the end; MANIFEST_INVALID if it is larger than `maxBytes`. */
export async function readBody(
  response: UpstreamResponse,
  maxBytes: number,
  what: string,
): Promise<Uint8Array> {
  const declared = Number(headerValue(response.headers, "content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.body.destroy();
    throw tooLarge(what, maxBytes);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > maxBytes) {
      response.body.destroy();
      throw tooLarge(what, maxBytes);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, total);
}

function tooLarge(what: string, maxBytes: number): MegaliftError {
  return new MegaliftError(
    "MANIFEST_INVALID",
    `${what}: the registry sent more than the ${maxBytes} bytes megalift reads`,
  );
}

/** Throws the body of a response away (so its connection can be reused), ignoring errors. */
export async function discardBody(response: UpstreamResponse): Promise<void> {
  try {
    for await (const _chunk of response.body) {
      // drained
    }
  } catch {
    // a body we do not want may break; nothing depends on it
  }
}

/** Reads a small error body as text, at most `maxBytes`, never throwing. */
export async function readErrorBody(
  response: UpstreamResponse,
  maxBytes = 64 * 1024,
): Promise<string> {
  try {
    return Buffer.from(await readBody(response, maxBytes, "error body")).toString("utf8");
  } catch {
    return "";
  }
}
