// The final module of a sharded lift, spliced from binaries (issue 4 item
// 7): the skeleton's sections (types, imports, function declarations,
// globals, exports, metadata — and the dispatcher's code) with each function
// body taken from the shard that owns it. Sound only because every shard
// has the skeleton's index space (lift-shard-layout.ts): the sections that
// define it must be byte-identical, which splice checks
// (WebAssembly core spec §5.5 for the section and code entry encodings).
import type { FunctionSlot } from "./lift-shard-layout.js";

const CODE_SECTION = 10;
/** Sections whose bytes fix the index space: type, import, function, global. */
const INDEX_SECTIONS = [1, 2, 3, 6];

interface Section {
  readonly id: number;
  /** The whole section, id and size included. */
  readonly start: number;
  readonly end: number;
  /** Its contents, after the size. */
  readonly body: number;
}

function readU32(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++];
    if (b === undefined) throw new Error("truncated LEB128 in a shard module");
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return { value, next: at };
    shift += 7;
  }
}

function writeU32(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) b |= 0x80;
    out.push(b);
  } while (value !== 0);
  return out;
}

function sections(bytes: Uint8Array): Section[] {
  const list: Section[] = [];
  let at = 8; // magic and version
  while (at < bytes.length) {
    const id = bytes[at] as number;
    const size = readU32(bytes, at + 1);
    list.push({ id, start: at, end: size.next + size.value, body: size.next });
    at = size.next + size.value;
  }
  return list;
}

/** The code entries (size prefix included) of a module's code section, in function order. */
function codeEntries(bytes: Uint8Array, code: Section): Uint8Array[] {
  const count = readU32(bytes, code.body);
  const entries: Uint8Array[] = [];
  let at = count.next;
  for (let i = 0; i < count.value; i++) {
    const size = readU32(bytes, at);
    entries.push(bytes.subarray(at, size.next + size.value));
    at = size.next + size.value;
  }
  return entries;
}

function sectionBytes(bytes: Uint8Array, list: Section[], id: number): Uint8Array | undefined {
  const s = list.find((x) => x.id === id);
  return s === undefined ? undefined : bytes.subarray(s.start, s.end);
}

function equalBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/**
 * The skeleton with each defined function's code entry from its owner's
 * binary (`shards[owner]`). `functions` is the layout's list (imports first,
 * as binaryen numbers them).
 */
export function spliceShards(
  skeleton: Uint8Array,
  shards: readonly Uint8Array[],
  functions: readonly FunctionSlot[],
): Uint8Array {
  const skeletonSections = sections(skeleton);
  const skeletonCode = skeletonSections.find((s) => s.id === CODE_SECTION);
  if (skeletonCode === undefined) throw new Error("the skeleton module has no code section");
  const defined = functions.filter((f) => f.import === undefined);
  const parsed = shards.map((bytes, index) => {
    const list = sections(bytes);
    for (const id of INDEX_SECTIONS) {
      if (!equalBytes(sectionBytes(bytes, list, id), sectionBytes(skeleton, skeletonSections, id)))
        throw new Error(`shard ${index}: section ${id} differs from the skeleton's`);
    }
    const code = list.find((s) => s.id === CODE_SECTION);
    if (code === undefined) throw new Error(`shard ${index} has no code section`);
    return codeEntries(bytes, code);
  });
  const own = codeEntries(skeleton, skeletonCode);
  if (own.length !== defined.length) throw new Error("the skeleton does not match its layout");
  const entries = defined.map((f, i) => {
    const from = f.owner < 0 ? own : parsed[f.owner];
    const entry = from?.[i];
    if (entry === undefined) throw new Error(`no code for ${f.name} in shard ${f.owner}`);
    return entry;
  });
  const count = writeU32(entries.length);
  const bodySize = count.length + entries.reduce((n, e) => n + e.length, 0);
  const header = [CODE_SECTION, ...writeU32(bodySize)];
  const out = new Uint8Array(
    skeletonCode.start + header.length + bodySize + (skeleton.length - skeletonCode.end),
  );
  out.set(skeleton.subarray(0, skeletonCode.start), 0);
  let at = skeletonCode.start;
  out.set(header, at);
  at += header.length;
  out.set(count, at);
  at += count.length;
  for (const e of entries) {
    out.set(e, at);
    at += e.length;
  }
  out.set(skeleton.subarray(skeletonCode.end), at);
  return out;
}

function name(text: string): number[] {
  const bytes = new TextEncoder().encode(text);
  return [...writeU32(bytes.length), ...bytes];
}

/**
 * `wasm` with a name section naming its functions (the lifted module
 * carries none), so its text shows `$f_401000` rather than indices
 * (WebAssembly core spec, appendix "Name Section").
 */
export function withFunctionNames(
  wasm: Uint8Array,
  functions: readonly FunctionSlot[],
): Uint8Array {
  const names = functions.flatMap((f, i) => [...writeU32(i), ...name(f.name)]);
  const subsection = [...writeU32(functions.length), ...names];
  const body = [...name("name"), 1, ...writeU32(subsection.length), ...subsection];
  const section = [0, ...writeU32(body.length), ...body];
  const out = new Uint8Array(wasm.length + section.length);
  out.set(wasm, 0);
  out.set(section, wasm.length);
  return out;
}
