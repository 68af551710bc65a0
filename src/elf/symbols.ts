// Symbol tables (gABI "Symbol Table"): .symtab (full, removed by strip) and
// .dynsym (what the dynamic linker uses, kept by strip). This file reads
// Elf64_Sym entries from a located table; dynamic-symbols.ts finds .dynsym
// without section headers and symbol-versions.ts attaches GNU versions.
import { ByteReader, elfMalformed } from "./byte-reader.js";
import {
  ELF64_SYM_SIZE,
  SHN_ABS,
  SHN_XINDEX,
  SHT_DYNSYM,
  SHT_NOBITS,
  SHT_SYMTAB,
  SHT_SYMTAB_SHNDX,
} from "./constants.js";
import type { SectionHeader } from "./sections.js";
import type { SymbolVersion } from "./symbol-versions.js";

/** Where a symbol table and its string table lie in the file. */
export interface SymbolTable {
  /** SHT_SYMTAB (".symtab") or SHT_DYNSYM (".dynsym" or DT_SYMTAB). */
  readonly kind: "symtab" | "dynsym";
  /** The section, or undefined when located through the dynamic section (DT_SYMTAB). */
  readonly sectionIndex?: number;
  readonly offset: number;
  readonly entrySize: number;
  /** Entries including the null symbol at index 0. */
  readonly count: number;
  /** Index of the string table section holding the names (sh_link), when located by section. */
  readonly stringTableIndex?: number;
  /** File offset and size of the string table (.strtab, .dynstr, DT_STRTAB/DT_STRSZ). */
  readonly strings: { readonly offset: number; readonly size: number };
  /** File offset of the SHT_SYMTAB_SHNDX section that extends st_shndx, if any. */
  readonly extendedIndexOffset?: number;
}

/** st_info & 0xf, spelled as readelf does; "OTHER" for OS/processor-specific values. */
export type SymbolType =
  "NOTYPE" | "OBJECT" | "FUNC" | "SECTION" | "FILE" | "COMMON" | "TLS" | "IFUNC" | "OTHER";
/** st_info >> 4 (STB_GNU_UNIQUE is "UNIQUE"). */
export type SymbolBinding = "LOCAL" | "GLOBAL" | "WEAK" | "UNIQUE" | "OTHER";
/** st_other & 3. */
export type SymbolVisibility = "DEFAULT" | "INTERNAL" | "HIDDEN" | "PROTECTED";

export interface ElfSymbol {
  readonly index: number;
  /** The bare name, without any version. */
  readonly name: string;
  /** st_value: an address in executables and shared objects (a TLS offset for TLS symbols). */
  readonly value: bigint;
  readonly size: bigint;
  /** STT_NOTYPE 0, STT_OBJECT 1, STT_FUNC 2, STT_SECTION 3, STT_FILE 4, STT_TLS 6, STT_GNU_IFUNC 10 (st_info & 0xf). */
  readonly type: number;
  /** The type as readelf spells it: "FUNC", "OBJECT", "IFUNC", "TLS" ... */
  readonly typeName: SymbolType;
  /** STB_LOCAL 0, STB_GLOBAL 1, STB_WEAK 2, STB_GNU_UNIQUE 10 (st_info >> 4). */
  readonly bind: number;
  /** "LOCAL", "GLOBAL", "WEAK", "UNIQUE". */
  readonly bindName: SymbolBinding;
  /** STV_DEFAULT 0, STV_INTERNAL 1, STV_HIDDEN 2, STV_PROTECTED 3 (st_other & 3). */
  readonly visibility: number;
  /** "DEFAULT", "INTERNAL", "HIDDEN", "PROTECTED". */
  readonly visibilityName: SymbolVisibility;
  /** st_shndx, SHN_XINDEX resolved: SHN_UNDEF 0 for imports, SHN_ABS 0xfff1 ... */
  readonly sectionIndex: number;
  /** The GNU symbol version (dynamic symbols only; absent for local and unversioned ones). */
  readonly version?: SymbolVersion;
}

const TYPES: readonly SymbolType[] = [
  "NOTYPE",
  "OBJECT",
  "FUNC",
  "SECTION",
  "FILE",
  "COMMON",
  "TLS",
];
const BINDINGS: readonly SymbolBinding[] = ["LOCAL", "GLOBAL", "WEAK"];
const VISIBILITIES: readonly SymbolVisibility[] = ["DEFAULT", "INTERNAL", "HIDDEN", "PROTECTED"];

function typeName(type: number): SymbolType {
  return type === 10 ? "IFUNC" : (TYPES[type] ?? "OTHER"); // 10: STT_GNU_IFUNC
}

function bindingName(binding: number): SymbolBinding {
  return binding === 10 ? "UNIQUE" : (BINDINGS[binding] ?? "OTHER"); // 10: STB_GNU_UNIQUE
}

