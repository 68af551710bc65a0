// Plain HTTP against a registry (the proxy) for what no client shows: status
// codes, OCI error bodies and headers of single requests.
export interface OciErrorAnswer {
  readonly status: number;
  /** `errors[0].code` of the OCI error body; undefined when the body is not one. */
  readonly code: string | undefined;
  readonly body: string;
}

export async function ociErrorAnswer(url: string, init: RequestInit = {}): Promise<OciErrorAnswer> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  const body = await res.text();
  let code: string | undefined;
  try {
    const parsed = JSON.parse(body) as { errors?: { code?: unknown; message?: unknown }[] };
    const first = parsed.errors?.[0];
    if (typeof first?.code === "string" && typeof first.message === "string") code = first.code;
  } catch {
    code = undefined;
  }
  return { status: res.status, code, body };
}
