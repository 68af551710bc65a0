// Just enough of the wasm binary format (WebAssembly core spec §5.5 "Modules")
// to relabel a lifted module before linking: walk the sections, rewrite the
// export section's names, drop or append custom sections. Re-reading a
// many-megabyte module with binaryen only to rename one export would cost
// seconds; the sections are length-prefixed, so this costs a copy.
import { MegaliftError } from "../errors.js";

const MAGIC_AND_VERSION = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const SECTION_CUSTOM = 0;
const SECTION_IMPORT = 2;
const SECTION_EXPORT = 7;

export interface WasmSection {
  readonly id: number;
  /** The section's contents, without id and size. */
  readonly body: Uint8Array;
}

export interface WasmExport {
  readonly name: string;
  /** 0 func, 1 table, 2 memory, 3 global (§5.5.10). */
  readonly kind: number;
  readonly index: number;
}

function malformed(what: string): MegaliftError {
  return new MegaliftError("WASM_INVALID", `malformed wasm module: ${what}`);
}

class Reader {
  offset = 0;
  constructor(readonly bytes: Uint8Array) {}

  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.offset >= this.bytes.length) throw malformed("truncated LEB128");
      const byte = this.bytes[this.offset++] as number;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) break;
      shift += 7;
      if (shift > 28) throw malformed("LEB128 longer than 5 bytes");
    }
    return result;
  }

  take(length: number): Uint8Array {
    if (this.offset + length > this.bytes.length) throw malformed("section runs past the end");
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  name(): string {
    return new TextDecoder("utf-8", { fatal: true }).decode(this.take(this.u32()));
  }
}

export function encodeU32(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

function encodeName(name: string): Uint8Array {
  const bytes = new TextEncoder().encode(name);
  return Uint8Array.from([...encodeU32(bytes.length), ...bytes]);
}

export function readSections(module: Uint8Array): WasmSection[] {
  if (!MAGIC_AND_VERSION.every((b, i) => module[i] === b)) throw malformed("bad magic or version");
  const reader = new Reader(module);
  reader.offset = MAGIC_AND_VERSION.length;
  const sections: WasmSection[] = [];
  while (reader.offset < module.length) {
    const id = reader.take(1)[0] as number;
    sections.push({ id, body: reader.take(reader.u32()) });
  }
  return sections;
}

export function writeSections(sections: readonly WasmSection[]): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.from(MAGIC_AND_VERSION)];
  for (const s of sections) {
    parts.push(Uint8Array.from([s.id, ...encodeU32(s.body.length)]), s.body);
  }
  return Buffer.concat(parts);
}

export function readExports(section: WasmSection): WasmExport[] {
  const reader = new Reader(section.body);
  const count = reader.u32();
  const exports: WasmExport[] = [];
  for (let i = 0; i < count; i++) {
    const name = reader.name();
    const kind = reader.take(1)[0] as number;
    exports.push({ name, kind, index: reader.u32() });
  }
  return exports;
}

export interface WasmImport {
  readonly module: string;
  readonly name: string;
  /** The import description (§5.5.5) after the names, kept as bytes. */
  readonly desc: Uint8Array;
}

/** Skips one limits record (§5.3.7): a flags byte, min, and max when flag bit 0 is set. */
function skipLimits(reader: Reader): void {
  const flags = reader.take(1)[0] as number;
  reader.u32();
  if ((flags & 1) !== 0) reader.u32();
}

export function readImports(section: WasmSection): WasmImport[] {
  const reader = new Reader(section.body);
  const count = reader.u32();
  const imports: WasmImport[] = [];
  for (let i = 0; i < count; i++) {
    const module = reader.name();
    const name = reader.name();
    const start = reader.offset;
    const kind = reader.take(1)[0] as number;
    if (kind === 0) reader.u32();
    else if (kind === 1) {
      reader.take(1);
      skipLimits(reader);
    } else if (kind === 2) skipLimits(reader);
    else if (kind === 3) reader.take(2);
    else throw malformed(`import kind 0x${kind.toString(16)}`);
    imports.push({ module, name, desc: section.body.subarray(start, reader.offset) });
  }
  return imports;
}

function importSection(imports: readonly WasmImport[]): WasmSection {
  const parts: Uint8Array[] = [Uint8Array.from(encodeU32(imports.length))];
  for (const i of imports) parts.push(encodeName(i.module), encodeName(i.name), i.desc);
  return { id: SECTION_IMPORT, body: Buffer.concat(parts) };
}

function exportSection(exports: readonly WasmExport[]): WasmSection {
  const parts: number[] = [...encodeU32(exports.length)];
  for (const e of exports) parts.push(...encodeName(e.name), e.kind, ...encodeU32(e.index));
  return { id: SECTION_EXPORT, body: Uint8Array.from(parts) };
}

/** The payload of the first custom section called `name`, or undefined. */
export function customSectionPayload(module: Uint8Array, name: string): Uint8Array | undefined {
  for (const section of readSections(module)) {
    if (section.id !== SECTION_CUSTOM) continue;
    const reader = new Reader(section.body);
    if (reader.name() === name) return section.body.subarray(reader.offset);
  }
  return undefined;
}

export function customSection(name: string, payload: Uint8Array): WasmSection {
  return { id: SECTION_CUSTOM, body: Buffer.concat([encodeName(name), payload]) };
}

export interface Relabel {
  /** The new name of an export; undefined drops it. */
  readonly exportName?: (e: WasmExport) => string | undefined;
  /** The module name an import is taken from. */
  readonly importModule?: (i: WasmImport) => string;
}

/**
 * The module with exports and import module names relabelled and its custom
 * sections removed; every other section is copied byte for byte.
 */
export function relabelModule(module: Uint8Array, relabel: Relabel): Uint8Array {
  const out: WasmSection[] = [];
  for (const section of readSections(module)) {
    if (section.id === SECTION_CUSTOM) continue;
    if (section.id === SECTION_EXPORT && relabel.exportName !== undefined) {
      const rename = relabel.exportName;
      const kept: WasmExport[] = [];
      for (const e of readExports(section)) {
        const name = rename(e);
        if (name !== undefined) kept.push({ ...e, name });
      }
      out.push(exportSection(kept));
    } else if (section.id === SECTION_IMPORT && relabel.importModule !== undefined) {
      const from = relabel.importModule;
      out.push(importSection(readImports(section).map((i) => ({ ...i, module: from(i) }))));
    } else {
      out.push(section);
    }
  }
  return writeSections(out);
}

/** The module with one more custom section at its end. */
export function appendCustomSection(
  module: Uint8Array,
  name: string,
  payload: Uint8Array,
): Uint8Array {
  const section = customSection(name, payload);
  return Buffer.concat([
    module,
    Uint8Array.from([section.id, ...encodeU32(section.body.length)]),
    section.body,
  ]);
}