/** The first SHT_SYMTAB and SHT_DYNSYM sections, checked for a sane shape. */
export function locateSymbolTables(sections: readonly SectionHeader[]): {
  symtab?: SymbolTable;
  dynsym?: SymbolTable;
} {
  const find = (type: number, kind: SymbolTable["kind"]): SymbolTable | undefined => {
    const section = sections.find((s) => s.type === type);
    if (section === undefined) return undefined;
    const entrySize = section.entsize === 0 ? ELF64_SYM_SIZE : section.entsize;
    if (entrySize < ELF64_SYM_SIZE) {
      elfMalformed(
        `${kind} section ${section.index} sh_entsize ${entrySize} is below 24`,
        section.offset,
      );
    }
    const strings = sections[section.link];
    if (section.link === 0 || strings === undefined || strings.type === SHT_NOBITS) {
      elfMalformed(
        `${kind} section ${section.index} names string table ${section.link}, which does not exist`,
        section.offset,
      );
    }
    const shndx = sections.find((s) => s.type === SHT_SYMTAB_SHNDX && s.link === section.index);
    const count = Math.floor(section.size / entrySize);
    if (shndx !== undefined && shndx.size < count * 4) {
      elfMalformed(
        `SHT_SYMTAB_SHNDX section ${shndx.index} is shorter than its table`,
        shndx.offset,
      );
    }
    return Object.freeze({
      kind,
      sectionIndex: section.index,
      offset: section.offset,
      entrySize,
      count,
      stringTableIndex: section.link,
      strings: Object.freeze({ offset: strings.offset, size: strings.size }),
      ...(shndx !== undefined ? { extendedIndexOffset: shndx.offset } : {}),
    });
  };
  return { symtab: find(SHT_SYMTAB, "symtab"), dynsym: find(SHT_DYNSYM, "dynsym") };
}

/**
 * Every entry of a symbol table (Elf64_Sym), names resolved through its
 * string table. `versionOf` attaches GNU versions to dynamic symbols; the
 * Elf64File methods staticSymbols() and dynamicSymbols() are the usual way in.
 * (`_sections` is unused — the table carries its string table — and kept so
 * existing callers compile.)
 */
export function readSymbols(
  reader: ByteReader,
  _sections: readonly SectionHeader[],
  table: SymbolTable,
  versionOf?: (index: number, sectionIndex: number) => SymbolVersion | undefined,
): ElfSymbol[] {
  const { offset: strOffset, size: strSize } = table.strings;
  reader.requireRange(table.offset, table.count * table.entrySize, `${table.kind} table`);
  const symbols: ElfSymbol[] = [];
  for (let index = 0; index < table.count; index++) {
    const at = table.offset + index * table.entrySize;
    const what = `${table.kind} symbol ${index}`;
    const nameOffset = reader.u32(at, `${what} st_name`);
    const info = reader.u8(at + 4, `${what} st_info`);
    const other = reader.u8(at + 5, `${what} st_other`);
    if (nameOffset >= strSize && nameOffset !== 0) {
      elfMalformed(`${what} name offset ${nameOffset} is past its string table`, at);
    }
    let sectionIndex = reader.u16(at + 6, `${what} st_shndx`);
    if (sectionIndex === SHN_XINDEX && table.extendedIndexOffset !== undefined) {
      sectionIndex = reader.u32(table.extendedIndexOffset + index * 4, `${what} extended index`);
    }
    const version = versionOf?.(index, sectionIndex);
    symbols.push(
      Object.freeze({
        index,
        name:
          strSize === 0 ? "" : reader.cString(strOffset + nameOffset, strOffset + strSize, what),
        value: reader.u64(at + 8, `${what} st_value`),
        size: reader.u64(at + 16, `${what} st_size`),
        type: info & 0xf,
        typeName: typeName(info & 0xf),
        bind: info >> 4,
        bindName: bindingName(info >> 4),
        visibility: other & 3,
        visibilityName: VISIBILITIES[other & 3] ?? "DEFAULT",
        sectionIndex,
        ...(version !== undefined ? { version } : {}),
      }),
    );
  }
  return symbols;
}

/**
 * The name with its version as the GNU tools write it: "memcpy@@GLIBC_2.14"
 * for a default (defined, not hidden) version, "memcpy@GLIBC_2.2.5" for a
 * hidden or required one, the bare name for an unversioned symbol — and for
 * the absolute symbol ld emits to name each version ("GLIBC_2.14").
 */
export function versionedName(symbol: ElfSymbol): string {
  const v = symbol.version;
  if (v === undefined) return symbol.name;
  if (symbol.sectionIndex === SHN_ABS && v.defined && symbol.name === v.name) return symbol.name;
  return `${symbol.name}${v.defined && !v.hidden ? "@@" : "@"}${v.name}`;
}
