// Parses WWW-Authenticate (RFC 7235 §4.1): one or more challenges per header
// line, each a scheme followed by a token68 or comma-separated auth-params
// whose values are tokens or quoted-strings (RFC 7230 §3.2.6). Registries
// send "Bearer realm=...,service=...,scope=..." (docker token auth spec
// "How to authenticate") or "Basic realm=...".

export interface Challenge {
  /** The auth-scheme, lower-cased ("bearer", "basic"): schemes are case-insensitive (RFC 7235 §2.1). */
  readonly scheme: string;
  /** Parameter names lower-cased (RFC 7235 §2.1: case-insensitive), values unquoted. */
  readonly params: Readonly<Record<string, string>>;
  readonly token68?: string;
}

// RFC 7230 §3.2.6 tchar.
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const SCHEME_RE = new RegExp(TOKEN, "y");
const PARAM_RE = new RegExp(`(${TOKEN})[ \\t]*=[ \\t]*("(?:[^"\\\\]|\\\\.)*"|${TOKEN})`, "y");
// RFC 7235 §2.1 token68, which must stand alone up to the next comma or the end.
const TOKEN68_RE = /([A-Za-z0-9\-._~+/]+=*)[ \t]*(?=,|$)/y;
const SPACE_RE = /[ \t]*/y;
const SEPARATORS_RE = /[ \t,]*/y;

function skip(re: RegExp, text: string, pos: number): number {
  re.lastIndex = pos;
  re.exec(text);
  return re.lastIndex;
}

function matchAt(re: RegExp, text: string, pos: number): RegExpExecArray | null {
  re.lastIndex = pos;
  return re.exec(text);
}

function unquote(value: string): string {
  if (!value.startsWith('"')) return value;
  // RFC 7230 §3.2.6 quoted-pair: a backslash escapes the next character.
  return value.slice(1, -1).replace(/\\(.)/g, "$1");
}

/** Every challenge in the given header values (repeated lines or one line with several). */
export function parseWwwAuthenticate(values: readonly string[]): Challenge[] {
  const challenges: Challenge[] = [];
  for (const text of values) parseLine(text, challenges);
  return challenges;
}

function parseLine(text: string, out: Challenge[]): void {
  let pos = skip(SEPARATORS_RE, text, 0);
  while (pos < text.length) {
    const scheme = matchAt(SCHEME_RE, text, pos);
    if (!scheme) {
      // Malformed: resynchronise at the next comma.
      const comma = text.indexOf(",", pos);
      if (comma < 0) return;
      pos = skip(SEPARATORS_RE, text, comma);
      continue;
    }
    pos = skip(SPACE_RE, text, SCHEME_RE.lastIndex);
    const params: Record<string, string> = {};
    let token68: string | undefined;
    const first = matchAt(PARAM_RE, text, pos);
    if (!first) {
      const t68 = matchAt(TOKEN68_RE, text, pos);
      if (t68) {
        token68 = t68[1];
        pos = TOKEN68_RE.lastIndex;
      }
    } else {
      // auth-params until something that is not "name=value" (the next challenge's scheme).
      let param: RegExpExecArray | null = first;
      while (param) {
        params[(param[1] ?? "").toLowerCase()] = unquote(param[2] ?? "");
        pos = skip(SEPARATORS_RE, text, PARAM_RE.lastIndex);
        param = matchAt(PARAM_RE, text, pos);
      }
    }
    out.push({ scheme: scheme[0].toLowerCase(), params, ...(token68 ? { token68 } : {}) });
    pos = skip(SEPARATORS_RE, text, pos);
  }
}
