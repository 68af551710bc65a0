// The Range request header for blobs (RFC 9110 §14.1.2 byte ranges;
// distribution-spec "Pulling blobs" lets registries honour Range on GET).
// A single byte range is served as 206; multiple ranges and malformed
// headers are ignored (the full blob is sent), as RFC 9110 §14.2 allows.
import { RegistryError } from "./registry-error.js";

/** A satisfiable byte range: `start` inclusive, `end` inclusive. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

type RangeSpec =
  | { readonly kind: "from"; readonly start: number; readonly end?: number }
  | { readonly kind: "suffix"; readonly length: number };

/** Parses `bytes=a-b`, `bytes=a-`, `bytes=-n`; undefined when absent, malformed or multiple. */
export function parseRangeHeader(header: string | null | undefined): RangeSpec | undefined {
  if (header === null || header === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return undefined;
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return undefined;
  if (first === "") return { kind: "suffix", length: Number(last) };
  const start = Number(first);
  if (last === "") return { kind: "from", start };
  const end = Number(last);
  if (end < start) return undefined;
  return { kind: "from", start, end };
}

/**
 * The range of a blob of `size` bytes to serve: undefined for the whole blob,
 * a ByteRange for a 206, or a 416 RegistryError (whose Content-Range names
 * the size) when the range cannot be satisfied.
 */
export function resolveRange(
  header: string | null | undefined,
  size: number,
): ByteRange | undefined {
  const spec = parseRangeHeader(header);
  if (spec === undefined) return undefined;
  if (spec.kind === "suffix") {
    if (spec.length === 0 || size === 0) throw unsatisfiable(size);
    return { start: Math.max(0, size - spec.length), end: size - 1 };
  }
  if (spec.start >= size) throw unsatisfiable(size);
  return { start: spec.start, end: Math.min(spec.end ?? size - 1, size - 1) };
}

function unsatisfiable(size: number): RegistryError {
  return new RegistryError(
    416,
    "SIZE_INVALID",
    `requested range not satisfiable: the blob is ${size} bytes`,
    {
      headers: { "Content-Range": `bytes */${size}` },
      detail: { size },
    },
  );
}
